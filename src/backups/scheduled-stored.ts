import {quote} from '../lib/shell.js'

/**
 * The scheduled Redis and RabbitMQ backups: a shell script `ctl backup schedule` installs beside the
 * MariaDB one, run by cron on the backup node. It runs the same script the runbook runs
 * (src/backups/redis-rdb.ts, rabbitmq-definitions.ts), with every member as a candidate, and turns its
 * tagged answer into a log line and an exit status. Pure.
 */

export type StoredJob = 'redis' | 'rabbitmq-definitions'

/** Where the job's files live on the node: the same directory as the MariaDB job's. */
export function scheduledStoredPaths(cronDir: string, env: string, job: StoredJob) {
  const name = env.replace(/[^A-Za-z0-9_-]/g, '_')
  const dir = `${cronDir.replace(/\/[^/]+\/?$/, '') || '/'}/ctl-backups`
  return {script: `${dir}/${job}-backup-${name}.sh`, secrets: `${dir}/${job}-backup-${name}.secrets`}
}

/**
 * The job's script: `backupScript` run with the secrets file's first line on stdin (the Redis
 * password) when there is one; `complete: <path>` in the log, or the failed stage and exit 1.
 */
export function scheduledStoredScript(job: StoredJob, node: string, dir: string, backupScript: string, secretsPath?: string): string {
  const feed = secretsPath ? `sed -n 1p ${quote(secretsPath)}` : ': '
  return [
    '#!/bin/sh',
    `# Written by \`ctl backup schedule\`: a ${job === 'redis' ? 'Redis RDB snapshot' : 'RabbitMQ definitions'} backup into ${dir} on ${node}, as`,
    `# \`ctl runbook ${job === 'redis' ? 'redis-backup' : 'rabbitmq-backup'}\` takes it, run by cron. Edit the inventory and run \`ctl backup schedule\` again, not this file.`,
    'set -u',
    'umask 077',
    `out=$(${feed} | sh -c ${quote(backupScript)})`,
    `path=$(printf '%s\\n' "$out" | awk -F '\\t' '$1 == "backup" && $2 == "ok" { print $3 }')`,
    `if [ -n "$path" ]; then echo "$(date -u +%FT%TZ) complete: $path"; exit 0; fi`,
    `echo "$(date -u +%FT%TZ) ${job} backup failed: $(printf '%s\\n' "$out" | awk -F '\\t' '$2 == "fail" { print $1 ": " $3; exit }')" >&2`,
    'exit 1',
    '',
  ].join('\n')
}
