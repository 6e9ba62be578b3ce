import type {EtcdListedMember} from './members.js'

/**
 * Which etcd member etcd-member-replace replaces, and what it must still do: remove the member from
 * the cluster (when it is listed as started), add it back as new (unless listed unstarted: a run cut
 * short after adding it), then start it with an empty data directory. Changing the membership needs a
 * majority of healthy members; a healthy member is never replaced. Pure.
 */

export interface EtcdMemberHealth {
  name: string
  node: string
  peerUrl: string
  healthy: boolean
  detail: string
}

export type ReplaceChoice =
  {ok: true; target: string; remove?: string; add: boolean; healthy: string[]} | {ok: false; code: string; reason: string; hint: string}

export function chooseMemberToReplace(
  health: readonly EtcdMemberHealth[],
  listed: readonly EtcdListedMember[] | undefined,
  env: string,
  asked?: string,
): ReplaceChoice {
  const healthy = health.filter((h) => h.healthy)
  const majority = Math.floor(health.length / 2) + 1
  if (healthy.length < majority)
    return {
      ok: false,
      code: 'etcd.no-quorum',
      reason: `only ${healthy.length} of ${health.length} members are healthy: without a majority the membership cannot change`,
      hint: `Start the members that are down (their control start) if their data is intact; if a majority's data is lost: ctl runbook etcd-restore ${env}.`,
    }
  if (!listed)
    return {
      ok: false,
      code: 'etcd.no-member-list',
      reason: 'no healthy member gave its member list',
      hint: `Run: etcdctl member list on a member; then ctl check run ${env} etcd.`,
    }
  const strangers = listed.filter((l) => !health.some((h) => h.name === l.name || l.peerUrls.includes(h.peerUrl)))
  if (strangers.length > 0)
    return {
      ok: false,
      code: 'etcd.unknown-members',
      reason: `etcd lists members the inventory does not describe: ${strangers.map((s) => `${s.id} (${s.name || 'unstarted'} ${s.peerUrls.join(',')})`).join('; ')}`,
      hint: 'Describe them in databases.etcd, or remove them (etcdctl member remove <id>) if they are leftovers.',
    }
  const unhealthy = health.filter((h) => !h.healthy)
  let target: EtcdMemberHealth | undefined
  if (asked !== undefined) {
    target = health.find((h) => h.name === asked)
    if (!target)
      return {
        ok: false,
        code: 'etcd.bad-member',
        reason: `${asked} is not a member in databases.etcd`,
        hint: `Members: ${health.map((h) => h.name).join(', ')}`,
      }
    if (target.healthy)
      return {
        ok: false,
        code: 'etcd.member-healthy',
        reason: `${asked} is healthy (${target.detail}): it is not replaced`,
        hint: 'Replace only a member that lost its data or cannot start.',
      }
  } else {
    if (unhealthy.length === 0)
      return {ok: false, code: 'etcd.healthy', reason: 'every member is healthy: nothing to replace', hint: `ctl check run ${env} etcd`}
    if (unhealthy.length > 1)
      return {
        ok: false,
        code: 'etcd.choose-member',
        reason: `${unhealthy.length} members are unhealthy (${unhealthy.map((u) => u.name).join(', ')})`,
        hint: 'Name the one to replace with --member (one at a time; start the others first if their data is intact).',
      }
    target = unhealthy[0]!
  }
  const entry = listed.find((l) => l.name === target.name || l.peerUrls.includes(target.peerUrl))
  return {
    ok: true,
    target: target.name,
    ...(entry?.started ? {remove: entry.id} : {}),
    add: !entry || entry.started,
    healthy: healthy.map((h) => h.name),
  }
}
