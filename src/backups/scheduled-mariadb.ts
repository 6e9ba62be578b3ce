import {posix} from 'node:path'
import {isBackupReplica, memberOf} from '../galera/cluster.js'
import {backupCommand, prepareCommand, recordCommand} from '../galera/backup.js'
import type {GaleraCluster} from '../inventory/schema/databases.js'
import {quote, shellCommand, type RemoteCommand} from '../lib/shell.js'
import {MARIADB_ROWS_FILE, mariadbDrillCommand} from './drill.js'
import {binlogArchiveDir, binlogArchiveLines, binlogShipLines} from '../galera/binlog-archive.js'
import {resticShipLines, type ResticRepo} from './restic.js'

/**
 * The scheduled MariaDB backup: a shell script `ctl backup schedule` installs on the backup node,
 * run by cron there. It takes the backup as `ctl runbook mariadb-backup` does, from the same builders
 * (mariabackup --backup --galera-info, --prepare, the row counts of a scratch copy, ctl's manifest),
 * then ships it offsite with restic when backups.offsite is set. It works in a hidden directory and
 * renames it to its time only when complete, so a run that dies half-way never leaves something that
 * looks like a backup. The secrets (SQL password, S3 keys, repository key) come from a 0600 file
 * beside it, written on stdin by `ctl backup schedule`, one per line. Pure.
 */

/** Where the job's files live on the node: beside the cron file's directory's parent, named after the env. */
export function scheduledMariadbPaths(cronDir: string, env: string, backupDir: string) {
  const name = env.replace(/[^A-Za-z0-9_-]/g, '_')
  const dir = `${cronDir.replace(/\/[^/]+\/?$/, '') || '/'}/ctl-backups`
  return {
    script: `${dir}/mariadb-backup-${name}.sh`,
    binlogScript: `${dir}/mariadb-binlogs-${name}.sh`,
    secrets: `${dir}/mariadb-backup-${name}.secrets`,
    log: `${backupDir}/ctl-schedule.log`,
  }
}

/** `sh -c '<script>'`, the script's lines kept as written (they are quoted already). */
const inShell = (command: RemoteCommand): string => `sh -c ${quote('script' in command ? command.script : shellCommand(command))}`

export function scheduledMariadbScript(
  cluster: GaleraCluster,
  node: string,
  paths: {script: string; secrets: string},
  offsite: ResticRepo | undefined,
): string {
  const member = memberOf(cluster, node)
  const work = `${cluster.backupDir}/.ctl-scheduled`
  const w = quote(work)
  const withPassword = cluster.password !== undefined
  return [
    '#!/bin/sh',
    `# Written by \`ctl backup schedule\`: a mariabackup backup of ${node} into ${cluster.backupDir}, as \`ctl runbook mariadb-backup\``,
    '# takes it, run by cron. Edit the inventory and run `ctl backup schedule` again, not this file.',
    'set -eu',
    'umask 077',
    `secrets=${quote(paths.secrets)}`,
    // One run at a time; a run that died half-way left only the hidden work directory.
    `exec 9> ${quote(`${work}.lock`)}`,
    'flock -n 9 || { echo "another scheduled backup is running" >&2; exit 1; }',
    `rm -rf ${w} ${quote(`${work}.count`)}`,
    'stamp=$(date -u +%Y%m%dT%H%M%S)',
    `target=${quote(cluster.backupDir)}/"$stamp"`,
    `echo "$(date -u +%FT%TZ) backup of" ${quote(node)} "into $target"`,
    `sed -n 1p "$secrets" | ${inShell(backupCommand(member, cluster.user, work, withPassword, isBackupReplica(cluster, node)))}`,
    inShell(prepareCommand(work)),
    // The row counts of a scratch copy, for restore drills (as the runbook's count-rows step).
    `${inShell(mariadbDrillCommand(work, {integrity: false}))} > ${quote(`${work}.count`)}`,
    `grep -qx done ${quote(`${work}.count`)} || { echo "counting the rows failed: $(grep fail ${quote(`${work}.count`)} | head -n 1)" >&2; exit 1; }`,
    `awk -F '\\t' '$1 == "rows" { print $2 "\\t" $3 }' ${quote(`${work}.count`)} | LC_ALL=C sort > ${quote(`${work}/${MARIADB_ROWS_FILE}`)}`,
    `rm -f ${quote(`${work}.count`)}`,
    `${inShell(recordCommand(work))} > /dev/null`,
    `mv ${w} "$target"`,
    `echo "$(date -u +%FT%TZ) complete: $target"`,
    ...(offsite
      ? [
          'checksum=$(sha256sum < "$target/ctl-manifest.sha256" | cut -c1-64)',
          'size=$(du -sb "$target" | cut -f1)',
          `sed -n '2,4p' "$secrets" | sh -c ${quote(resticShipLines(offsite, {dir: '"$1"', name: '"$2"', checksum: '"$3"', sizeBytes: '"$4"'}).join('\n'))} ship "$target" "$stamp" "$checksum" "$size"`,
          `echo "$(date -u +%FT%TZ) shipped to" ${quote(offsite.where)}`,
        ]
      : []),
    '',
  ].join('\n')
}

/**
 * The scheduled binary-log archive (job mariadb-binlogs): as `ctl runbook mariadb-binlog-archive`, from
 * the same builders, one run at a time; the same secrets file as the backup job.
 */
export function scheduledBinlogScript(cluster: GaleraCluster, node: string, secretsPath: string, offsite: ResticRepo | undefined): string {
  const archive = binlogArchiveDir(cluster, node)
  const out = quote(`${archive}.out`)
  return [
    '#!/bin/sh',
    `# Written by \`ctl backup schedule\`: ${node}'s closed binary logs into ${archive}${offsite ? ` and to ${offsite.where}` : ''},`,
    '# as `ctl runbook mariadb-binlog-archive` does, run by cron. Edit the inventory and run `ctl backup schedule` again, not this file.',
    'set -eu',
    'umask 077',
    `secrets=${quote(secretsPath)}`,
    // The run's output file lives beside the archive: its directory first (a first run on a new node).
    `mkdir -p ${quote(posix.dirname(archive))}`,
    `sed -n 1p "$secrets" | sh -c ${quote(binlogArchiveLines(memberOf(cluster, node), cluster.user, archive, cluster.password !== undefined).join('\n'))} > ${out}`,
    `added=$(awk -F '\t' '$1 == "archived" { printf "%s ", $2 }' ${out}); rm -f ${out}`,
    `echo "$(date -u +%FT%TZ) binary logs of" ${quote(node)} "archived: \${added:-nothing new}"`,
    ...(offsite
      ? [
          `sed -n '2,4p' "$secrets" | sh -c ${quote(binlogShipLines(offsite, archive, cluster.name).join('\n'))} > /dev/null`,
          `echo "$(date -u +%FT%TZ) archive shipped to" ${quote(offsite.where)}`,
        ]
      : []),
    '',
  ].join('\n')
}

/** The secrets file's text: the SQL password (or an empty line), then the S3 key pair and the repository key. */
export function scheduledMariadbSecrets(secrets: {sqlPassword?: string; offsite?: string}): string {
  return `${secrets.sqlPassword ?? ''}\n${secrets.offsite ?? ''}`
}
