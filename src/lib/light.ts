import {format, inspect} from 'node:util'
import {ExitCode, toCtlError} from './errors.js'
import {setProgressQuiet} from './progress.js'
import {redact, redactDeep} from './redact.js'

/**
 * Light commands: commands that `bin/run.js` may run without loading oclif (about 4x a bare Node at
 * start, docs/PERFORMANCE.md). Such a command keeps its oclif class (help, the manifest, every argv
 * that is not plain) and names, in its static `light`, a function of a module that imports no oclif;
 * its class's `run()` calls that same function. The build bundles that function with `runLight` into
 * one file, dist/light/<topic>-<command>.<hash>.cjs (scripts/light.mjs); `bin/run.js` takes that path
 * only for a plain argv (src/lib/light-argv.ts: the command's words, its arguments, its boolean flags),
 * else oclif runs the command.
 *
 * Everything a command prints goes through here, on both paths, so both print the same.
 */

/** Where a command writes its lines (the oclif class itself, or the light path's console). */
export interface CommandLog {
  log(message?: string): void
  logToStderr(message?: string): void
}

/** What a light command receives: its parsed arguments and flags, like oclif's `this.parse()`. */
export interface LightInput {
  args: Record<string, string>
  flags: Record<string, boolean | undefined>
}

/** The function a light command names in its static `light` (`{module, export}`, relative to the command's file). */
export type LightRun = (input: LightInput, out: CommandLog) => Promise<unknown>

/** A line as ctl prints it: formatted like console.log, secrets redacted. */
export function outputLine(message: unknown, args: unknown[]): string {
  return redact(format(typeof message === 'string' ? message : inspect(message), ...args))
}

/**
 * The value printed for `--json`: as JSON first (Dates become strings, toJSON applies), so redaction
 * sees what will be printed; `unredactedKey`, a top-level key, is kept as it is.
 */
export function outputJson(json: unknown, unredactedKey?: string): unknown {
  const plain: unknown = json === undefined ? json : JSON.parse(JSON.stringify(json))
  const redacted = redactDeep(plain)
  if (unredactedKey && isRecord(plain) && isRecord(redacted) && unredactedKey in plain) redacted[unredactedKey] = plain[unredactedKey]
  return redacted
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Runs a light command as CtlCommand under oclif does: progress quiet under `--json`; lines (none
 * under `--json`) and the JSON result, redacted; an error printed as `Error: <message>` with its hint
 * (or as JSON) and ending the process with its exit code (1 unless a CtlError says otherwise).
 * Prints JSON as oclif does without a theme (bin/run.js leaves a user theme to oclif).
 */
export async function runLight(run: LightRun, input: LightInput, json: boolean): Promise<void> {
  setProgressQuiet(json)
  const out: CommandLog = {
    log(message = '') {
      if (!json) console.log(outputLine(message, []))
    },
    logToStderr(message = '') {
      if (!json) console.error(outputLine(message, []))
    },
  }
  let result: unknown
  try {
    result = await run(input, out)
  } catch (error) {
    const ctlError = toCtlError(error, {exitCode: ExitCode.failed})
    if (json) console.log(JSON.stringify(outputJson(ctlError.toJSON()), undefined, 2))
    else console.error(outputLine(`Error: ${ctlError.describe()}`, []))
    process.exit(ctlError.exitCode)
  }
  if (result && json) console.log(JSON.stringify(outputJson(result), undefined, 2))
}
