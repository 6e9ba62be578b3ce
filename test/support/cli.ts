import {execa} from 'execa'
import {join} from 'node:path'

export const projectRoot = join(import.meta.dirname, '..', '..')

export interface CliRun {
  exitCode: number
  stdout: string
  stderr: string
}

/** Runs the built `ctl` binary (dist/) as an operator would, with no terminal. */
export async function runCtl(args: string[], options: {env?: Record<string, string>; input?: string; timeoutMs?: number} = {}): Promise<CliRun> {
  const result = await execa(join(projectRoot, 'bin', 'run.js'), args, {
    cwd: projectRoot,
    reject: false,
    env: {CTL_NONINTERACTIVE: '1', ...options.env},
    input: options.input ?? '',
    timeout: options.timeoutMs ?? 300_000,
  })
  return {exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr)}
}

/** Parses the JSON a `--json` run printed. */
export function json<T = any>(run: CliRun): T {
  try {
    return JSON.parse(run.stdout) as T
  } catch {
    throw new Error(`not JSON (exit ${run.exitCode}):\n${run.stdout}\n${run.stderr}`)
  }
}
