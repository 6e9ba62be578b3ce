import type {ListrTaskWrapper} from 'listr2'
import {toCtlError, type CtlError} from './errors.js'
import {mapLimit} from './limit.js'
import {redact} from './redact.js'

/**
 * The one way ctl reports progress: a listr2 task per host (or step), run with a concurrency limit.
 * A failure marks its own task; the others go on, and every outcome is returned. Output is silent in
 * `--json` mode and falls back to plain lines where there is no terminal (CI, pipes). Every text
 * shown (titles, status, spinner, notes) passes through `redact`.
 */

let quiet = false

/** Silences progress output (set by `--json`, so stdout carries only the result). */
export function setProgressQuiet(value: boolean): void {
  quiet = value
}

export type Outcome<T> = {ok: true; value: T} | {ok: false; error: CtlError}

export interface ProgressItem {
  /** Stable key of the item, e.g. the node name. */
  key: string
  /** Line shown while it runs. */
  title: string
}

/** A handle a task uses to say what it is doing now. */
export interface TaskReporter {
  status(text: string): void
}

export async function runTasks<I extends ProgressItem, T>(
  items: readonly I[],
  work: (item: I, report: TaskReporter) => Promise<T>,
  options: {concurrency?: number} = {},
): Promise<Map<string, Outcome<T>>> {
  const outcomes = new Map<string, Outcome<T>>()
  if (items.length === 0) return outcomes
  /** Runs one item and records its outcome; returns its error, if it failed. */
  const settle = async (item: I, report: TaskReporter): Promise<CtlError | undefined> => {
    try {
      outcomes.set(item.key, {ok: true, value: await work(item, report)})
      return undefined
    } catch (error) {
      const ctlError = toCtlError(error, {host: item.key})
      outcomes.set(item.key, {ok: false, error: ctlError})
      return ctlError
    }
  }
  const concurrency = options.concurrency ?? 10
  if (quiet) {
    // Nothing is shown (`--json`): the items run under the same limit, without loading listr2 and its renderer.
    await mapLimit(items, concurrency, (item) => settle(item, {status: () => undefined}))
    return outcomes
  }
  // listr2 and ora load when progress is shown, not at start-up (bench/startup.sh).
  const {Listr} = await import('listr2')
  const list = new Listr(
    items.map((item) => ({
      title: redact(item.title),
      task: async (_ctx: unknown, task: ListrTaskWrapper<unknown, any, any>) => {
        const failed = await settle(item, {status: (text) => (task.output = redact(text))})
        if (failed) {
          task.title = redact(`${item.title}: ${failed.message}`)
          // listr prints the message of what is thrown: hand it a redacted copy (no cause: it may hold a
          // secret); the outcome keeps the error.
          throw new Error(redact(failed.message))
        }
      },
    })),
    {
      concurrent: concurrency,
      exitOnError: false,
      collectErrors: false,
      // A terminal without a size (some CI pseudo-terminals) makes the live renderer loop: use plain lines.
      fallbackRendererCondition: () => !process.stdout.isTTY || !process.stdout.columns,
      rendererOptions: {collapseErrors: false},
    },
  )
  await list.run().catch(() => undefined)
  return outcomes
}

/** Shows a spinner for one long wait (a cluster forming, a leader changing). */
export async function withSpinner<T>(text: string, work: (update: (text: string) => void) => Promise<T>): Promise<T> {
  if (quiet || !process.stderr.isTTY) {
    if (!quiet) process.stderr.write(`${redact(text)}\n`)
    return work(() => undefined)
  }
  const {default: ora} = await import('ora')
  const spinner = ora({text: redact(text), stream: process.stderr}).start()
  try {
    const result = await work((t) => (spinner.text = redact(t)))
    spinner.succeed()
    return result
  } catch (error) {
    spinner.fail()
    throw error
  }
}

/** A plain progress line on stderr (never in `--json` output). */
export function note(text: string): void {
  if (!quiet) process.stderr.write(`${redact(text)}\n`)
}
