import type {AnyRunbook, RunbookRunResult, RunObserver, StepResult} from './types.js'

/** Human rendering of runbooks and their runs (the --json output is the result object itself). */

const RISK_MARK: Record<StepResult['risk'], string> = {read: 'read', change: 'CHANGE', 'data-risk': 'DATA RISK: asks first'}

/** A plain text table: columns padded to their widest cell. */
export function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)]
}

export function describeRunbook(runbook: AnyRunbook): string[] {
  const lines = [`${runbook.name}: ${runbook.summary}`, '', runbook.description, '', `Needs: ${runbook.needs}`, '', 'Steps:']
  runbook.steps.forEach((s, i) => {
    lines.push(`  ${i + 1}. ${s.title} [${s.id}] (${RISK_MARK[s.risk]})`)
    for (const l of s.description.split('\n')) lines.push(`     ${l}`)
  })
  return lines
}

function stepHeading(step: StepResult, index: number, total: number): string[] {
  const lines = [`── Step ${index + 1}/${total}: ${step.title} (${RISK_MARK[step.risk]})`, `   ${step.plan.summary}`]
  if (step.plan.skip) lines.push(`   Skipped: ${step.plan.skip}`)
  for (const c of step.plan.commands) lines.push(`   ${c.node}$ ${c.command}${c.note ? `    # ${c.note}` : ''}`)
  return lines
}

/** Prints the run as it goes: step headings with their commands, progress lines, reports. */
export function textObserver(print: (line: string) => void): RunObserver {
  return {
    stepStarting: (step, index, total) => stepHeading(step, index, total).forEach((l) => print(l)),
    stepFinished: (step) => {
      if (step.status === 'failed' || step.status === 'stopped') print(`   ${step.status.toUpperCase()}: ${step.error ?? ''}`)
      else if (step.status === 'planned') print('   (dry run: not run)')
      else if (step.status === 'done') print(`   done${step.durationMs === undefined ? '' : ` in ${(step.durationMs / 1000).toFixed(1)} s`}`)
    },
    progress: (text) => print(`   … ${text}`),
    report: (lines) => lines.forEach((l) => print(`   ${l}`)),
  }
}

export function runSummary(result: RunbookRunResult): string[] {
  const seconds = (result.durationMs / 1000).toFixed(1)
  const lines: string[] = []
  const notNeeded = result.steps.filter((s) => s.status === 'not-needed').length
  if (result.finishedEarly) lines.push(`${result.finishedEarly}${notNeeded ? ` (${notNeeded} step(s) not needed)` : ''}`)
  const verdict: Record<RunbookRunResult['outcome'], string> = {
    ok: `${result.runbook} finished in ${seconds} s.`,
    'dry-run': `Dry run of ${result.runbook}: nothing was changed.`,
    failed: `${result.runbook} FAILED after ${seconds} s.`,
    stopped: `${result.runbook} STOPPED after ${seconds} s.`,
    refused: `${result.runbook} REFUSED: nothing after the refusal was run.`,
  }
  lines.push(verdict[result.outcome], `Run ${result.runId}; journal: ${result.journal}`)
  return lines
}
