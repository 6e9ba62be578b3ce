import {formatBytes} from '../patroni/facts.js'
import {table} from '../runbooks/render.js'
import type {RestorePoint} from './restore-points.js'

/** Human rendering of restore points (`--json` prints the objects themselves). */

function state(point: RestorePoint): string {
  if (point.problem) return `! ${point.problem}`
  return point.complete ? 'complete' : 'incomplete (no manifest or record: not finished by ctl)'
}

/** One row per restore point; `action` adds a first column (prune's keep/remove). */
export function restorePointTable(points: readonly RestorePoint[], action?: (point: RestorePoint) => string): string[] {
  const header = ['SERIES', 'TAKEN (UTC)', 'SIZE', 'SHA256', 'ENCRYPTED', 'WHERE', 'STATE']
  const rows = points.map((p) => [
    p.series,
    p.takenAt.replace('T', ' ').replace(/\.\d+Z$/, ''),
    formatBytes(p.sizeBytes),
    p.checksum ? p.checksum.slice(0, 12) : '-',
    p.encrypted ? 'yes' : 'no',
    `${p.nodes.join(',')}:${p.path}`,
    state(p),
  ])
  return action
    ? table(
        ['ACTION', ...header],
        rows.map((r, i) => [action(points[i]!), ...r]),
      )
    : table(header, rows)
}
