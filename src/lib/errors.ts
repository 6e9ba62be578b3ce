/** Exit codes shared by every command: scripts rely on them. */
export const ExitCode = {
  ok: 0,
  /** The operation ran and something failed (a check, a step, a host). */
  failed: 1,
  /** The operation could not run: bad input, unreachable prerequisites, refused. */
  cannotRun: 2,
} as const

export interface CtlErrorOptions {
  /** What to try next; printed under the message. */
  hint?: string
  exitCode?: number
  /** The host the failure happened on, when there is one. */
  host?: string
  /** The step of a plan or runbook that failed. */
  step?: string
  /** A stable machine-readable identifier, e.g. `inventory.invalid`. */
  code?: string
  cause?: unknown
}

/** The one error type of ctl: a message for the operator, an exit code and a hint. */
export class CtlError extends Error {
  readonly hint?: string
  readonly exitCode: number
  readonly host?: string
  readonly step?: string
  readonly code: string

  constructor(message: string, options: CtlErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.name = 'CtlError'
    this.hint = options.hint
    this.exitCode = options.exitCode ?? ExitCode.failed
    this.host = options.host
    this.step = options.step
    this.code = options.code ?? 'ctl.error'
  }

  /** The text shown to the operator: where, what, and what to try next. */
  describe(): string {
    const where = [this.host && `host ${this.host}`, this.step && `step ${this.step}`].filter(Boolean).join(', ')
    const lines = [where ? `${this.message} (${where})` : this.message]
    if (this.hint) lines.push(`Hint: ${this.hint}`)
    return lines.join('\n')
  }

  toJSON(): Record<string, unknown> {
    return {error: this.code, message: this.message, hint: this.hint, host: this.host, step: this.step, exitCode: this.exitCode}
  }
}

export function isCtlError(error: unknown): error is CtlError {
  return error instanceof CtlError
}

/** Turns anything thrown into a CtlError, keeping CtlErrors as they are. */
export function toCtlError(error: unknown, fallback: CtlErrorOptions = {}): CtlError {
  if (isCtlError(error)) return error
  const message = error instanceof Error ? error.message : String(error)
  return new CtlError(message, {...fallback, cause: error})
}
