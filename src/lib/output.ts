/** What a finished command printed. */
export interface CommandOutput {
  stdout: string
  stderr: string
}

/**
 * The last `count` lines a command printed, for an error message or hint: its stderr when it wrote
 * any (that is where programs explain a failure), else its stdout; a plain string is taken as is.
 */
export function lastLines(output: CommandOutput | string, count: number, separator = '\n'): string {
  const text = typeof output === 'string' ? output : output.stderr.trim() || output.stdout
  return text.trim().split('\n').slice(-count).join(separator)
}
