import {setTimeout as sleep} from 'node:timers/promises'
import {backupStamp} from '../galera/backup.js'
import {CtlError, ExitCode} from '../lib/errors.js'
import {lastLines} from '../lib/output.js'
import {renderCommand} from '../lib/shell.js'
import {LOCAL_REPO, OFFSITE_REPO, pgbackrestSettings} from '../patroni/pgbackrest-config.js'
import {chooseRestoreBackup, type PgbackrestBackup} from '../patroni/pgbackrest-info.js'
import {
  copyFromScratchCommand,
  parseRowCounts,
  PITR_EXIT,
  pitrRestoreCommand,
  scratchCleanupCommand,
  scratchRowCountsCommand,
  scratchServer,
  type ScratchServer,
} from '../patroni/pitr.js'
import {patroniAccess} from './patroni-common.js'
import {PG_COUNT_ROWS_SQL} from '../backups/drill.js'
import {checkDatabaseName} from '../patroni/database-name.js'
import {createDatabaseSql, databaseExistsSql, dropDatabaseSql} from '../patroni/dump.js'
import {patroniTopology} from '../patroni/topology.js'
import {readRepositoryInfo, repoCommandPlan} from './pgbackrest-common.js'
import {BACKUP_HEADER, backupRows} from './pgbackrest-backup.js'
import {table} from './render.js'
import {countScratchRows, requireRestoreTime} from './pitr-common.js'
import type {Runbook, StepContext} from './types.js'

export interface PgPitrOptions {
  at: string
  /** Copy this database of the restored server ... */
  db?: string
  /** ... into this NEW database on the cluster (never an existing one). */
  into?: string
  /** Restore only from this repository (default: any; a backup from the offsite one after losing the repository node). */
  repo?: 'local' | 'offsite'
}

export interface PgPitrState {
  /** The time as the operator gave it, and as pgBackRest gets it (UTC), or 'latest' (every archived WAL segment). */
  requested: string
  target: string
  stamp: string
  /** Only backups of this repository (1 local, 2 offsite) are candidates. */
  repo?: number
  backup?: PgbackrestBackup
  pgVersion?: string
  /** The WAL segment switched and archived before the restore, or why none was. */
  archived?: string
  scratch?: ScratchServer
  recovery?: string[]
  /** How to reach the scratch server, and how to stop and remove it when done with it. */
  connect?: string
  cleanup?: string
  rows?: Record<string, number>
  /** --into: the database copied out of the scratch server and the new one on the cluster. */
  copy?: {source: string; into: string}
  /** The database this run created on the cluster (the only one it may drop again). */
  created?: string
  copied?: {leader: string; tables: number; rows: number}
}

const RESTORE_TIMEOUT_MS = 12 * 60 * 60 * 1000
const ARCHIVE_WAIT_MS = 120_000

const RESTORE_FAILURES: Record<number, string> = {
  [PITR_EXIT.noServer]: 'no PostgreSQL server of the backup’s major version on the repository node',
  [PITR_EXIT.exists]: 'the scratch directory exists already',
  [PITR_EXIT.restore]: 'pgbackrest restore failed',
  [PITR_EXIT.start]: 'the restored server did not start',
  [PITR_EXIT.recovery]: 'recovery did not reach the target (is the WAL up to that time in the repository?)',
}

/**
 * --into names a NEW database: refused when it exists on the leader, before anything is restored
 * (a cluster without a healthy leader is asked again at the copy step).
 */
async function refuseExistingInto(ctx: StepContext<PgPitrState>, knownLeader?: string): Promise<void> {
  const into = ctx.state.copy!.into
  const access = patroniAccess(ctx)
  const leader = knownLeader ?? (await access.facts().then((f) => (f.leaderHealthy ? f.leader : undefined)))
  if (!leader) return
  if ((await access.query<{exists: boolean}>(access.leaderTarget(leader), databaseExistsSql(into), 'copy')).exists)
    throw new CtlError(`Database ${into} exists on the cluster: --into takes a new name`, {
      exitCode: ExitCode.cannotRun,
      code: 'pitr.into-exists',
      hint: `Choose another name (e.g. ${into}_${ctx.state.stamp.toLowerCase()}).`,
    })
}

export const pgPitr: Runbook<PgPitrState, PgPitrOptions> = {
  name: 'pg-pitr',
  summary: 'Point-in-time restore of the Patroni cluster into a scratch server on the repository node (pgBackRest), production untouched; every table counted.',
  description: [
    'Chooses the newest good backup that finished before --at, archives the current WAL segment (when the cluster has a',
    'healthy leader; a dead cluster restores from what is archived), restores with pgBackRest into a new directory',
    'on the repository node and recovers to --at (transactions committed after it are not replayed), starts that',
    'server on a socket in its directory only (no network, archive_mode off: it never writes into the repository),',
    'waits for the end of recovery and counts the rows of every table of every database. The server is left',
    'running for you to read or pg_dump from; the summary says how to connect and how to remove it.',
    '`--at latest` restores everything archived (after losing the whole cluster). `ctl runbook pg-restore <env> --at TIME` runs this runbook.',
  ].join('\n'),
  needs: 'databases.patroni.pgbackrest with WAL archiving (pgbackrest-setup) and a backup (pgbackrest-backup); the PostgreSQL server package on repoNode',

  // Into a scratch server only, nothing on the cluster changes (and after losing the cluster's hosts it must
  // still run); --into writes a new database on the leader: then it excludes the cluster's other runbooks.
  takesClusterLock: (options) => options.into !== undefined,

  setup({loaded, options}) {
    const s = pgbackrestSettings(loaded)
    const at = requireRestoreTime(options.at, {latest: true})
    const into = options.into === undefined ? undefined : checkDatabaseName(options.into, '--into')
    const source = checkDatabaseName(options.db ?? patroniTopology(loaded).database, '--db')
    if (options.repo === 'offsite' && !s.offsite)
      throw new CtlError(`${loaded.file} has no backups.offsite: there is no offsite repository to restore from`, {
        exitCode: ExitCode.cannotRun,
        code: 'pgbackrest.no-offsite',
        hint: 'Leave out --repo, or describe the S3 storage under backups.offsite (docs/BACKUPS.md).',
      })
    const repo = options.repo === undefined ? undefined : options.repo === 'offsite' ? OFFSITE_REPO : LOCAL_REPO
    return {
      requested: options.at,
      target: at === 'latest' ? 'latest' : at.toISOString(),
      stamp: backupStamp(),
      ...(repo ? {repo} : {}),
      ...(into ? {copy: {source, into}} : {}),
    }
  },

  steps: [
    {
      id: 'facts',
      title: 'Read the repository and choose the backup',
      risk: 'read',
      description:
        'pgbackrest info on the repository node; the newest good backup finished before the target. Refuses a future time or one before the oldest backup.',
      plan: (state, loaded) => repoCommandPlan(loaded, `Backups able to reach ${state.target}`, '--output=json', 'info'),
      async act(ctx) {
        const s = pgbackrestSettings(ctx.loaded)
        const all = await readRepositoryInfo(ctx, s)
        const info = all && ctx.state.repo ? {...all, backups: all.backups.filter((b) => b.repo === ctx.state.repo)} : all
        if (info) ctx.report(table(BACKUP_HEADER, backupRows(info.backups)))
        const choice = chooseRestoreBackup(info, ctx.state.target === 'latest' ? 'latest' : new Date(ctx.state.target), new Date())
        if (!choice.ok)
          throw new CtlError(`Cannot restore to ${ctx.state.target}: ${choice.reason}`, {exitCode: ExitCode.cannotRun, code: choice.code, hint: choice.hint})
        if (ctx.state.copy) await refuseExistingInto(ctx)
        ctx.state.backup = choice.backup
        ctx.state.pgVersion = info!.pgVersion ?? '15'
        ctx.state.scratch = scratchServer(s, ctx.state.stamp, ctx.state.pgVersion)
        ctx.report([
          `Target ${ctx.state.target} (asked: ${ctx.state.requested}); from backup ${choice.backup.label} (${choice.backup.type}, finished ${choice.backup.stoppedAt}), then WAL up to the target.`,
        ])
      },
    },
    {
      id: 'archive',
      title: 'Archive the current WAL segment',
      risk: 'change',
      description:
        'pg_switch_wal() on the leader, then waits until pg_stat_archiver reports that segment archived: the last writes before the target reach the repository. Skipped when the cluster has no healthy leader.',
      plan: () => ({summary: 'Switch and archive the current WAL segment on the leader (if there is one)', commands: []}),
      async act(ctx) {
        const access = patroniAccess(ctx)
        const facts = await access.facts()
        if (!facts.leader || !facts.leaderHealthy) {
          ctx.state.archived = 'no healthy leader: restoring from the WAL archived so far'
          ctx.report([`No healthy leader: the restore uses the WAL archived so far.`])
          return
        }
        const leader = access.leaderTarget(facts.leader)
        // A cluster that does not archive (e.g. a new one, restored into after losing the old) has nothing to add.
        if ((await access.query<string>(leader, "select to_json(current_setting('archive_mode'))", 'archive')) === 'off') {
          ctx.state.archived = 'the cluster does not archive (archive_mode off): restoring from what the repository holds'
          ctx.report([`${facts.leader} does not archive (archive_mode off): the restore uses what the repository holds.`])
          return
        }
        const segment = await access.query<string>(leader, 'select to_json(pg_walfile_name(pg_switch_wal()))', 'archive')
        const deadline = Date.now() + ARCHIVE_WAIT_MS
        for (;;) {
          const archiver = await access.query<{last: string | null; failed: string | null}>(
            leader,
            "select json_build_object('last', last_archived_wal, 'failed', last_failed_wal) from pg_stat_archiver",
            'archive',
          )
          if (archiver.last && archiver.last >= segment) break
          ctx.progress(
            `waiting for ${segment} in the repository (last archived ${archiver.last ?? 'none'}${archiver.failed ? `, last failed ${archiver.failed}` : ''})`,
          )
          if (Date.now() > deadline)
            throw new CtlError(`WAL segment ${segment} was not archived within ${ARCHIVE_WAIT_MS / 1000} s`, {
              host: access.member(facts.leader).node,
              code: 'pitr.archive-stuck',
              hint: 'Archiving is failing (pg_stat_archiver.last_failed_wal): run ctl runbook pgbackrest-setup <env> to check it.',
            })
          await sleep(500)
        }
        ctx.state.archived = segment
        ctx.report([`${segment} is in the repository.`])
      },
    },
    {
      id: 'restore',
      title: 'Restore into a scratch server and recover to the target',
      risk: 'change',
      description:
        'pgbackrest restore --type=time into a new directory on the repository node, then PostgreSQL started there (socket only, archive_mode off) until recovery stops at the target and the server is promoted.',
      plan(state, loaded) {
        const s = pgbackrestSettings(loaded)
        if (!state.scratch || !state.backup) return {summary: 'Needs the backup first', commands: []}
        return {
          summary: `Restore ${state.backup.label} into ${s.repoNode}:${state.scratch.dir}, recover to ${state.target}`,
          commands: [{node: s.repoNode, command: renderCommand(pitrRestoreCommand(s, state.scratch, state.backup.label, state.target, state.backup.repo))}],
        }
      },
      async act(ctx) {
        const s = pgbackrestSettings(ctx.loaded)
        const x = ctx.state.scratch!
        ctx.progress(`restoring ${ctx.state.backup!.label} into ${x.dir}`)
        const r = await ctx.run(s.repoNode, pitrRestoreCommand(s, x, ctx.state.backup!.label, ctx.state.target, ctx.state.backup!.repo), {
          timeoutMs: RESTORE_TIMEOUT_MS,
        })
        if (r.code !== 0) {
          // Nothing half-restored stays behind (unless the directory was someone else's).
          if (r.code !== PITR_EXIT.exists) await ctx.run(s.repoNode, scratchCleanupCommand(s, x))
          throw new CtlError(`Point-in-time restore failed: ${RESTORE_FAILURES[r.code] ?? `exit ${r.code}`}: ${lastLines(r, 3, ' ')}`, {
            host: s.repoNode,
            code: 'pitr.restore-failed',
            hint:
              r.code === PITR_EXIT.recovery
                ? 'The target may be later than the newest archived WAL; choose an earlier time, or repair archiving first.'
                : `Look at ${s.logPath(s.repoNode)} on ${s.repoNode}.`,
          })
        }
        ctx.state.cleanup = renderCommand(scratchCleanupCommand(s, x))
        ctx.state.connect = `psql -h ${x.dir} -p ${x.port} -U ${s.osUser}`
        ctx.state.recovery = r.stdout.trim().split('\n').filter(Boolean)
        ctx.report([
          ...(ctx.state.recovery.length > 0 ? ctx.state.recovery : ['Recovered and promoted.']),
          `The restored server runs on ${x.node} (socket only): ${ctx.state.connect}`,
          `Remove it when done: ${ctx.state.cleanup}`,
        ])
      },
    },
    {
      id: 'verify',
      title: 'Read every table of the restored server',
      risk: 'read',
      description: 'Counts the rows of every table in every database of the scratch server (each table must be readable).',
      plan(state, loaded) {
        const s = pgbackrestSettings(loaded)
        if (!state.scratch) return {summary: 'After the restore', commands: [], skip: 'runs after the restore'}
        return {
          summary: `Count rows in ${state.scratch.dir}`,
          commands: [{node: s.repoNode, command: renderCommand(scratchRowCountsCommand(s, state.scratch))}],
        }
      },
      async act(ctx) {
        const s = pgbackrestSettings(ctx.loaded)
        ctx.state.rows = await countScratchRows(ctx, s.repoNode, scratchRowCountsCommand(s, ctx.state.scratch!), 'pitr.unreadable')
      },
    },
    {
      id: 'copy',
      title: 'Copy a database of the restored server into a new database on the cluster',
      risk: 'change',
      description:
        'With --into: creates that database on the leader (refused when it exists: nothing is overwritten), pg_dump of --db on the scratch server piped into pg_restore there, then the rows of every table compared with the scratch server. A failed copy drops the database it created.',
      plan(state, loaded) {
        if (!state.copy) return {summary: 'Only with --into', commands: [], skip: 'no --into: the restored server is the result'}
        const s = pgbackrestSettings(loaded)
        const topology = patroniTopology(loaded)
        const leader = topology.members[0]!
        const command = state.scratch
          ? renderCommand(
              copyFromScratchCommand(s, state.scratch, state.copy.source, {
                host: leader.address,
                port: leader.pgPort,
                user: topology.user,
                database: state.copy.into,
              }),
            )
          : 'pg_dump | pg_restore'
        return {
          summary: `Copy ${state.copy.source} of the restored server into a new database ${state.copy.into} on the leader`,
          commands: [{node: s.repoNode, command, note: 'against the leader; password on stdin'}],
        }
      },
      async act(ctx) {
        const {source, into} = ctx.state.copy!
        const access = patroniAccess(ctx)
        const s = pgbackrestSettings(ctx.loaded)
        const facts = await access.facts()
        if (!facts.leader || !facts.leaderHealthy)
          throw new CtlError(`No healthy leader to copy ${source} into: the restored server stays up on ${s.repoNode}`, {
            exitCode: ExitCode.cannotRun,
            code: 'pitr.no-leader',
            hint: 'Repair the cluster, then copy with pg_dump from the scratch server (see above).',
          })
        const admin = access.leaderTarget(facts.leader)
        // A resumed run may drop only what this run created; an existing database is never touched
        // (asked again here: one may have been made since the facts step).
        if (ctx.state.created === into) await access.sql(admin, dropDatabaseSql(into), 'copy')
        else await refuseExistingInto(ctx, facts.leader)
        await access.sql(admin, createDatabaseSql(into), 'copy')
        ctx.state.created = into
        const target = access.leaderTarget(facts.leader, into)
        const copied = await access.runWithPassword(s.repoNode, copyFromScratchCommand(s, ctx.state.scratch!, source, target), RESTORE_TIMEOUT_MS)
        const fail = async (message: string) => {
          await access.sql(admin, dropDatabaseSql(into), 'copy').catch(() => undefined)
          ctx.state.created = undefined
          return new CtlError(`${message}; ${into} was dropped again`, {
            host: s.repoNode,
            code: 'pitr.copy-failed',
            hint: 'The restored server stays up: look at the message, then run again with --resume.',
          })
        }
        if (copied.code !== 0) throw await fail(`Copying ${source} into ${into} failed (exit ${copied.code}): ${lastLines(copied, 3, ' ')}`)
        const there = parseRowCounts(await access.sql(target, PG_COUNT_ROWS_SQL, 'copy'))
        const expected = Object.fromEntries(
          Object.entries(ctx.state.rows ?? {})
            .filter(([t]) => t.startsWith(`${source}.`))
            .map(([t, n]) => [t.slice(source.length + 1), n]),
        )
        const differ = Object.keys({...expected, ...there}).filter((t) => expected[t] !== there[t])
        if (differ.length > 0)
          throw await fail(
            `${into} does not hold what the restored ${source} holds: ${differ
              .slice(0, 3)
              .map((t) => `${t} ${there[t] ?? 'missing'} vs ${expected[t] ?? 'missing'}`)
              .join(', ')}`,
          )
        ctx.state.copied = {leader: facts.leader, tables: Object.keys(there).length, rows: Object.values(there).reduce((a, b) => a + b, 0)}
        ctx.report([`${into} on ${facts.leader}: ${ctx.state.copied.tables} table(s), ${ctx.state.copied.rows} row(s), as in the restored ${source}.`])
      },
    },
  ],

  summarize(state) {
    const x = state.scratch
    return {
      target: state.target,
      requested: state.requested,
      backup: state.backup?.label,
      archived: state.archived,
      scratch: x && {node: x.node, dir: x.dir, port: x.port, connect: state.connect, remove: state.cleanup},
      rows: state.rows,
      copy: state.copy && {...state.copy, ...state.copied},
    }
  },
}
