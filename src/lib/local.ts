import {CtlError} from './errors.js'
import {lastLines} from './output.js'

/** The one way ctl runs a process on the operator's own machine (the lab, local tools). */
export interface LocalResult {
  command: string
  code: number
  stdout: string
  stderr: string
}

export interface LocalOptions {
  timeoutMs?: number
  input?: string
  env?: Record<string, string | undefined>
  /** Start from an empty environment plus `env` (e.g. keep PG* variables away from Patroni). */
  cleanEnv?: boolean
  cwd?: string
  /** Throw a CtlError on a non-zero exit (default true). */
  check?: boolean
}

export async function runLocal(argv: readonly string[], options: LocalOptions = {}): Promise<LocalResult> {
  const [file, ...args] = argv
  if (!file) throw new Error('runLocal needs a program')
  // execa loads on the first local process, not at start-up (bench/startup.sh).
  const {execa} = await import('execa')
  const result = await execa(file, args, {
    reject: false,
    timeout: options.timeoutMs ?? 120_000,
    input: options.input,
    env: options.env,
    extendEnv: !options.cleanEnv,
    cwd: options.cwd,
    stripFinalNewline: true,
  })
  const out: LocalResult = {
    command: argv.join(' '),
    code: result.exitCode ?? (result.timedOut ? 124 : 1),
    stdout: String(result.stdout ?? ''),
    stderr: String(result.stderr ?? ''),
  }
  if ((options.check ?? true) && out.code !== 0) {
    throw new CtlError(`Local command failed (exit ${out.code}): ${out.command}\n${lastLines(out, 5)}`, {code: 'local.failed'})
  }
  return out
}
