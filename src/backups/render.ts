import {formatBytes} from '../patroni/facts.js'
import {table} from '../runbooks/render.js'
import type {RestorePoint} from './restore-points.js'
import type {DrillResult} from './verify-run.js'

/** Human rendering of restore points (`--json` prints the objects themselves). */

function state(point: RestorePoint): string {
  if (point.problem) return `! ${point.problem}`
  return point.complete ? 'complete' : 'incomplete (no manifest or record: not finished by ctl)'
}

const shortTime = (iso: string) => iso.replace('T', ' ').replace(/\.\d+Z$/, '')

function drilled(point: RestorePoint): string {
  if (!point.lastDrill) return 'never'
  return `${point.lastDrill.outcome === 'passed' ? 'passed' : 'FAILED'} ${shortTime(point.lastDrill.verifiedAt)}`
}

/** One row per restore drill run by `ctl backup verify`. */
export function drillTable(results: readonly DrillResult[]): string[] {
  return table(
    ['SERIES', 'WHERE', 'DRILL', 'TABLES', 'ROWS', 'COUNTS', 'TOOK'],
    results.map((r) => [
      r.target.series,
      `${r.target.node}:${r.target.path}`,
      r.record.outcome === 'passed' ? 'passed' : 'FAILED',
      String(r.record.tables),
      String(r.record.rows),
      r.record.counts === 'not recorded' ? 'readable (no count record)' : r.record.counts,
      `${Math.round(r.record.durationMs / 100) / 10} s`,
    ]),
  )
}

/** One row per restore point; `action` adds a first column (prune's keep/remove). */
export function restorePointTable(points: readonly RestorePoint[], action?: (point: RestorePoint) => string): string[] {
  const header = ['SERIES', 'TAKEN (UTC)', 'SIZE', 'SHA256', 'ENCRYPTED', 'LAST DRILL (UTC)', 'WHERE', 'STATE']
  const rows = points.map((p) => [
    p.series,
    shortTime(p.takenAt),
    formatBytes(p.sizeBytes),
    p.checksum ? p.checksum.slice(0, 12) : '-',
    p.encrypted ? 'yes' : 'no',
    drilled(p),
    p.offsite ? `${p.path} (offsite, via ${p.nodes.join(',')})` : `${p.nodes.join(',')}:${p.path}`,
    state(p),
  ])
  return action
    ? table(
        ['ACTION', ...header],
        rows.map((r, i) => [action(points[i]!), ...r]),
      )
    : table(header, rows)
}
