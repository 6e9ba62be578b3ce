import {CtlError, ExitCode} from '../lib/errors.js'
import {renderCommand} from '../lib/shell.js'
import {backupStamp} from '../galera/backup.js'
import type {PatroniAccess} from '../patroni/actions.js'
import {
  backupFilePath,
  CATALOG_COUNTS_SQL,
  checksumCommand,
  compareCounts,
  countArchive,
  createDatabaseSql,
  databaseExistsSql,
  dropDatabaseSql,
  allowConnectionsSql,
  listArchiveCommand,
  parseArchiveList,
  parseDumpChecksum,
  readRecordCommand,
  restoreCommand,
  restoreNames,
  swapDatabasesSql,
  TABLE_ROWS_SQL,
  type BackupRecord,
  type KindComparison,
  type KindCounts,
} from '../patroni/dump.js'
import {checkDatabaseName} from '../patroni/database-name.js'
import {buildPsql} from '../patroni/sql.js'
import {memberNamed, patroniTopology} from '../patroni/topology.js'
import {factCommands} from './patroni-switchover.js'
import {factsTable, patroniAccess} from './patroni-common.js'
import {table} from './render.js'
import type {PlannedCommand, Runbook, StepContext} from './types.js'
import {lastLines} from '../lib/output.js'

export interface PgRestoreOptions {
  from: string
  db?: string
  replace: boolean
}

export interface PgRestoreState {
  file: string
  requestedDb?: string
  replace: boolean
  stamp: string
  /** The node that holds the file (pg_restore runs there, against the leader). */
  node?: string
  record?: BackupRecord
  sha256?: string
  archive?: KindCounts
  leader?: string
  /** The database that ends up restored, the one restored into, and (replace) the old one's new name. */
  target?: string
  work?: string
  aside?: string
  targetExists?: boolean
  /** The database this run created (the only one a resumed run may drop and make again). */
  created?: string
  restoredInto?: string
  swapped?: boolean
  comparison?: KindComparison[]
  rows?: Record<string, number>
}

type Ctx = StepContext<PgRestoreState>

const RESTORE_TIMEOUT_MS = 6 * 60 * 60 * 1000

function leaderOf(ctx: Ctx, access: PatroniAccess, database: string) {
  return access.leaderTarget(ctx.state.leader!, database)
}

/** Creates `database` on the leader and restores the archive into it; on failure drops it again. */
async function restoreInto(ctx: Ctx, access: PatroniAccess, database: string): Promise<void> {
  const admin = leaderOf(ctx, access, access.topology.database)
  // A resumed run drops only what this run created before it stopped, never a database of someone else.
  if (ctx.state.created === database) await access.sql(admin, dropDatabaseSql(database), 'restore')
  await access.sql(admin, createDatabaseSql(database), 'restore')
  ctx.state.created = database
  ctx.progress(`pg_restore into ${database} on ${ctx.state.leader}`)
  const target = leaderOf(ctx, access, database)
  const r = await access.runWithPassword(ctx.state.node!, restoreCommand(target, ctx.state.file), RESTORE_TIMEOUT_MS)
  if (r.code !== 0) {
    // Nothing half-restored is left behind: the database was made by this run.
    await access.sql(admin, dropDatabaseSql(database), 'restore').catch(() => undefined)
    throw new CtlError(`pg_restore into ${database} failed (exit ${r.code}): ${lastLines(r, 3, ' ')}`, {
      host: ctx.state.node,
      code: 'pg.restore-failed',
      hint: `The half-restored ${database} was dropped. Check that the roles the dump names exist on this cluster, then run again.`,
    })
  }
  ctx.state.restoredInto = database
}

/** Counts objects in `database` and compares them with the archive's table of contents. */
async function compareWithArchive(ctx: Ctx, access: PatroniAccess, database: string): Promise<KindComparison[]> {
  const counts = await access.query<Partial<KindCounts>>(leaderOf(ctx, access, database), CATALOG_COUNTS_SQL, 'verify')
  return compareCounts(ctx.state.archive!, counts)
}

function comparisonLines(database: string, comparison: KindComparison[]): string[] {
  return [
    `Objects: archive (pg_restore --list) vs catalog of ${database}:`,
    ...table(
      ['kind', 'archive', 'database', ''],
      comparison.map((c) => [c.kind, String(c.archive), String(c.database), c.same ? 'ok' : 'DIFFERENT']),
    ),
  ]
}

export const pgRestore: Runbook<PgRestoreState, PgRestoreOptions> = {
  name: 'pg-restore',
  summary: 'Restore a pg_dump archive into a new database on the Patroni leader (or replace one, after a confirmation naming it), then verify it.',
  description: [
    'Finds the archive on the backup node (or any member node), checks its sha256 against the record pg-backup wrote, and',
    'lists it (pg_restore --list). Restores only against the healthy leader (a replica is read-only). By default into a',
    'NEW database (--db, else <db>_restored_<time>); an existing one is never touched without --replace. With --replace',
    'it asks, naming the database (no terminal and no --yes: stopped, nothing changed), restores into a work copy,',
    'checks it, then swaps the names in one transaction: the old database is kept as <db>_replaced_<time>. Verifies by',
    "comparing object counts in the catalog with the archive's table of contents, and reports rows per table.",
  ].join('\n'),
  needs: 'databases.patroni (members, user/password, backupDir, backupNode); pg_restore on the node holding the file',

  setup({loaded, options}) {
    const section = loaded.inventory.databases.patroni
    if (!options.from)
      throw new CtlError('pg-restore needs --from <backup file>', {
        exitCode: ExitCode.cannotRun,
        hint: 'A path, or a file name in databases.patroni.backupDir (see pg-backup).',
      })
    // Refused before anything connects: libpq would read a "name" holding "=" as where to connect.
    const requestedDb = options.db === undefined ? undefined : checkDatabaseName(options.db, '--db')
    return {
      file: backupFilePath(options.from, section?.backupDir ?? '/var/backups/ctl/postgres'),
      requestedDb,
      replace: Boolean(options.replace),
      stamp: backupStamp(),
    }
  },

  steps: [
    {
      id: 'find-backup',
      title: 'Find and check the archive',
      risk: 'read',
      description: 'Looks for the file on backupNode, else on each member node; reads its .json record, checks the sha256 and lists the archive.',
      plan(state, loaded) {
        const nodes = candidateNodes(loaded)
        return {
          summary: `Find ${state.file}`,
          commands: nodes.map((node) => ({
            node,
            command: renderCommand(checksumCommand(state.file)),
            note: 'until one node has it; then its .json record and pg_restore --list',
          })),
        }
      },
      async act(ctx) {
        for (const node of candidateNodes(ctx.loaded)) {
          const sum = await ctx.run(node, checksumCommand(ctx.state.file)).catch(() => undefined)
          const parsed = sum?.code === 0 ? parseDumpChecksum(sum.stdout) : undefined
          if (!parsed) continue
          ctx.state.node = node
          ctx.state.sha256 = parsed.sha256
          break
        }
        const node = ctx.state.node
        if (!node)
          throw new CtlError(`No node holds ${ctx.state.file}`, {
            exitCode: ExitCode.cannotRun,
            code: 'pg.backup-missing',
            hint: `Looked on ${candidateNodes(ctx.loaded).join(', ')}. List the backups: ctl exec <env> -- ls ${ctx.loaded.inventory.databases.patroni?.backupDir ?? '<backupDir>'}`,
          })
        const record = await ctx.run(node, readRecordCommand(`${ctx.state.file}.json`))
        if (record.code === 0) {
          const notARecord = new CtlError(`${ctx.state.file}.json is not a backup record`, {host: node, exitCode: ExitCode.cannotRun, code: 'pg.backup-record'})
          try {
            ctx.state.record = JSON.parse(record.stdout) as BackupRecord
          } catch {
            throw notARecord
          }
          if (typeof ctx.state.record?.database !== 'string') throw notARecord
          // The record is a file on a host: its database name is checked like --db before it names anything.
          checkDatabaseName(ctx.state.record.database, `the database named by ${node}:${ctx.state.file}.json`)
          if (ctx.state.record.sha256 !== ctx.state.sha256) {
            throw new CtlError(`${ctx.state.file} does not match its record: sha256 ${ctx.state.sha256}, recorded ${ctx.state.record.sha256}`, {
              host: node,
              exitCode: ExitCode.cannotRun,
              code: 'pg.backup-corrupt',
              hint: 'The file changed or is damaged: restore another backup.',
            })
          }
        }
        const list = await ctx.run(node, listArchiveCommand(ctx.state.file))
        if (list.code !== 0)
          throw new CtlError(`pg_restore --list cannot read ${ctx.state.file}: ${list.stderr.trim()}`, {
            host: node,
            exitCode: ExitCode.cannotRun,
            code: 'pg.backup-corrupt',
          })
        ctx.state.archive = countArchive(parseArchiveList(list.stdout))
        const r = ctx.state.record
        ctx.report([
          `${node}:${ctx.state.file}, sha256 ${ctx.state.sha256}${r ? ' (matches its record)' : ' (no .json record next to it)'}`,
          ...(r
            ? [`Dump of ${r.database} from ${r.sourceMember} (${r.sourceRole}), timeline ${r.timeline ?? '?'}, LSN ${r.lsn}, finished ${r.finishedAt}`]
            : []),
        ])
      },
    },
    {
      id: 'target',
      title: 'Check the leader and the target database',
      risk: 'read',
      description:
        'A healthy leader is required (restores never go to a replica). A new database must not exist yet; with --replace, the named one is replaced after confirmation.',
      plan: (state, loaded) => ({summary: 'Read the cluster, check the target database on the leader', commands: factCommands(loaded, state.leader)}),
      async act(ctx) {
        const backupDatabase = ctx.state.record?.database
        if (!ctx.state.requestedDb && !backupDatabase)
          throw new CtlError('The backup has no record naming its database', {
            exitCode: ExitCode.cannotRun,
            code: 'pg.backup-record',
            hint: 'Pass --db <name>.',
          })
        const names = restoreNames({
          requested: ctx.state.requestedDb,
          backupDatabase: backupDatabase ?? ctx.state.requestedDb!,
          replace: ctx.state.replace,
          stamp: ctx.state.stamp,
        })
        for (const name of [names.target, names.work, names.aside].filter((n): n is string => n !== undefined))
          checkDatabaseName(name, 'the name this restore would use; pass a shorter --db')
        const access = patroniAccess(ctx)
        const facts = await access.facts()
        ctx.report(factsTable(facts))
        if (!facts.leaderHealthy || !facts.leader)
          throw new CtlError('No healthy leader to restore into (restores go to the leader only: replicas are read-only)', {
            exitCode: ExitCode.cannotRun,
            code: 'pg.no-leader',
            hint: 'Bring the cluster back first (ctl runbook patroni-failover).',
          })
        ctx.state.leader = facts.leader
        const admin = access.leaderTarget(facts.leader, access.topology.database)
        const {exists} = await access.query<{exists: boolean}>(admin, databaseExistsSql(names.target), 'target')
        if (exists && !ctx.state.replace) {
          throw new CtlError(`Database ${names.target} already exists on ${facts.leader}: a restore never overwrites without --replace`, {
            exitCode: ExitCode.cannotRun,
            code: 'pg.target-exists',
            hint: `Restore into a new database (--db <new name>), or replace it: --db ${names.target} --replace.`,
          })
        }
        Object.assign(ctx.state, {
          target: names.target,
          targetExists: exists,
          work: exists ? names.work : names.target,
          aside: exists ? names.aside : undefined,
        })
        ctx.report([
          exists
            ? `Replace: restore into ${names.work}, check it, then swap it in for ${names.target} (kept as ${names.aside}) on ${facts.leader}.`
            : `Restore into the new database ${names.target} on ${facts.leader}.`,
        ])
      },
    },
    {
      id: 'restore',
      title: 'Restore into a new database',
      risk: 'change',
      description:
        'CREATE DATABASE (template0) on the leader, then pg_restore -j2 --exit-on-error from the node holding the file. A failed restore drops the database it created.',
      plan(state, loaded) {
        if (state.targetExists)
          return {summary: 'The target exists: replaced in the next step', commands: [], skip: `${state.target} exists: --replace handles it`}
        return restorePlan(state, loaded, state.target)
      },
      async act(ctx) {
        await restoreInto(ctx, patroniAccess(ctx), ctx.state.target!)
      },
    },
    {
      id: 'replace',
      title: 'Replace the existing database',
      risk: 'data-risk',
      description:
        'Only with --replace and an existing target, after a confirmation naming it: restore into a work copy, compare it with the archive, then rename in one transaction (sessions on the target are ended; the old database is kept, renamed).',
      confirmation: (state) =>
        `Replace database "${state.target}" on the leader ${state.leader} with ${state.file}${state.record ? ` (dump of ${state.record.database} taken ${state.record.finishedAt})` : ''}? Sessions connected to "${state.target}" are ended; the current "${state.target}" is kept as "${state.aside}".`,
      plan(state, loaded) {
        if (!state.targetExists)
          return {
            summary: 'Nothing to replace',
            commands: [],
            skip: state.target ? `${state.target} does not exist: restored as a new database` : 'needs the target first',
          }
        const base = restorePlan(state, loaded, state.work)
        const leader = leaderCommandNode(state, loaded)
        return {
          summary: `Restore into ${state.work}, compare, then swap it in for ${state.target} (old kept as ${state.aside})`,
          commands: [
            ...base.commands,
            {node: leader.node, command: leader.psql, note: `then: ${swapDatabasesSql(state.target!, state.work!, state.aside!).replaceAll('\n', ' ')}`},
          ],
        }
      },
      async act(ctx) {
        const access = patroniAccess(ctx)
        const {target, work, aside} = ctx.state
        await restoreInto(ctx, access, work!)
        const comparison = await compareWithArchive(ctx, access, work!)
        ctx.report(comparisonLines(work!, comparison))
        const admin = leaderOf(ctx, access, access.topology.database)
        if (comparison.some((c) => !c.same)) {
          await access.sql(admin, dropDatabaseSql(work!), 'replace')
          throw new CtlError(`The restored copy ${work} does not match the archive; ${target} was left untouched and the copy dropped`, {
            code: 'pg.restore-mismatch',
            hint: 'See the comparison above.',
          })
        }
        try {
          await access.sql(admin, swapDatabasesSql(target!, work!, aside!), 'replace')
        } catch (error) {
          // The rename is one transaction: undo the connection block so the platform is as before.
          await access.sql(admin, allowConnectionsSql(target!), 'replace').catch(() => undefined)
          throw error
        }
        ctx.state.swapped = true
        ctx.state.restoredInto = target
        ctx.report([`${target} is now the restored copy; the previous one is kept as ${aside} (drop it when satisfied).`])
      },
    },
    {
      id: 'verify',
      title: 'Verify the restored database',
      risk: 'read',
      description:
        'Object counts in the catalog (tables, views, sequences, indexes, constraints, functions, table data) against pg_restore --list; rows per table reported.',
      plan(state, loaded) {
        if (!state.restoredInto) return {summary: 'After the restore', commands: [], skip: 'runs after the restore'}
        const leader = leaderCommandNode(state, loaded, state.restoredInto)
        return {
          summary: `Compare ${state.restoredInto} with the archive`,
          commands: [{node: leader.node, command: leader.psql, note: 'password on stdin; catalog counts and rows per table'}],
        }
      },
      async act(ctx) {
        const access = patroniAccess(ctx)
        const database = ctx.state.restoredInto!
        const comparison = await compareWithArchive(ctx, access, database)
        ctx.state.comparison = comparison
        ctx.report(comparisonLines(database, comparison))
        ctx.state.rows = await access.query<Record<string, number>>(leaderOf(ctx, access, database), TABLE_ROWS_SQL, 'verify')
        ctx.report([
          'Rows:',
          ...table(
            ['table', 'rows'],
            Object.entries(ctx.state.rows)
              .sort()
              .map(([t, n]) => [t, String(n)]),
          ),
        ])
        const different = comparison.filter((c) => !c.same)
        if (different.length > 0) {
          throw new CtlError(`${database} differs from the archive: ${different.map((c) => `${c.kind} ${c.database}/${c.archive}`).join(', ')}`, {
            code: 'pg.restore-mismatch',
            hint: 'Look at the pg_restore output in the run journal.',
          })
        }
      },
    },
  ],

  summarize(state) {
    return {
      file: state.file,
      node: state.node,
      backup: state.record,
      leader: state.leader,
      database: state.restoredInto ?? state.target,
      replaced: state.swapped ? {database: state.target, keptAs: state.aside} : undefined,
      comparison: state.comparison,
      rows: state.rows,
    }
  },
}

function candidateNodes(loaded: Ctx['loaded']): string[] {
  const section = loaded.inventory.databases.patroni
  const nodes = [section?.backupNode, ...(section?.members.map((m) => m.node) ?? [])].filter((n): n is string => Boolean(n))
  return [...new Set(nodes)]
}

function leaderCommandNode(state: PgRestoreState, loaded: Ctx['loaded'], database?: string): {node: string; psql: string} {
  const topology = patroniTopology(loaded)
  const leader = memberNamed(topology, state.leader!)
  return {
    node: leader.node,
    psql: renderCommand(
      buildPsql({node: leader.node, host: leader.address, port: leader.pgPort, user: topology.user, database: database ?? topology.database}),
    ),
  }
}

function restorePlan(state: PgRestoreState, loaded: Ctx['loaded'], database: string | undefined): {summary: string; commands: PlannedCommand[]} {
  if (!state.leader || !database || !state.node) return {summary: 'Needs the target first', commands: []}
  const topology = patroniTopology(loaded)
  const leader = memberNamed(topology, state.leader)
  const admin = leaderCommandNode(state, loaded)
  return {
    summary: `Create ${database} on ${state.leader} and restore ${state.file} into it`,
    commands: [
      {node: admin.node, command: admin.psql, note: `password on stdin, then: ${createDatabaseSql(database)}`},
      {
        node: state.node,
        command: renderCommand(restoreCommand({host: leader.address, port: leader.pgPort, user: topology.user, database}, state.file)),
        note: 'password on stdin',
      },
    ],
  }
}
