import {GaleraAccess} from '../../galera/cluster.js'
import type {NodeFacts} from '../../galera/facts.js'
import {findNode} from '../../inventory/load.js'
import type {CheckContext, CheckDefinition, Finding} from '../types.js'

/** Runs the Galera helpers' commands through the check's runner (shared pool, unreachable hosts refused). */
export function galeraAccess(ctx: CheckContext): GaleraAccess {
  return new GaleraAccess(ctx.loaded, {
    run: (node, command, options) =>
      ctx.remote.run(findNode(ctx.loaded, node), command, {
        ...options,
        timeoutMs: Math.min(options?.timeoutMs ?? ctx.timeoutMs, ctx.timeoutMs),
        step: 'galera status',
      }),
    progress: () => undefined,
  })
}

/** One member: running, in the Primary component, the inventory's size, Synced. */
export function judgeGaleraMember(env: string, facts: NodeFacts, expectedSize: number): Finding {
  const recover = `ctl runbook galera-recover ${env} (--dry-run first shows the facts and the decision)`
  if (!facts.running) return {status: 'fail', detail: 'mariadbd is not running', hint: recover}
  if (!facts.status)
    return {
      status: 'fail',
      detail: `mariadbd runs but wsrep status is unreadable: ${facts.sqlError ?? 'no answer'}`,
      hint: `Check the SQL credentials (databases.galera.user/password) and socket; then ${recover}`,
    }
  const s = facts.status
  const detail = `${s.clusterStatus}, ${s.localState}, size ${s.clusterSize}/${expectedSize}`
  if (s.clusterStatus !== 'Primary') return {status: 'fail', detail, hint: `This member is outside the Primary component: ${recover}`}
  if (s.clusterSize !== expectedSize)
    return {
      status: 'fail',
      detail,
      hint: `${expectedSize - s.clusterSize > 0 ? 'A member is missing: start it so it rejoins (IST)' : 'More members than the inventory names: update the inventory'}; ${recover}`,
    }
  if (s.localState === 'Donor/Desynced') return {status: 'warn', detail, hint: 'It serves a state transfer or a backup: wait until it is Synced again.'}
  if (s.localState !== 'Synced') return {status: 'fail', detail, hint: 'Still joining: wait for Synced, or read its error log if it does not progress.'}
  return {status: 'pass', detail}
}

export const galeraCheck: CheckDefinition = {
  id: 'galera',
  title: 'Galera: Primary, size as the inventory, all Synced',
  needs: 'SSH, mariadb client and socket on each member; databases.galera',
  targets: (inventory) => (inventory.databases.galera?.members ?? []).map((m) => ({name: m.node, node: inventory.nodes.find((n) => n.name === m.node)})),
  skipReason: 'no databases.galera in the inventory',
  async run(ctx, target) {
    const access = galeraAccess(ctx)
    // A host the ssh check could not reach is refused by ctx.remote: an `error` row naming the ssh failure.
    const facts = await access.facts(target.name)
    return judgeGaleraMember(ctx.inventory.name, facts, access.cluster.members.length)
  },
}
