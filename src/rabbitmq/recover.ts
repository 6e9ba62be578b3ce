import type {RabbitNodeFacts} from './facts.js'

/**
 * What rabbitmq-recover does, from every node's facts. Pure.
 *
 * - Some nodes run with a network partition: the majority side (the largest group of nodes that see
 *   each other; a tie goes to the group with the first member) is kept, the other side restarted.
 * - Some run, some are down: the down ones are started; they rejoin.
 * - Every node is down: RabbitMQ's own rule, the node that stopped last starts first (it holds the
 *   newest cluster state; the others wait for it). Its `nodes_running_at_shutdown` lists only itself;
 *   when several list the same fewest nodes (stopped together), they start together. When the last
 *   one is lost for good (its data directory gone), another can only start with `force_boot`, a DATA
 *   RISK (what the lost node alone had is gone): ctl does that only when told which (`--force-boot`).
 */

export type RabbitRecovery =
  | {action: 'healthy'; reason: string}
  | {action: 'heal'; restart: string[]; keep: string[]; reason: string}
  | {action: 'start'; first: string[]; then: string[]; forceBoot?: string; reason: string}
  | {action: 'refuse'; code: string; reason: string; hint: string}

const describeLists = (facts: readonly RabbitNodeFacts[]) =>
  facts
    .map(
      (f) =>
        `${f.node}: ${f.runningAtShutdown ? `stopped with ${f.runningAtShutdown.length} running (${f.runningAtShutdown.join(', ')})` : (f.lost ?? 'no record of a clean stop')}`,
    )
    .join('; ')

export function decideRabbitRecovery(facts: readonly RabbitNodeFacts[], env: string, forceBoot?: string): RabbitRecovery {
  const running = facts.filter((f) => f.running)
  if (running.length > 0) {
    // Groups of nodes that see each other: each running node's view of the running nodes.
    const groups = new Map<string, string[]>()
    for (const f of running) {
      const view = [...new Set([f.nodeName, ...f.runningNodes.filter((n) => facts.some((x) => x.nodeName === n))])].sort()
      groups.set(view.join(','), view)
    }
    const partitioned = running.some((f) => Object.values(f.partitions).some((unseen) => unseen.length > 0)) || groups.size > 1
    if (partitioned) {
      const first = facts[0]!.nodeName
      const ranked = [...groups.values()].sort((a, b) => b.length - a.length || Number(b.includes(first)) - Number(a.includes(first)))
      const keep = ranked[0]!
      const restart = running.filter((f) => !keep.includes(f.nodeName)).map((f) => f.node)
      if (restart.length > 0)
        return {
          action: 'heal',
          keep: running.filter((f) => keep.includes(f.nodeName)).map((f) => f.node),
          restart,
          reason: `a network partition: ${ranked.map((g) => `[${g.join(', ')}]`).join(' vs ')}; the majority side stays`,
        }
    }
    const down = facts.filter((f) => !f.running)
    if (down.length === 0) {
      const unclustered = facts.filter((f) => facts.some((x) => !f.runningNodes.includes(x.nodeName)))
      if (unclustered.length === 0) return {action: 'healthy', reason: 'every node runs, clustered, without a partition'}
    }
    return {
      action: 'start',
      first: [],
      then: down.map((f) => f.node),
      reason: `${running.map((f) => f.node).join(', ')} run: the others are started and rejoin them`,
    }
  }
  // Every node is down.
  const known = facts.filter((f) => f.runningAtShutdown && !f.lost)
  const lost = facts.filter((f) => f.lost)
  if (forceBoot !== undefined) {
    const chosen = facts.find((f) => f.node === forceBoot)
    if (!chosen || chosen.lost)
      return {
        action: 'refuse',
        code: 'rabbitmq.bad-force-boot',
        reason: chosen ? `${forceBoot} cannot be started: ${chosen.lost}` : `${forceBoot} is not a member of databases.rabbitmq`,
        hint: `Members: ${facts.map((f) => f.node).join(', ')}`,
      }
    return {
      action: 'start',
      first: [chosen.node],
      then: facts.filter((f) => f !== chosen && !f.lost).map((f) => f.node),
      forceBoot: chosen.node,
      reason: `force_boot of ${chosen.node} as asked (${describeLists(facts)})`,
    }
  }
  if (known.length === 0)
    return {
      action: 'refuse',
      code: 'rabbitmq.unknown-order',
      reason: `no node recorded a clean stop: ${describeLists(facts)}`,
      hint: `Start every node together (each waits for the others); if one is lost for good: ctl runbook rabbitmq-recover ${env} --force-boot <node>.`,
    }
  const fewest = Math.min(...known.map((f) => f.runningAtShutdown!.length))
  const last = known.filter((f) => f.runningAtShutdown!.length === fewest)
  // The last one's record names the nodes that still ran with it: all of them must be there.
  const needed = new Set(last.flatMap((f) => f.runningAtShutdown!))
  const missing = facts.filter((f) => needed.has(f.nodeName) && (f.lost || !f.runningAtShutdown))
  if (missing.length > 0 || lost.some((f) => needed.has(f.nodeName))) {
    const survivors = known.filter((f) => !missing.includes(f)).sort((a, b) => a.runningAtShutdown!.length - b.runningAtShutdown!.length)
    return {
      action: 'refuse',
      code: 'rabbitmq.last-node-lost',
      reason: `the node that stopped last (${[...needed].join(', ')}) cannot start: ${missing.map((f) => `${f.node}: ${f.lost ?? 'no record of a clean stop'}`).join('; ')}`,
      hint: survivors[0]
        ? `If it is lost for good: ctl runbook rabbitmq-recover ${env} --force-boot ${survivors[0].node} (it stopped last among the others; DATA RISK: what only the lost node had is gone).`
        : 'Bring its data directory back, or restore the nodes.',
    }
  }
  return {
    action: 'start',
    first: last.map((f) => f.node),
    then: facts.filter((f) => !last.includes(f) && !f.lost).map((f) => f.node),
    reason: `${last.map((f) => f.node).join(', ')} stopped last (${describeLists(last)}): it starts first, the others join it`,
  }
}
