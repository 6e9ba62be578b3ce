import type {Inventory, InventoryNode} from '../inventory/schema/index.js'
import {toCtlError} from '../lib/errors.js'
import {lastLines} from '../lib/output.js'
import type {RemoteRunner} from '../ssh/pool.js'
import {posix} from 'node:path'
import {quote, renderCommand} from '../lib/shell.js'
import {writeRecordCommand} from '../patroni/dump.js'
import {judgeDrill, parseDrillOutput, type DrillRecord} from './drill.js'
import type {DrillTarget} from './verify-plan.js'

/** A drill's outcome as `ctl backup verify` reports it: the record, and whether it could be saved next to the backup. */
export interface DrillResult {
  target: {path: string; node: string; series: string}
  record: DrillRecord
  /** The rows of every table the scratch server counted (`db.schema.table` for PostgreSQL, `db.table` for MariaDB). */
  rowCounts: Record<string, number>
  /** Why the record could not be written (the drill's verdict still stands). */
  recordNotSaved?: string
}

const DRILL_TIMEOUT_MS = 6 * 3600_000

/** The counts the backup recorded when it was taken (the record of a pg_dump, Redis or RabbitMQ backup), if any. */
async function recordedCounts(runner: RemoteRunner, node: InventoryNode, target: DrillTarget): Promise<Record<string, number> | undefined> {
  if (!['postgres', 'redis', 'rabbitmq'].includes(target.point.database) || target.point.restic) return undefined
  const read = await runner.run(node, ['cat', `${target.point.path}.json`], {step: 'read the backup record', timeoutMs: 60_000})
  if (read.code !== 0) return undefined
  try {
    const counts = (JSON.parse(read.stdout) as {rowCounts?: unknown}).rowCounts
    return counts && typeof counts === 'object' ? (counts as Record<string, number>) : undefined
  } catch {
    return undefined
  }
}

/** Runs one drill on the node that holds the backup (an offsite one gets the keys on stdin), judges it and records the result next to the backup. */
export async function runDrill(runner: RemoteRunner, inventory: Inventory, target: DrillTarget, stdin?: string): Promise<DrillResult> {
  const node = inventory.nodes.find((n) => n.name === target.node) as InventoryNode
  const started = Date.now()
  const meta = () => ({path: target.point.path, node: target.node, verifiedAt: new Date().toISOString(), durationMs: Date.now() - started})
  let record: DrillRecord
  let rowCounts: Record<string, number> = {}
  try {
    const recorded = await recordedCounts(runner, node, target)
    const ran = await runner.run(
      node,
      {script: target.command},
      {step: `restore drill of ${target.point.path}`, timeoutMs: DRILL_TIMEOUT_MS, ...(stdin ? {stdin} : {})},
    )
    const output = parseDrillOutput(ran.stdout)
    if (ran.code !== 0 && !output.failed) output.failed = {stage: 'scratch', message: `exit ${ran.code}: ${lastLines(ran.stderr, 2, ' ')}`}
    record = judgeDrill(output, recorded, meta())
    rowCounts = output.rows
  } catch (error) {
    record = judgeDrill(
      {integrity: false, started: false, rows: {}, unreadable: [], finished: false, failed: {stage: 'scratch', message: toCtlError(error).message}},
      undefined,
      meta(),
    )
  }
  const result: DrillResult = {target: {path: target.point.path, node: target.node, series: target.point.series}, record, rowCounts}
  try {
    // pgBackRest's drill records live in a directory of their own beside the repository (made on first use).
    const written = await runner.run(
      node,
      {script: `mkdir -p ${quote(posix.dirname(target.recordPath))} && ${renderCommand(writeRecordCommand(target.recordPath))}`},
      {
        stdin: `${JSON.stringify(record, null, 2)}\n`,
        step: 'record the drill',
        timeoutMs: 60_000,
      },
    )
    if (written.code !== 0) result.recordNotSaved = lastLines(written.stderr, 2, ' ') || `exit ${written.code}`
  } catch (error) {
    result.recordNotSaved = toCtlError(error).message
  }
  return result
}
