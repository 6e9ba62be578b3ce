import type {LoadedInventory} from '../inventory/load.js'
import type {RemoteCommand} from '../lib/shell.js'
import type {RemoteResult, RunOptions} from '../ssh/pool.js'

/**
 * A runbook is a list of steps over a JSON state. Each step says what it will do (words and the
 * exact commands, given the facts known so far), gathers facts, acts and verifies. The state is
 * journaled after every step, so a stopped run can be resumed; it never holds a secret.
 */

/** `read` never changes anything; `change` changes the platform; `data-risk` can destroy or lose data and asks first. */
export type StepRisk = 'read' | 'change' | 'data-risk'

export interface PlannedCommand {
  node: string
  /** The exact shell text that will run on the node (secrets never appear: they travel on stdin). */
  command: string
  /** Why, when it is not obvious (e.g. "only if it ignores SIGTERM"). */
  note?: string
}

export interface StepPlan {
  /** What the step will do, in words. */
  summary: string
  commands: PlannedCommand[]
  /** Set when the step has nothing to do given the facts: it is skipped, without asking. */
  skip?: string
}

/** What steps use to touch hosts and talk to the operator. */
export interface StepContext<S> {
  readonly loaded: LoadedInventory
  /** The run's state: steps read and update it; journaled after each step. */
  state: S
  readonly dryRun: boolean
  readonly resuming: boolean
  readonly yes: boolean
  /** Runs a command on an inventory node; journaled (command, exit code, redacted output) and audited. */
  run(node: string, command: RemoteCommand, options?: Omit<RunOptions, 'step'>): Promise<RemoteResult>
  /** A progress line (e.g. "h2: Synced"). */
  progress(text: string): void
  /** A block of output kept with the step (facts table, decision): shown and returned in --json. */
  report(lines: string[]): void
  /** Asks the operator (the engine's confirmation rules: --yes, no terminal → stop). Declined → the run stops. */
  confirm(message: string): Promise<void>
  /** Ends the run successfully after this step: the remaining steps are not needed (e.g. cluster healthy). */
  finishEarly(reason: string): void
}

interface RunbookStep<S> {
  /** Stable identifier (journal, --resume, `runbook show`). */
  id: string
  title: string
  risk: StepRisk
  /** Static description for `ctl runbook show`. */
  description: string
  /** What it will do now, with the exact commands, given the state and the inventory (pure). */
  plan(state: S, loaded: LoadedInventory): StepPlan
  /** Reads the facts this step needs (read-only: also runs under --dry-run). */
  gather?(ctx: StepContext<S>): Promise<void>
  act?(ctx: StepContext<S>): Promise<void>
  verify?(ctx: StepContext<S>): Promise<void>
  /** For data-risk steps: the question, naming what may be lost. */
  confirmation?(state: S): string
  /**
   * On --resume, run for every step already done, in order, before continuing: re-reads the facts
   * the remaining steps depend on and throws when the earlier conclusions no longer hold.
   */
  recheck?(ctx: StepContext<S>): Promise<void>
}

/** What a runbook needs before its first step: the inventory and the command's options. */
interface RunbookSetup<O> {
  loaded: LoadedInventory
  options: O
}

export interface Runbook<S, O = Record<string, unknown>> {
  name: string
  summary: string
  description: string
  /** What the target looks like in the inventory, for `ctl runbook show` (e.g. `databases.galera`). */
  needs: string
  /** Builds the initial state (validates the inventory section; throws CtlError when it is missing). */
  setup(setup: RunbookSetup<O>): S
  steps: RunbookStep<S>[]
  /** The part of the state --json prints and the human summary shows (facts, decision, checks). */
  summarize?(state: S): unknown
  /**
   * Whether a run takes the cluster's run lock (default: yes). A run that never changes the cluster
   * (a restore into a scratch server) says no: it must still run when the cluster's hosts are gone.
   */
  takesClusterLock?(options: O): boolean
}

/** A runbook with its types erased, for the registry. */
export type AnyRunbook = Runbook<any, any>

type StepStatus = 'done' | 'skipped' | 'planned' | 'failed' | 'stopped' | 'pending' | 'not-needed'

export interface StepResult {
  id: string
  title: string
  risk: StepRisk
  status: StepStatus
  plan: StepPlan
  report: string[]
  durationMs?: number
  error?: string
}

export type RunOutcome = 'ok' | 'dry-run' | 'failed' | 'stopped' | 'refused'

export interface RunbookRunResult {
  runId: string
  runbook: string
  env: string
  dryRun: boolean
  resumed: boolean
  outcome: RunOutcome
  /** Why the run ended early, when it did (e.g. "the cluster is healthy"). */
  finishedEarly?: string
  journal: string
  durationMs: number
  steps: StepResult[]
  summary?: unknown
  error?: {message: string; hint?: string; host?: string; step?: string; code: string; exitCode: number}
}

/** Sees the run as it happens (the command renders it; tests collect it). */
export interface RunObserver {
  stepStarting?(step: StepResult, index: number, total: number): void
  stepFinished?(step: StepResult): void
  progress?(text: string): void
  report?(lines: string[]): void
}
