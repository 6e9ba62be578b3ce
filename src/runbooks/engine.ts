import {appendAudit, operatorName} from '../lib/audit.js'
import {CtlError, ExitCode, toCtlError} from '../lib/errors.js'
import {confirmAction} from '../lib/prompt.js'
import {redact} from '../lib/redact.js'
import {renderCommand} from '../lib/shell.js'
import {findNode, type LoadedInventory} from '../inventory/load.js'
import type {RemoteRunner} from '../ssh/pool.js'
import {findRunToResume, Journal, newRunId, runsDir} from './journal.js'
import {withReleaseFailure} from './lock.js'
import {whileHolding} from '../locks/lock-run.js'
import type {Runbook, RunbookRunResult, RunObserver, RunOutcome, StepContext, StepPlan, StepResult} from './types.js'

export interface RunRunbookOptions<O> {
  loaded: LoadedInventory
  remote: RemoteRunner
  options: O
  dryRun?: boolean
  yes?: boolean
  /** Continue the latest stopped run of this runbook on this env (or `runId`). */
  resume?: boolean
  runId?: string
  observer?: RunObserver
  /** Journal directory (default: runsDir()). */
  journalDir?: string
  /** Takes the run's lock on the platform (commands pass `acquireRunbookLock`); without it the run takes no lock. */
  lock?: (runId: string) => Promise<{release(): Promise<void>}>
}

/** Audit-log output is capped: the journal keeps the whole output. */
const AUDIT_OUTPUT_LIMIT = 2000

function clip(text: string | undefined, limit = AUDIT_OUTPUT_LIMIT): string | undefined {
  if (!text) return text
  return text.length > limit ? `${text.slice(0, limit)}… (${text.length - limit} more characters in the run journal)` : text
}

class StopRun extends Error {}

/**
 * Runs a runbook: each step is planned (shown), its facts gathered, confirmed when it is a data
 * risk, acted and verified; every remote command goes to the run journal and the audit log.
 * Under --dry-run only read steps run; the others are gathered and shown. A failure stops the run
 * and leaves it resumable; the result always comes back (with `error`), so --json prints it.
 */
export async function runRunbook<S, O>(runbook: Runbook<S, O>, opts: RunRunbookOptions<O>): Promise<RunbookRunResult> {
  const started = Date.now()
  const {loaded} = opts
  const dryRun = Boolean(opts.dryRun)
  const dir = opts.journalDir ?? runsDir()
  const observer = opts.observer ?? {}

  let state: S
  let runId: string
  let startIndex = 0
  let options = opts.options
  const resumed = Boolean(opts.resume || opts.runId)
  if (resumed) {
    if (dryRun)
      throw new CtlError('--resume and --dry-run cannot be combined', {
        exitCode: ExitCode.cannotRun,
        hint: 'Run --dry-run without --resume to see what a new run would do.',
      })
    const standing = findRunToResume(runbook.name, loaded.env, opts.runId, dir)
    runId = standing.runId
    // The run continues with the options it started with, so its decisions stay the same.
    options = standing.options as O
    state = (standing.state as S | undefined) ?? runbook.setup({loaded, options})
    startIndex = runbook.steps.findIndex((s) => s.id === standing.resumeStep)
    if (startIndex < 0)
      throw new CtlError(`Run ${runId} stopped at step "${standing.resumeStep}", which ${runbook.name} no longer has`, {
        exitCode: ExitCode.cannotRun,
        code: 'runbook.resume-mismatch',
      })
  } else {
    runId = newRunId(runbook.name, loaded.env)
    state = runbook.setup({loaded, options})
  }
  // Dry runs change nothing and may run alongside a real one.
  const lock = dryRun ? undefined : await opts.lock?.(runId)
  if (!lock) return execute()
  let finished: RunbookRunResult
  try {
    finished = await execute()
  } catch (error) {
    // Released either way; a failed release is a note on this error, never in its place.
    return whileHolding(lock, () => Promise.reject(error))
  }
  try {
    await lock.release()
  } catch (releaseError) {
    return withReleaseFailure(finished, releaseError)
  }
  return finished

  async function execute(): Promise<RunbookRunResult> {
    const journal = new Journal(runId, dir)
    if (resumed) journal.append({type: 'resume', fromStep: runbook.steps[startIndex]!.id, operator: operatorName()})
    else journal.append({type: 'run', runbook: runbook.name, env: loaded.env, inventory: loaded.file, options, operator: operatorName(), dryRun})

    const auditCommand = `runbook ${runbook.name} ${loaded.env}`
    const hostsTouched = new Set<string>()
    const results: StepResult[] = runbook.steps.map((s, i) => ({
      id: s.id,
      title: s.title,
      risk: s.risk,
      status: i < startIndex ? 'done' : 'pending',
      plan: {summary: s.description, commands: []},
      report: [],
    }))
    let finishedEarly: string | undefined

    const contextFor = (stepId: string, result: StepResult): StepContext<S> => ({
      loaded,
      get state() {
        return state
      },
      set state(value: S) {
        state = value
      },
      dryRun,
      resuming: resumed,
      yes: Boolean(opts.yes),
      async run(nodeName, command, runOptions = {}) {
        const node = findNode(loaded, nodeName)
        hostsTouched.add(node.name)
        const text = redact(renderCommand(command))
        try {
          const r = await opts.remote.run(node, command, {...runOptions, step: stepId})
          // A backup's bytes in transit are data, not a log: the journal and audit log keep their size only.
          const stdout = runOptions.outputIsData ? `(${r.stdout.length} characters of data, not kept)` : redact(r.stdout)
          const stderr = redact(r.stderr)
          journal.append({type: 'command', step: stepId, node: node.name, command: r.command, code: r.code, stdout, stderr, durationMs: r.durationMs})
          appendAudit({
            command: auditCommand,
            env: loaded.env,
            hosts: [node.name],
            outcome: r.code === 0 ? 'ok' : 'failed',
            detail: {runId, step: stepId, remote: r.command, code: r.code, stdout: clip(stdout), stderr: clip(stderr)},
          })
          return r
        } catch (error) {
          const e = toCtlError(error, {host: node.name, step: stepId})
          journal.append({type: 'command', step: stepId, node: node.name, command: text, error: e.message})
          appendAudit({
            command: auditCommand,
            env: loaded.env,
            hosts: [node.name],
            outcome: 'failed',
            detail: {runId, step: stepId, remote: text, error: e.message},
          })
          throw e
        }
      },
      progress: (text) => observer.progress?.(redact(text)),
      report(lines) {
        const clean = lines.map((l) => redact(l))
        result.report.push(...clean)
        observer.report?.(clean)
      },
      async confirm(message) {
        if (dryRun) return
        const ok = await confirmAction({message, yes: opts.yes})
        if (!ok) throw new StopRun(`Stopped: "${message}" was not confirmed.`)
      },
      finishEarly(reason) {
        finishedEarly = reason
      },
    })

    const planOf = (index: number): StepPlan => {
      try {
        return runbook.steps[index]!.plan(state, loaded)
      } catch (error) {
        return {summary: `(cannot plan yet: ${toCtlError(error).message})`, commands: []}
      }
    }

    let outcome: RunOutcome = dryRun ? 'dry-run' : 'ok'
    let failure: CtlError | undefined
    let failedAt: string | undefined
    try {
      if (resumed) {
        // Re-check the facts the remaining steps depend on before touching anything.
        for (let i = 0; i < startIndex; i++) {
          const step = runbook.steps[i]!
          if (!step.recheck) continue
          failedAt = step.id
          await step.recheck(contextFor(step.id, results[i]!))
        }
        // A confirmation given in the first run does not carry over: the data-risk steps already done
        // (whose consent covers what follows) are asked again, on the facts just re-checked.
        if (runbook.steps.slice(startIndex).some((s) => s.risk !== 'read')) {
          const resumeStep = runbook.steps[startIndex]!
          failedAt = resumeStep.id
          const ctx = contextFor(resumeStep.id, results[startIndex]!)
          for (let i = 0; i < startIndex; i++) {
            const step = runbook.steps[i]!
            if (step.risk !== 'data-risk' || planOf(i).skip) continue
            await ctx.confirm(
              `Resuming run ${runId} at "${resumeStep.title}" (the first run's answers do not carry over). Earlier: ${step.confirmation?.(state) ?? `${step.title}?`} Continue?`,
            )
          }
        }
        failedAt = undefined
      }
      for (let i = startIndex; i < runbook.steps.length; i++) {
        const step = runbook.steps[i]!
        const result = results[i]!
        if (finishedEarly) {
          result.status = 'not-needed'
          result.plan = {summary: step.description, commands: [], skip: finishedEarly}
          continue
        }
        const ctx = contextFor(step.id, result)
        const stepStarted = Date.now()
        failedAt = step.id
        const acts = !dryRun || step.risk === 'read'
        if (step.gather) await step.gather(ctx)
        result.plan = planOf(i)
        observer.stepStarting?.(result, i, runbook.steps.length)
        if (result.plan.skip) {
          result.status = 'skipped'
          if (!dryRun) journal.append({type: 'step', step: step.id, status: 'skipped', state})
          observer.stepFinished?.(result)
          continue
        }
        if (!acts) {
          result.status = 'planned'
          observer.stepFinished?.(result)
          continue
        }
        journal.append({type: 'step', step: step.id, status: 'started'})
        if (step.risk === 'data-risk') await ctx.confirm(step.confirmation?.(state) ?? `${step.title}?`)
        if (step.act) await step.act(ctx)
        if (step.verify) await step.verify(ctx)
        result.status = 'done'
        result.durationMs = Date.now() - stepStarted
        journal.append({type: 'step', step: step.id, status: 'done', state})
        appendAudit({command: auditCommand, env: loaded.env, hosts: [...hostsTouched], outcome: 'ok', detail: {runId, step: step.id, status: 'done'}})
        observer.stepFinished?.(result)
      }
      failedAt = undefined
    } catch (error) {
      const stopped = error instanceof StopRun
      const e = stopped
        ? new CtlError(error.message, {exitCode: ExitCode.cannotRun, code: 'runbook.stopped', step: failedAt})
        : toCtlError(error, {step: failedAt})
      const refused = e.exitCode === ExitCode.cannotRun
      outcome = stopped || e.code === 'prompt.no-terminal' ? 'stopped' : refused ? 'refused' : 'failed'
      const resumeHint = `When the cause is dealt with, continue with: ctl runbook ${runbook.name} ${loaded.env} --resume (run ${runId}; it asks again before every data-risk step: --yes is not carried over)`
      failure = new CtlError(e.message, {
        exitCode: e.exitCode,
        code: e.code,
        host: e.host,
        step: e.step ?? failedAt,
        hint: dryRun ? e.hint : [e.hint, resumeHint].filter(Boolean).join('\n'),
        cause: e,
      })
      const index = runbook.steps.findIndex((s) => s.id === failedAt)
      if (index >= 0) {
        results[index]!.status = stopped || outcome === 'stopped' ? 'stopped' : 'failed'
        results[index]!.error = e.message
        observer.stepFinished?.(results[index]!)
      }
      if (!dryRun && failedAt)
        journal.append({type: 'step', step: failedAt, status: stopped || outcome === 'stopped' ? 'stopped' : 'failed', state, error: e.message})
      appendAudit({command: auditCommand, env: loaded.env, hosts: [...hostsTouched], outcome, detail: {runId, step: failedAt, error: e.message}})
    }
    journal.append({type: 'end', outcome, step: failedAt, error: failure?.message})
    return {
      runId,
      runbook: runbook.name,
      env: loaded.env,
      dryRun,
      resumed,
      outcome,
      finishedEarly,
      journal: journal.path,
      durationMs: Date.now() - started,
      steps: results,
      summary: runbook.summarize?.(state),
      error: failure && {message: failure.message, hint: failure.hint, host: failure.host, step: failure.step, code: failure.code, exitCode: failure.exitCode},
    }
  }
}
