import type {RaftServer} from './client.js'
import type {VaultNodeStatus} from './plan.js'

/** Text tables of the vault commands (the `--json` result carries the same facts). */

function pad(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  return rows.map((r) =>
    r
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  )
}

const yesNo = (value: boolean | undefined) => (value === undefined ? '-' : value ? 'yes' : 'no')

/** One line per member: initialized, sealed, unseal progress, HA mode, Raft peer. */
export function statusTable(statuses: VaultNodeStatus[], servers: RaftServer[] | undefined): string[] {
  const header = ['NODE', 'API', 'INITIALIZED', 'SEALED', 'PROGRESS', 'HA MODE', 'RAFT PEER', 'VERSION']
  const rows = statuses.map((s) => {
    if (!s.reachable) return [s.node, s.apiUrl, '-', '-', '-', 'unreachable', '-', '-']
    const peer = servers?.find((p) => p.node_id === s.node)
    const raft = servers === undefined ? '?' : peer ? (peer.leader ? 'leader' : peer.voter ? 'voter' : 'non-voter') : 'no'
    const progress = s.sealed && s.initialized ? `${s.progress ?? 0}/${s.threshold ?? '?'}` : '-'
    return [s.node, s.apiUrl, yesNo(s.initialized), yesNo(s.sealed), progress, s.haMode ?? '-', raft, s.version ?? '-']
  })
  return pad([header, ...rows])
}

/** The Raft configuration's servers, one line each. */
export function raftLines(servers: RaftServer[]): string[] {
  return servers.map((s) => `  ${s.node_id} ${s.address}${s.leader ? ' (leader)' : ''}${s.voter ? '' : ' (non-voter)'}`)
}
