import {posix} from 'node:path'
import {shellCommand, type RemoteCommand} from '../lib/shell.js'
import type {GaleraMember} from '../inventory/schema/databases.js'
import type {Position} from './facts.js'

/**
 * Builders for mariabackup backups and restores of a Galera member (argv or scripts of quoted parts;
 * tests assert the exact command lines). Facts: /work/shared/LAB-NOTES.md (mariabackup).
 */

const MANIFEST = 'ctl-manifest.sha256'

/** `20261126T121500`: backup directory names sort by time. */
export function backupStamp(now = new Date()): string {
  return now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, '')
}

function defaultsFirst(member: GaleraMember): string[] {
  // mariabackup only honours --defaults-file as its very first option.
  return member.defaultsFile ? [`--defaults-file=${member.defaultsFile}`] : []
}

/** Backups hold every row: what ctl writes into them is readable by their owner only (0600 files, 0700 directories). */
const OWNER_ONLY = 'umask 077'

/**
 * `mariabackup --backup --galera-info` into a new directory (refuses to reuse one). The password
 * arrives on stdin and reaches mariabackup as MYSQL_PWD, never on its command line. The backup
 * directory is made 0700 even when it existed before.
 */
export function backupCommand(member: GaleraMember, user: string, target: string, withPassword: boolean, fromReplica = false): RemoteCommand {
  // A member records its Galera position; the backup replica its source's GTID position
  // (xtrabackup_slave_info), its SQL thread paused while the non-InnoDB files are copied.
  const position = fromReplica ? ['--slave-info', '--safe-slave-backup'] : ['--galera-info']
  const backup = ['mariabackup', ...defaultsFirst(member), '--backup', ...position, `--socket=${member.socket}`, `--user=${user}`, `--target-dir=${target}`]
  const dir = posix.dirname(target)
  const steps = [OWNER_ONLY, shellCommand(['mkdir', '-p', dir]), shellCommand(['chmod', '700', dir]), shellCommand(['mkdir', target])]
  if (withPassword) steps.unshift('IFS= read -r MYSQL_PWD', 'export MYSQL_PWD')
  return {script: [...steps, shellCommand(backup)].join(' && ')}
}

export function prepareCommand(target: string): RemoteCommand {
  return {script: `${OWNER_ONLY} && ${shellCommand(['mariabackup', '--prepare', `--target-dir=${target}`])}`}
}

/**
 * Takes group and other access from every file of the backup (whatever mode mariabackup gave them),
 * writes a sha256 manifest of every file, then prints the manifest's own sha256 and the size in bytes.
 */
export function recordCommand(target: string): RemoteCommand {
  const dir = shellCommand([target])
  return {
    script: `${OWNER_ONLY} && chmod -R go-rwx ${dir} && cd ${dir} && find . -type f ! -name ${MANIFEST} -print0 | sort -z | xargs -0 sha256sum > ${MANIFEST} && sha256sum ${MANIFEST} && du -sb .`,
  }
}

export interface BackupRecord {
  /** sha256 of the manifest (which holds the sha256 of every file). */
  checksum: string
  sizeBytes: number
}

export function parseRecord(stdout: string): BackupRecord | undefined {
  const checksum = /^([0-9a-f]{64})\s+ctl-manifest\.sha256$/m.exec(stdout)?.[1]
  const size = /^(\d+)\s+\.$/m.exec(stdout)?.[1]
  return checksum && size ? {checksum, sizeBytes: Number(size)} : undefined
}

/** Checks every file against the manifest, then prints the manifest's sha256 (to compare with the recorded one). */
export function verifyBackupCommand(target: string): RemoteCommand {
  return {script: `cd ${shellCommand([target])} && sha256sum --quiet -c ${MANIFEST} && sha256sum ${MANIFEST}`}
}

/** Exit 0 when the backup was prepared (MariaDB 10.11 writes `log-applied`, older versions `full-prepared`). */
export function isPreparedCommand(target: string): string[] {
  return ['grep', '-Eq', '^backup_type = (log-applied|full-prepared)$', `${target}/xtrabackup_checkpoints`]
}

/** `uuid:seqno` (mariabackup also appends the GTID domain in newer versions: ignored). */
export function parseGaleraInfo(text: string): Position | undefined {
  const m = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}):(-?\d+)/im.exec(text.trim())
  return m ? {uuid: m[1]!.toLowerCase(), seqno: Number(m[2])} : undefined
}

export function readGaleraInfoCommand(target: string): string[] {
  return ['cat', `${target}/xtrabackup_galera_info`]
}

/** What `--slave-info` wrote: the statements that point a new replica at the same source position. */
export function readSlaveInfoCommand(target: string): string[] {
  return ['cat', `${target}/xtrabackup_slave_info`]
}

/** The GTID in xtrabackup_slave_info (`SET GLOBAL gtid_slave_pos = '0-1-42';`). */
export function parseSlaveInfoGtid(text: string): string | undefined {
  return /gtid_slave_pos\s*=\s*'([\d,-]+)'/.exec(text)?.[1]
}

/**
 * Moves the datadir aside (never deleted; a copy of the data, so readable by its owner only) and leaves
 * an empty one with the same owner and mode.
 */
export function moveDatadirAsideCommand(datadir: string, aside: string): RemoteCommand {
  const d = shellCommand([datadir])
  const a = shellCommand([aside])
  return {
    script: `test ! -e ${a} && owner=$(stat -c %u:%g ${d}) && mode=$(stat -c %a ${d}) && mv ${d} ${a} && chmod go-rwx ${a} && mkdir ${d} && chown "$owner" ${d} && chmod "$mode" ${d}`,
  }
}

/** `mariabackup --copy-back` into the (empty) datadir, then gives every file the datadir's owner. */
export function copyBackCommand(member: GaleraMember, backup: string): RemoteCommand {
  const copy = ['mariabackup', ...defaultsFirst(member), '--copy-back', `--target-dir=${backup}`, `--datadir=${member.datadir}`]
  const d = shellCommand([member.datadir])
  return {script: `${shellCommand(copy)} && chown -R "$(stat -c %u:%g ${d})" ${d}`}
}

/** grastate.dat for a restored datadir: the backup's position, and whether it may bootstrap. */
export function grastateText(position: Position, safeToBootstrap: boolean): string {
  return `# GALERA saved state\nversion: 2.1\nuuid:    ${position.uuid}\nseqno:   ${position.seqno}\nsafe_to_bootstrap: ${safeToBootstrap ? 1 : 0}\n`
}

export function writeGrastateCommand(datadir: string, position: Position, safeToBootstrap: boolean): RemoteCommand {
  const file = shellCommand([`${datadir}/grastate.dat`])
  const lines = grastateText(position, safeToBootstrap).trimEnd().split('\n')
  return {script: `${shellCommand(['printf', '%s\\n', ...lines])} > ${file} && chown "$(stat -c %u:%g ${shellCommand([datadir])})" ${file}`}
}
