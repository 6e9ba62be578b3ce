import {posix} from 'node:path'
import {shellCommand, type RemoteCommand} from '../lib/shell.js'
import {drillRecordPath} from './drill.js'
import {resticForgetCommand} from './restic-points.js'
import type {RestorePoint} from './restore-points.js'

/** What `ctl backup prune` keeps and removes in one series (a database's restore points). */
export interface RetentionPlan {
  series: string
  keep: number
  /** Complete backups kept, newest first (the newest `keep`, plus the newest one a drill passed). */
  kept: RestorePoint[]
  /** Complete backups beyond `keep`, oldest first (the order they are removed in). */
  remove: RestorePoint[]
  /** Backups ctl did not finish (no manifest or record) or that do not match their record: never counted, never removed. */
  leftAlone: RestorePoint[]
}

/**
 * Keeps the newest `keep` complete restore points of each series (at least one: the schema asks
 * keep >= 1, and this refuses less), removes the older ones. Incomplete or damaged ones are left for a
 * person and do not count: a damaged newest backup must not push out the last good one. The newest
 * backup a restore drill passed is always kept, even beyond `keep`: it is the one proven to restore.
 */
export function planRetention(points: readonly RestorePoint[], keepFor: (point: RestorePoint) => number): RetentionPlan[] {
  const series = new Map<string, RestorePoint[]>()
  for (const point of points) series.set(point.series, [...(series.get(point.series) ?? []), point])
  return [...series.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, members]) => {
      const keep = keepFor(members[0]!)
      if (!Number.isInteger(keep) || keep < 1) throw new Error(`retention of ${name} must keep at least one backup, not ${keep}`)
      const usable = (p: RestorePoint) => p.complete && !p.problem
      const complete = members.filter(usable).sort((a, b) => b.takenAt.localeCompare(a.takenAt))
      const verified = complete.find((p) => p.lastDrill?.outcome === 'passed')
      const kept = complete.filter((p, i) => i < keep || p === verified)
      return {
        series: name,
        keep,
        kept,
        remove: complete.filter((p) => !kept.includes(p)).reverse(),
        leftAlone: members.filter((p) => !usable(p)),
      }
    })
}

/**
 * Removes one restore point, only if it is still the complete backup that was listed: a directory
 * with ctl's manifest (mariabackup) or a dump with its record (pg_dump), directly in its location;
 * an offsite copy is a restic snapshot, forgotten and pruned (the keys on stdin).
 */
export function removeRestorePointCommand(point: RestorePoint): RemoteCommand {
  // pgBackRest's files are pgBackRest's: it expires them itself (retentionFull).
  if (point.database === 'pgbackrest') throw new Error(`${point.path} is in a pgBackRest repository: not removed by ctl`)
  if (point.restic) return resticForgetCommand(point.restic)
  if (posix.dirname(point.path) !== point.dir || posix.basename(point.path).startsWith('.'))
    throw new Error(`${point.path} is not an entry of ${point.dir}: not removed`)
  if (point.database === 'mariadb')
    return {
      script: `${shellCommand(['test', '-f', `${point.path}/ctl-manifest.sha256`])} && ${shellCommand(['rm', '-rf', '--', point.path, drillRecordPath(point)])}`,
    }
  return {
    script: `${shellCommand(['test', '-f', `${point.path}.json`])} && ${shellCommand(['rm', '-f', '--', point.path, `${point.path}.json`, drillRecordPath(point)])}`,
  }
}
