import {execFileSync} from 'node:child_process'
import {chmodSync, mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

/**
 * A scratch directory for running built scripts in a real shell: `existing` is a directory already
 * there with mode 0755, and `run` executes a script under umask 022 with the stand-in programs
 * (`programs`: name → sh body) first on PATH.
 */
export function scratch(prefix: string, programs: Record<string, string>): {root: string; existing: string; run: (script: string, input?: string) => string} {
  const root = mkdtempSync(join(tmpdir(), prefix))
  const existing = join(root, 'existing')
  mkdirSync(existing)
  chmodSync(existing, 0o755)
  const bin = join(root, 'bin')
  mkdirSync(bin)
  for (const [name, body] of Object.entries(programs)) writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`, {mode: 0o755})
  const run = (script: string, input = '') =>
    execFileSync('sh', ['-c', `umask 022; ${script}`], {input, encoding: 'utf8', env: {PATH: `${bin}:${process.env.PATH}`}})
  return {root, existing, run}
}
