import {CtlError, ExitCode} from '../lib/errors.js'
import {backupStamp} from '../galera/backup.js'
import {pgbackrestDrillCommand} from '../patroni/pitr.js'
import {renderCommand} from '../lib/shell.js'
import {drillRecordPath, mariadbDrillCommand, postgresDrillCommand} from './drill.js'
import {resticDrillCommand} from './restic-points.js'
import type {RestorePoint} from './restore-points.js'
import {redisDrillScript} from './redis-rdb.js'
import {DEFAULT_RABBITMQ_BIN, rabbitmqDrillScript} from './rabbitmq-definitions.js'

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
  const stamp = options.stamp ?? backupStamp()
  if (options.at !== undefined) {
    const target = pointInTime(options.at, options.now)
    const finished = points.filter((p) => usable(p) && p.pgbackrest && p.pgbackrest.stoppedAt <= target)
    const chosen = newestPerSeries(finished, (p) => p.pgbackrest!.stoppedAt)
    if (chosen.length === 0)
      throw new CtlError(`No pgBackRest backup had finished by ${target}: no drill reaches that time`, {
        exitCode: ExitCode.cannotRun,
        code: 'backup.target-too-old',
        hint: `ctl backup list ${options.env} --database pgbackrest shows the backups and when they were taken (--at needs WAL archiving: pgBackRest only).`,
      })
    return chosen.map((point) => drillTarget(point, stamp, target))
  }
  if (options.path === undefined) return newestPerSeries(points.filter(usable), (p) => p.takenAt).map((point) => drillTarget(point, stamp))
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
        hint: `Take a new backup (ctl runbook ${{mariadb: 'mariadb-backup', postgres: 'pg-backup', pgbackrest: 'pgbackrest-backup', redis: 'redis-backup', rabbitmq: 'rabbitmq-backup'}[bad.database]} ${options.env}) and verify that one.`,
      },
    )
  return named.map((point) => drillTarget(point, stamp))
}

/** The newest point of each series by `time`, in series order. */
function newestPerSeries(points: readonly RestorePoint[], time: (p: RestorePoint) => string): RestorePoint[] {
  const newest = new Map<string, RestorePoint>()
  for (const p of [...points].sort((a, b) => time(b).localeCompare(time(a)))) if (!newest.has(p.series)) newest.set(p.series, p)
  return [...newest.values()].sort((a, b) => a.series.localeCompare(b.series))
}

/** `--at` as ISO time; refused in the future (no WAL reaches it). */
function pointInTime(at: Date, now = new Date()): string {
  const target = at.toISOString()
  if (at.getTime() > now.getTime())
    throw new CtlError(`--at ${target} is in the future`, {exitCode: ExitCode.cannotRun, code: 'backup.future-target', hint: 'Give a time in the past.'})
  return target
}

/**
 * The drill of one point on the first node holding it: restic restore then the mariabackup drill,
 * pgBackRest restore (to its consistent point, or recovered to `target`: WAL replayed up to it),
 * the mariabackup drill, the pg_dump drill, or a Redis or RabbitMQ one (src/backups/stored-file.ts).
 */
function drillTarget(point: RestorePoint, stamp: string, target?: string): DrillTarget {
  const node = point.nodes[0]!
  const command = point.restic
    ? resticDrillCommand(point.restic)
    : point.pgbackrest
      ? pgbackrestDrillCommand({...point.pgbackrest, node}, stamp, target)
      : point.database === 'mariadb'
        ? mariadbDrillCommand(point.path)
        : point.database === 'redis'
          ? {script: redisDrillScript(point.path, point.checksum ?? '')}
          : point.database === 'rabbitmq'
            ? {script: rabbitmqDrillScript(point.path, point.checksum ?? '', point.serverBinDir ?? DEFAULT_RABBITMQ_BIN)}
            : postgresDrillCommand(point.path, point.checksum ?? '')
  return {point, node, command: renderCommand(command), recordPath: drillRecordPath(point)}
}
