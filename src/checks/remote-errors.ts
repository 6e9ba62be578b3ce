import {CtlError, ExitCode} from '../lib/errors.js'
import type {RemoteResult} from '../ssh/pool.js'
import {lastLines} from '../lib/output.js'

/** Exit code of a shell that could not find the program. */
export const COMMAND_NOT_FOUND = 127

/** The error for a check whose tool is missing on the host: a result of its own, never a failure of the platform. */
function toolMissing(result: RemoteResult, tool: string, hint?: string): CtlError {
  return new CtlError(`cannot run: ${tool} not found on ${result.node}`, {
    host: result.node,
    exitCode: ExitCode.cannotRun,
    code: 'check.tool-missing',
    hint: hint ?? `Install ${tool} on ${result.node}, or run ctl from a host that has it.`,
  })
}

/** Throws `toolMissing` when the shell reported the program missing. */
export function requireTool(result: RemoteResult, tool: string, hint?: string): RemoteResult {
  if (result.code === COMMAND_NOT_FOUND) throw toolMissing(result, tool, hint)
  return result
}

/** The last lines of a failed command's output, for a detail. */
export function outputTail(result: RemoteResult, lines = 2): string {
  return lastLines(result, lines, ' ').slice(0, 300)
}

/** The error for a check that cannot get its facts (bad path in the inventory, unreadable output). */
export function cannotRun(message: string, options: {host?: string; hint?: string} = {}): CtlError {
  return new CtlError(`cannot run: ${message}`, {host: options.host, exitCode: ExitCode.cannotRun, code: 'check.cannot-run', hint: options.hint})
}

/** A part of the host facts as the result of a command of its own, for the helpers that read one (requireTool, outputTail). */
export function partResult(node: string, command: string, part: {code: number; output: string}): RemoteResult {
  return {node, command, code: part.code, stdout: part.output, stderr: '', durationMs: 0}
}
