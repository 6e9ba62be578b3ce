import {appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync} from 'node:fs'
import {homedir} from 'node:os'
import {join} from 'node:path'
import {randomBytes} from 'node:crypto'
import {CtlError, ExitCode} from '../lib/errors.js'
import {redactDeep} from '../lib/redact.js'
import {isSafeName, SAFE_NAME_RULE} from '../inventory/schema/common.js'
import type {RunOutcome} from './types.js'

/**
 * The run journal: one JSON line per event of a runbook run, on the operator's machine, secrets
 * redacted. Location: $CTL_STATE_DIR/runs, else $XDG_STATE_HOME/ctl/runs, else
 * ~/.local/state/ctl/runs; one file per run, `<runbook>-<env>-<time>-<random>.jsonl`.
 */

export type JournalEvent =
  | {type: 'run'; runbook: string; env: string; inventory: string; options: unknown; operator: string; dryRun: boolean}
  | {type: 'resume'; fromStep: string; operator: string}
  | {type: 'step'; step: string; status: 'started' | 'done' | 'skipped' | 'failed' | 'stopped' | 'planned'; state?: unknown; error?: string}
  | {type: 'command'; step: string; node: string; command: string; code?: number; stdout?: string; stderr?: string; durationMs?: number; error?: string}
  | {type: 'end'; outcome: RunOutcome; step?: string; error?: string}

export type TimedEvent = JournalEvent & {time: string}

export function runsDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CTL_STATE_DIR) return join(env.CTL_STATE_DIR, 'runs')
  const stateHome = env.XDG_STATE_HOME || join(homedir(), '.local', 'state')
  return join(stateHome, 'ctl', 'runs')
}

/** `galera-recover-lab-20261126T121500-3f2a`: sorts by time within a runbook and env. */
export function newRunId(runbook: string, env: string, now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, '')
  return `${runbook}-${env}-${stamp}-${randomBytes(2).toString('hex')}`
}

/** A run id names a journal file (`<runsDir>/<id>.jsonl`): a safe name, never a path. */
export function parseRunId(id: string): string {
  if (!isSafeName(id)) {
    throw new CtlError(`"${id}" is not a run id`, {
      exitCode: ExitCode.cannotRun,
      code: 'runbook.bad-run-id',
      hint: `A run id is ${SAFE_NAME_RULE}, e.g. galera-recover-lab-20261126T121500-3f2a (printed at the end of each run).`,
    })
  }
  return id
}

export class Journal {
  readonly path: string

  constructor(
    readonly runId: string,
    dir = runsDir(),
  ) {
    mkdirSync(dir, {recursive: true, mode: 0o700})
    this.path = join(dir, `${runId}.jsonl`)
  }

  append(event: JournalEvent): void {
    const line = redactDeep({time: new Date().toISOString(), ...event})
    appendFileSync(this.path, JSON.stringify(line) + '\n', {mode: 0o600})
  }
}

export function readJournal(path: string): TimedEvent[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as TimedEvent]
      } catch {
        // A line cut short by a crash: the events before it still count.
        return []
      }
    })
}

/** Where a journaled run stands: what --resume needs. */
export interface RunStanding {
  runId: string
  path: string
  runbook: string
  env: string
  options: unknown
  dryRun: boolean
  /** The last outcome written, or undefined when the process died mid-run. */
  outcome?: RunOutcome
  doneSteps: string[]
  /** The first step that did not finish (failed, stopped, or interrupted). */
  resumeStep?: string
  /** The state saved by the last step event that carried one. */
  state?: unknown
}

function runStanding(runId: string, events: TimedEvent[], path: string): RunStanding {
  const start = events.find((e) => e.type === 'run')
  if (!start || start.type !== 'run') throw new CtlError(`Journal ${path} has no start event`, {exitCode: ExitCode.cannotRun, code: 'runbook.journal-invalid'})
  const done = new Set<string>()
  let state: unknown
  let resumeStep: string | undefined
  let outcome: RunOutcome | undefined
  for (const e of events) {
    if (e.type === 'step') {
      if (e.state !== undefined) state = e.state
      if (e.status === 'done' || e.status === 'skipped') {
        done.add(e.step)
        if (resumeStep === e.step) resumeStep = undefined
      } else if (e.status === 'started' || e.status === 'failed' || e.status === 'stopped') {
        resumeStep = e.step
      }
    } else if (e.type === 'end') {
      outcome = e.outcome
      if (e.step) resumeStep = e.step
    } else if (e.type === 'resume') {
      outcome = undefined
    }
  }
  return {runId, path, runbook: start.runbook, env: start.env, options: start.options, dryRun: start.dryRun, outcome, doneSteps: [...done], resumeStep, state}
}

/** The run to resume: the given id, else the latest run of this runbook on this env. */
export function findRunToResume(runbook: string, env: string, runId?: string, dir = runsDir()): RunStanding {
  const hint = `Start a new run: ctl runbook ${runbook} ${env}`
  let id = runId === undefined ? undefined : parseRunId(runId)
  if (!id) {
    const prefix = `${runbook}-${env}-`
    const candidates = existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => f.startsWith(prefix) && f.endsWith('.jsonl') && /^\d{8}T\d{6}-[0-9a-f]{4}$/.test(f.slice(prefix.length, -'.jsonl'.length)))
          .sort()
      : []
    // Dry runs change nothing, so there is nothing of theirs to continue.
    const real = candidates
      .map((f) => f.slice(0, -'.jsonl'.length))
      .filter((candidate) => !runStanding(candidate, readJournal(join(dir, `${candidate}.jsonl`)), dir).dryRun)
    id = real.at(-1)
    if (!id)
      throw new CtlError(`No earlier run of ${runbook} on ${env} to resume (journals in ${dir})`, {
        exitCode: ExitCode.cannotRun,
        code: 'runbook.nothing-to-resume',
        hint,
      })
  }
  const path = join(dir, `${id}.jsonl`)
  if (!existsSync(path)) throw new CtlError(`No journal for run ${id} in ${dir}`, {exitCode: ExitCode.cannotRun, code: 'runbook.nothing-to-resume', hint})
  const standing = runStanding(id, readJournal(path), path)
  if (standing.runbook !== runbook || standing.env !== env) {
    throw new CtlError(`Run ${id} is ${standing.runbook} on ${standing.env}, not ${runbook} on ${env}`, {
      exitCode: ExitCode.cannotRun,
      code: 'runbook.resume-mismatch',
    })
  }
  if (standing.dryRun)
    throw new CtlError(`Run ${id} was a dry run: there is nothing to continue`, {exitCode: ExitCode.cannotRun, code: 'runbook.nothing-to-resume', hint})
  if (standing.outcome === 'ok' || !standing.resumeStep) {
    throw new CtlError(`Run ${id} finished (${standing.outcome ?? 'all steps done'}): there is nothing to resume`, {
      exitCode: ExitCode.cannotRun,
      code: 'runbook.nothing-to-resume',
      hint,
    })
  }
  return standing
}
