/**
 * The one place where values become remote shell text. Every value is single-quoted, so `;`, `$()`,
 * backquotes, quotes and newlines reach the program as data and never run.
 */

const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/

/** Quotes one value for a POSIX shell. Plain words stay readable; anything else is single-quoted. */
export function quote(value: string | number): string {
  const text = String(value)
  if (text.length > 0 && SAFE_WORD.test(text)) return text
  return `'${text.replaceAll("'", `'\\''`)}'`
}

/** Builds a shell command line from an argument vector: `['echo', 'a b']` → `echo 'a b'`. */
export function shellCommand(argv: readonly (string | number)[]): string {
  if (argv.length === 0) throw new Error('shellCommand needs at least the program name')
  return argv.map((arg) => quote(arg)).join(' ')
}

/** A command for the remote shell: either an argv to quote, or a script built from quoted parts. */
export type RemoteCommand = readonly (string | number)[] | {readonly script: string}

/** The shell text of a remote command. */
export function renderCommand(command: RemoteCommand): string {
  return 'script' in command ? command.script : shellCommand(command)
}

/** Joins already-rendered commands with `&&`, so the first failure stops the rest. */
export function andThen(...commands: RemoteCommand[]): {script: string} {
  return {script: commands.map((c) => renderCommand(c)).join(' && ')}
}
