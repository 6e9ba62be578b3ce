import {posix} from 'node:path'
import {Flags} from '@oclif/core'
import {gatherRestorePoints} from '../../backups/gather.js'
import {FETCH_EXIT, resticFetchCommand} from '../../backups/restic-points.js'
import {resticSecretsStdin} from '../../backups/restic.js'
import {selectBackupLocations} from '../../backups/select.js'
import type {InventoryNode} from '../../inventory/schema/index.js'
import {CtlCommand, changeFlags, envArg} from '../../lib/command.js'
import {CtlError, ExitCode} from '../../lib/errors.js'
import {lastLines} from '../../lib/output.js'
import {withSpinner} from '../../lib/progress.js'
import {renderCommand} from '../../lib/shell.js'

export interface BackupFetchResult {
  env: string
  path: string
  node: string
  /** The backup directory it became on the node. */
  fetched?: string
  dryRun: boolean
  next?: string
}

const FAILURES: Record<number, string> = {
  [FETCH_EXIT.exists]: 'a backup of that name is on the node already',
  [FETCH_EXIT.restore]: 'restic could not restore it (a wrong key, a damaged or missing object, no space)',
  [FETCH_EXIT.integrity]: "what came back does not match ctl's manifest",
}

export default class BackupFetch extends CtlCommand {
  static override summary = 'Bring an offsite MariaDB backup back onto the backup node, as a local restore point to restore from.'
  static override description = `For a restore after the backup node lost its copies (or a new cluster): restic restores the snapshot --path names (ctl backup list shows them, s3://...#<id>) into a private directory in databases.galera.backupDir on the backup node, checks every file against ctl's manifest, then renames it to its original name there. Refused when that name exists. Nothing else changes; restore with ctl runbook mariadb-restore <env> --from <dir> afterwards.`
  static override examples = [
    '<%= config.bin %> backup fetch prod --path s3://backups/restic/mariadb#d2dbfe2d',
    '<%= config.bin %> backup fetch lab --path s3://ctl-backups/restic/mariadb#d2dbfe2d --dry-run',
  ]
  static override args = {env: envArg}
  static override flags = {
    ...changeFlags,
    path: Flags.string({description: 'The offsite restore point (s3://...#<id>, as ctl backup list shows it).', required: true}),
  }

  async run(): Promise<BackupFetchResult> {
    const {args, flags} = await this.parse(BackupFetch)
    const loaded = this.loadEnv(args.env)
    const galera = loaded.inventory.databases.galera
    const locations = selectBackupLocations(loaded.inventory, 'mariadb').filter((l) => l.restic)
    if (!galera || locations.length === 0)
      throw new CtlError('The inventory has no offsite MariaDB backups (databases.galera and backups.offsite)', {
        exitCode: ExitCode.cannotRun,
        code: 'backup.no-offsite',
        hint: 'Offsite copies are made by mariadb-backup when backups.offsite is set (docs/BACKUPS.md).',
      })
    this.auditContext = {...this.auditContext, hosts: locations.flatMap((l) => l.nodes)}
    const pool = this.sshPool(loaded)
    const gathered = await gatherRestorePoints(pool, loaded, locations)
    const point = gathered.points.find((p) => p.path === flags.path && p.restic)
    const unlisted = gathered.unlisted[0]
    if (!point)
      throw new CtlError(`No offsite restore point ${flags.path}${unlisted ? ` (${unlisted.node}: ${unlisted.error})` : ''}`, {
        exitCode: ExitCode.cannotRun,
        code: 'backup.not-found',
        hint: unlisted?.hint ?? `ctl backup list ${loaded.env} --database mariadb shows the offsite ones (s3://...#<id>).`,
      })
    const node = loaded.inventory.nodes.find((n) => n.name === point.nodes[0]) as InventoryNode
    const target = `${galera.backupDir}/${posix.basename(point.restic!.originalPath)}`
    const command = resticFetchCommand(point.restic!, galera.backupDir, target)
    if (flags['dry-run']) {
      if (!this.jsonEnabled())
        this.log(`Would fetch ${point.path} into ${node.name}:${target} (keys on stdin)\n  ${renderCommand(command).replaceAll('\n', '\n  ')}`)
      this.auditContext.outcome = 'dry-run'
      return {env: loaded.env, path: point.path, node: node.name, dryRun: true}
    }
    const r = await withSpinner(`restic restore of ${point.path} on ${node.name}`, () =>
      pool.run(node, command, {stdin: resticSecretsStdin(loaded), step: 'fetch', timeoutMs: 12 * 3600_000}),
    )
    if (r.code !== 0)
      throw new CtlError(`Fetching ${point.path} failed: ${FAILURES[r.code] ?? `exit ${r.code}`}: ${lastLines(r, 3, ' ')}`, {
        host: node.name,
        step: 'fetch',
        code: 'backup.fetch-failed',
        hint:
          r.code === FETCH_EXIT.exists
            ? `Restore from ${target} as it is, or move it away first.`
            : 'Nothing was left on the node; ctl backup verify --path <it> drills it.',
      })
    const next = `ctl runbook mariadb-restore ${loaded.env} --from ${target} --node ${node.name}`
    if (!this.jsonEnabled()) this.log(`Fetched ${point.path} into ${node.name}:${target}, every file as its manifest says.\nRestore with: ${next}`)
    this.auditContext.detail = {fetched: target}
    return {env: loaded.env, path: point.path, node: node.name, fetched: target, dryRun: false, next}
  }
}
