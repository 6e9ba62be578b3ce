import type {Finding} from '../checks/types.js'
import type {RabbitNodeFacts} from './facts.js'

/**
 * RabbitMQ, judged per node from what each one says (src/rabbitmq/facts.ts): it answers, the cluster
 * it sees runs every member, it sees no network partition, and no memory or disk alarm blocks
 * publishers anywhere. Pure.
 */
export function judgeRabbitmq(env: string, facts: readonly RabbitNodeFacts[]): Finding[] {
  const all = facts.map((f) => f.nodeName)
  const recover = `ctl runbook rabbitmq-recover ${env}`
  return facts.map((f): Finding => {
    const target = f.node
    if (!f.running)
      return {
        target,
        status: 'fail',
        detail: `${f.nodeName} does not answer: ${f.error ?? 'no answer'}`,
        hint: `Start it (its control); after a full stop: ${recover}.`,
      }
    const partitioned = Object.entries(f.partitions).filter(([, unseen]) => unseen.length > 0)
    if (partitioned.length > 0)
      return {
        target,
        status: 'fail',
        detail: `network partition: ${partitioned.map(([n, unseen]) => `${n} cannot see ${unseen.join(', ')}`).join('; ')}`,
        hint: `${recover} restarts the minority side (its messages published during the partition are lost).`,
      }
    const missing = all.filter((n) => !f.runningNodes.includes(n))
    if (missing.length > 0)
      return {
        target,
        status: 'fail',
        detail: `the cluster runs ${all.length - missing.length} of ${all.length} nodes: ${missing.join(', ')} ${f.diskNodes.length > 0 && missing.some((m) => !f.diskNodes.includes(m)) ? 'not clustered' : 'not running'}`,
        hint: `Start the missing nodes; ${recover} when they do not come back.`,
      }
    if (f.alarms.length > 0)
      return {target, status: 'fail', detail: `alarm: ${f.alarms.join('; ')}`, hint: 'Publishers are blocked until memory or disk space is freed on that node.'}
    return {target, status: 'pass', detail: `${f.nodeName}: ${f.runningNodes.length} of ${all.length} nodes running, no partition, no alarm`}
  })
}

/**
 * The running members to export definitions from, best first: those seeing the most running nodes
 * and no partition (definitions are cluster-wide, but a node cut off may hold a stale copy). Pure.
 */
export function rabbitExportOrder(facts: readonly RabbitNodeFacts[]): RabbitNodeFacts[] {
  const partitioned = (f: RabbitNodeFacts) => Object.keys(f.partitions).length > 0
  return facts
    .filter((f) => f.running)
    .sort((a, b) => Number(partitioned(a)) - Number(partitioned(b)) || b.runningNodes.length - a.runningNodes.length || a.node.localeCompare(b.node))
}
