import {redisBackupScript} from '../backups/redis-rdb.js'
import {parseStoreOutput, type StoredBackup} from '../backups/stored-file.js'
import {CtlError, ExitCode} from '../lib/errors.js'
import {lastLines} from '../lib/output.js'
import {redisCluster, redisPasswordStdin} from '../redis/access.js'
import {chooseRedisBackupSource} from '../redis/backup-source.js'
import {factsReport, readFacts} from './redis-common.js'
import {storedLocation} from './stored-backup.js'
import type {Runbook, StepContext} from './types.js'

export interface RedisBackupState {
  backupNode?: string
  source?: {node: string; address: string; port: number}
  backup?: StoredBackup
}

type Loaded = StepContext<unknown>['loaded']

const backupDirOf = (loaded: Loaded) => storedLocation(loaded, 'redis').dir
const backupNodeOf = (loaded: Loaded) => storedLocation(loaded, 'redis').nodes[0]!

export const redisBackup: Runbook<RedisBackupState> = {
  name: 'redis-backup',
  summary: 'Take an RDB snapshot of Redis from a replica into databases.redis.backupDir on the backup node, counted and recorded.',
  description: [
    'Reads every member, picks the connected replica that lags least (the master only when no replica is connected, so the master does not',
    'fork for a backup), and on the backup node streams its snapshot with `redis-cli --rdb` (the password on stdin) under a hidden name. The',
    'snapshot is loaded into a scratch redis-server there (unix socket only) to count the keys of each database; the counts, sha256 and size',
    'go into `<snapshot>.json`, then both get their final names. `ctl backup list|verify|prune` see it; `ctl backup schedule` runs it daily.',
  ].join('\n'),
  needs: 'databases.redis (backupDir, backupNode, password); redis-cli and redis-server on the backup node, which reaches the members',
  setup({loaded}) {
    backupDirOf(loaded)
    return {}
  },
  steps: [
    {
      id: 'facts',
      title: 'Choose the member to read the snapshot from',
      risk: 'read',
      description: "Each member's role, link and offset (redis-cli INFO); the least lagging connected replica, else the master.",
      plan: (_state, loaded) => ({summary: `Read the ${redisCluster(loaded).members.length} members`, commands: []}),
      async gather(ctx) {
        const facts = await readFacts(ctx)
        const chosen = chooseRedisBackupSource(facts)
        ctx.report(factsReport(facts))
        if (!chosen)
          throw new CtlError('No Redis member answers as the master or as a connected replica: there is nothing consistent to back up', {
            exitCode: ExitCode.cannotRun,
            code: 'redis.no-backup-source',
            hint: `ctl check run ${ctx.loaded.env} redis; if every member is down, ctl runbook redis-recover ${ctx.loaded.env}`,
          })
        ctx.state.backupNode = backupNodeOf(ctx.loaded)
        ctx.state.source = {node: chosen.member.node, address: chosen.member.address, port: chosen.member.port}
        ctx.report([`Snapshot of ${chosen.reason}, into ${backupDirOf(ctx.loaded)} on ${ctx.state.backupNode}.`])
      },
    },
    {
      id: 'save',
      title: 'Take, count and record the snapshot',
      risk: 'change',
      description: 'redis-cli --rdb into a hidden name, a scratch load to count the keys, the record, then the final names.',
      plan: (state, loaded) =>
        state.source
          ? {
              summary: `Snapshot of ${state.source.node} into ${backupDirOf(loaded)} on ${state.backupNode}`,
              commands: [
                {node: state.backupNode!, command: redisBackupScript(backupDirOf(loaded), [state.source], redisCluster(loaded).password !== undefined)},
              ],
            }
          : {summary: 'After the facts', commands: []},
      async act(ctx) {
        const stdin = redisPasswordStdin(ctx.loaded)
        const script = redisBackupScript(backupDirOf(ctx.loaded), [ctx.state.source!], stdin !== undefined)
        const r = await ctx.run(ctx.state.backupNode!, {script}, {timeoutMs: 3600_000, ...(stdin ? {stdin} : {})})
        const stored = parseStoreOutput(r.stdout)
        if ('failed' in stored)
          throw new CtlError(`The Redis backup failed on ${ctx.state.backupNode} (${stored.failed.stage}): ${stored.failed.message || lastLines(r, 2, ' ')}`, {
            host: ctx.state.backupNode,
            step: stored.failed.stage,
            code: 'redis.backup-failed',
            hint: `Nothing was kept. Is there room in ${backupDirOf(ctx.loaded)}? Does ${ctx.state.backupNode} reach ${ctx.state.source!.address}:${ctx.state.source!.port}?`,
          })
        ctx.state.backup = stored
        const keys = Object.entries(stored.record.rowCounts).map(([db, n]) => `${db} ${n}`)
        ctx.report([
          `${stored.path}: ${stored.record.sizeBytes} bytes, keys ${keys.join(', ') || 'none'}, sha256 ${stored.record.sha256}, from ${stored.record.source}.`,
        ])
      },
    },
  ],
  summarize: (state) => ({node: state.backupNode, source: state.source?.node, ...(state.backup ? {path: state.backup.path, record: state.backup.record} : {})}),
}
