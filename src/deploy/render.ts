import type {DeployPlan} from './plan.js'
import type {ServiceOutcome} from './service-rollout.js'

/** Human output of deploy, reload and rollback (the `--json` output is the result object itself). */

export function renderDeployPlan(plan: DeployPlan): string {
  const lines = [`Deploy plan for ${plan.env}:`]
  for (const stack of plan.stacks) {
    lines.push(`  stack ${stack.name}`)
    for (const s of stack.services) {
      const change =
        s.action === 'unchanged' ? `unchanged (${s.newImage})` : s.action === 'create' ? `create with ${s.newImage}` : `${s.oldImage} → ${s.newImage}`
      lines.push(`    ${s.swarmName.padEnd(24)} ${change}${s.gated && s.action !== 'unchanged' ? `  [${s.replicas} task(s), /health gate]` : ''}`)
    }
  }
  if (plan.changes.length === 0) lines.push('  No image changes.')
  return lines.join('\n')
}

export function renderServiceOutcome(s: ServiceOutcome): string {
  const lines = [`${s.swarmName}: ${s.outcome} in ${(s.durationMs / 1000).toFixed(1)} s, now ${s.finalImage}`]
  if (s.reason) lines.push(`  reason: ${s.reason}`)
  if (s.failedTask) {
    lines.push(
      `  failed task ${s.failedTask.task}${s.failedTask.node ? ` on ${s.failedTask.node}` : ''}${s.failedTask.url ? ` (${s.failedTask.url})` : ''}: ${s.failedTask.verdict}`,
    )
    for (const answer of s.failedTask.lastAnswers) lines.push(`    ${answer}`)
  }
  for (const g of s.rollbackGates ?? s.gates) lines.push(`  task ${g.task} on ${g.node ?? '?'}: ${g.verdict}`)
  if (s.leftState) lines.push(`  left as: ${s.leftState}`, `  finish it with: ${s.finishWith}`)
  return lines.join('\n')
}
