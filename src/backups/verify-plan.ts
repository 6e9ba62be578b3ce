import {CtlError, ExitCode} from '../lib/errors.js'
import {backupStamp} from '../galera/backup.js'
import {pgbackrestDrillCommand} from '../patroni/pitr.js'
import {renderCommand} from '../lib/shell.js'
import {drillRecordPath, mariadbDrillCommand, postgresDrillCommand} from './drill.js'
import {resticDrillCommand} from './restic-points.js'
import type {RestorePoint} from './restore-points.js'

/** One restore drill to run: the restore point, the node that holds it (and runs the scratch server). */
export interface DrillTarget {
  point: RestorePoint
  node: string
  /** The drill script, for the plan (--dry-run) and the run. */
  command: string
  recordPath: string
}

/**
 * What `ctl backup verify` drills: the restore point `--path` names, else the newest complete one of
 * every series. An unfinished or damaged backup is refused: its record is what a drill checks against.
 */
export function chooseDrillTargets(
  points: readonly RestorePoint[],
  options: {path?: string; env: string; stamp?: string; at?: Date; now?: Date},
): DrillTarget[] {
  const usable = (p: RestorePoint) => p.complete && !p.problem
  let chosen: RestorePoint[]
  if (options.at !== undefined) return pointInTimeTargets(points.filter(usable), options.at, options)
  if (options.path !== undefined) {
    const named = points.filter((p) => p.path === options.path)
    if (named.length === 0)
      throw new CtlError(`No restore point at ${options.path}`, {
        exitCode: ExitCode.cannotRun,
        code: 'backup.not-found',
        hint: `ctl backup list ${options.env} shows every restore point with its path.`,
      })
    const bad = named.find((p) => !usable(p))
    if (bad)
      throw new CtlError(
        `${bad.path} is ${bad.problem ? `damaged (${bad.problem})` : 'not a complete backup (no manifest or record)'}: there is nothing to check it against`,
        {
          exitCode: ExitCode.cannotRun,
          code: 'backup.incomplete',
          hint: `Take a new backup (ctl runbook ${{mariadb: 'mariadb-backup', postgres: 'pg-backup', pgbackrest: 'pgbackrest-backup'}[bad.database]} ${options.env}) and verify that one.`,
        },
      )
    chosen = named
  } else {
    const newest = new Map<string, RestorePoint>()
    for (const p of [...points].filter(usable).sort((a, b) => b.takenAt.localeCompare(a.takenAt))) if (!newest.has(p.series)) newest.set(p.series, p)
    chosen = [...newest.values()].sort((a, b) => a.series.localeCompare(b.series))
  }
  return chosen.map((point) => {
    const command = point.restic
      ? resticDrillCommand(point.restic)
      : point.pgbackrest
        ? pgbackrestDrillCommand({...point.pgbackrest, node: point.nodes[0]!}, options.stamp ?? backupStamp())
        : point.database === 'mariadb'
          ? mariadbDrillCommand(point.path)
          : postgresDrillCommand(point.path, point.checksum ?? '')
    return {point, node: point.nodes[0]!, command: renderCommand(command), recordPath: drillRecordPath(point)}
  })
}

/**
 * `--at`: per pgBackRest series (local, offsite), the newest good backup that had finished by then,
 * restored and recovered to that time (WAL replayed up to it) instead of to its own consistent point.
 */
function pointInTimeTargets(points: readonly RestorePoint[], at: Date, options: {env: string; stamp?: string; now?: Date}): DrillTarget[] {
  const target = at.toISOString()
  if (at.getTime() > (options.now ?? new Date()).getTime())
    throw new CtlError(`--at ${target} is in the future`, {exitCode: ExitCode.cannotRun, code: 'backup.future-target', hint: 'Give a time in the past.'})
  const newest = new Map<string, RestorePoint>()
  for (const p of points
    .filter((x) => x.pgbackrest && x.pgbackrest.stoppedAt <= target)
    .sort((a, b) => b.pgbackrest!.stoppedAt.localeCompare(a.pgbackrest!.stoppedAt)))
    if (!newest.has(p.series)) newest.set(p.series, p)
  if (newest.size === 0)
    throw new CtlError(`No pgBackRest backup had finished by ${target}: no drill reaches that time`, {
      exitCode: ExitCode.cannotRun,
      code: 'backup.target-too-old',
      hint: `ctl backup list ${options.env} --database pgbackrest shows the backups and when they were taken (--at needs WAL archiving: pgBackRest only).`,
    })
  return [...newest.values()]
    .sort((a, b) => a.series.localeCompare(b.series))
    .map((point) => ({
      point,
      node: point.nodes[0]!,
      command: renderCommand(pgbackrestDrillCommand({...point.pgbackrest!, node: point.nodes[0]!}, options.stamp ?? backupStamp(), target)),
      recordPath: drillRecordPath(point),
    }))
}
