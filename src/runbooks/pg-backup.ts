import {archiveRowCountsCommand, parseDrillOutput} from '../backups/drill.js'
import {CtlError} from '../lib/errors.js'
import {renderCommand} from '../lib/shell.js'
import {backupStamp} from '../galera/backup.js'
import {checkDatabaseName} from '../patroni/database-name.js'
import {
  checksumCommand,
  countArchive,
  dumpCommand,
  dumpFiles,
  listArchiveCommand,
  parseArchiveList,
  parseDumpChecksum,
  writeRecordCommand,
  type BackupRecord,
  type DumpFiles,
  type KindCounts,
} from '../patroni/dump.js'
import {formatBytes, type ClusterFacts} from '../patroni/facts.js'
import {memberNamed, patroniTopology} from '../patroni/topology.js'
import {factCommands} from './patroni-switchover.js'
import {patroniAccess, readFactsAndBackupSource} from './patroni-common.js'
import {table} from './render.js'
import type {PlannedCommand, Runbook} from './types.js'
import {lastLines} from '../lib/output.js'

export interface PgBackupOptions {
  db?: string
}

export interface PgBackupState {
  database: string
  stamp: string
  facts?: ClusterFacts
  source?: {member: string; node: string; role: 'leader' | 'replica'; why: string}
  /** The node that runs pg_dump and keeps the file. */
  backupNode?: string
  files?: DumpFiles
  position?: {timeline?: number; lsn: string}
  record?: BackupRecord
  archive?: KindCounts
}

const DUMP_TIMEOUT_MS = 6 * 60 * 60 * 1000

export const pgBackup: Runbook<PgBackupState, PgBackupOptions> = {
  name: 'pg-backup',
  summary: "pg_dump -Fc of one database from a streaming replica (where the inventory allows), with size, sha256 and the source's timeline/LSN.",
  description: [
    'Reads the Patroni cluster, picks the source: the streaming replica with the least replay lag when',
    "databases.patroni.backupFromReplica is true (the leader carries no dump load), else the leader. Records the source's",
    "timeline (Patroni) and replayed LSN, runs pg_dump -Fc on backupNode (default: the source's node) into",
    'backupDir/<scope>-<db>-<time>.dump (written as .partial, renamed when complete), records sha256 and size in a .json',
    "next to it with the rows of every table as the archive holds them (what ctl backup verify's drill must find), and",
    'checks the archive with pg_restore --list. A long dump from a replica can be cancelled by recovery',
    'conflicts (max_standby_streaming_delay): run it again, or set backupFromReplica: false.',
  ].join('\n'),
  needs: 'databases.patroni (members, user/password, database, backupFromReplica, backupDir, backupNode); pg_dump on the backup node',

  setup({loaded, options}) {
    const topology = patroniTopology(loaded)
    return {database: options.db === undefined ? topology.database : checkDatabaseName(options.db, '--db'), stamp: backupStamp()}
  },

  steps: [
    {
      id: 'facts',
      title: 'Read the cluster and choose the source',
      risk: 'read',
      description: 'Cluster facts (REST + pg_stat_replication), then the source member; reads its WAL position (pg_last_wal_replay_lsn on a replica).',
      plan: (state, loaded) => ({
        summary: `Read the cluster, choose where to dump ${state.database} from`,
        commands: factCommands(loaded, state.facts?.leader),
      }),
      async act(ctx) {
        const access = patroniAccess(ctx)
        const section = ctx.loaded.inventory.databases.patroni!
        const {facts, source} = await readFactsAndBackupSource(ctx, access, 'pg.no-source')
        ctx.state.facts = facts
        const member = access.member(source.member)
        ctx.state.source = {member: source.member, node: member.node, role: source.role, why: source.why}
        ctx.state.backupNode = section.backupNode ?? member.node
        ctx.state.files = dumpFiles(section.backupDir, access.topology.scope, ctx.state.database, ctx.state.stamp)
        const position = await access.position(source.member)
        ctx.state.position = {timeline: facts.members.find((m) => m.name === source.member)?.timeline, lsn: position.lsn}
        ctx.report([
          `Source: ${source.member} on ${member.node} (${source.why}); timeline ${ctx.state.position.timeline ?? '?'}, LSN ${position.lsn}. File: ${ctx.state.backupNode}:${ctx.state.files.file}`,
        ])
      },
    },
    {
      id: 'dump',
      title: 'Dump the database (pg_dump -Fc)',
      risk: 'change',
      description:
        'pg_dump -Fc on the backup node against the source member, into a .partial file renamed when complete; then sha256 and size, and the .json record.',
      plan(state, loaded) {
        if (!state.source || !state.files || !state.backupNode) return {summary: 'Needs the source first', commands: []}
        const topology = patroniTopology(loaded)
        const m = memberNamed(topology, state.source.member)
        const commands: PlannedCommand[] = [
          {
            node: state.backupNode,
            command: renderCommand(dumpCommand({host: m.address, port: m.pgPort, user: topology.user, database: state.database}, state.files)),
            note: 'password on stdin',
          },
          {node: state.backupNode, command: renderCommand(writeRecordCommand(state.files.record)), note: 'the record (JSON) on stdin'},
        ]
        return {summary: `Dump ${state.database} from ${state.source.member} into ${state.backupNode}:${state.files.file}`, commands}
      },
      async act(ctx) {
        const access = patroniAccess(ctx)
        const {source, files, backupNode} = ctx.state
        const m = access.member(source!.member)
        const startedAt = new Date().toISOString()
        const dumped = await access.runWithPassword(
          backupNode!,
          dumpCommand({host: m.address, port: m.pgPort, user: access.topology.user, database: ctx.state.database}, files!),
          DUMP_TIMEOUT_MS,
        )
        if (dumped.code !== 0) {
          await ctx.run(backupNode!, ['rm', '-f', files!.partial])
          throw new CtlError(`pg_dump of ${ctx.state.database} from ${source!.member} failed (exit ${dumped.code}): ${lastLines(dumped, 3, ' ')}`, {
            host: backupNode,
            code: 'pg.dump-failed',
            hint: /already exists|test/.test(dumped.stderr)
              ? `${files!.file} exists already: run again (a new time stamp).`
              : 'A dump from a replica can be cancelled by recovery conflicts: run again, or set backupFromReplica: false.',
          })
        }
        const sum = parseDumpChecksum(dumped.stdout)
        if (!sum) throw new CtlError(`Could not read the checksum of ${files!.file}`, {host: backupNode, code: 'pg.dump-record'})
        const version = await ctx.run(backupNode!, ['pg_dump', '--version'])
        const counted = await ctx.run(backupNode!, archiveRowCountsCommand(files!.file), {timeoutMs: DUMP_TIMEOUT_MS})
        if (counted.code !== 0)
          throw new CtlError(`Could not count the rows in ${files!.file} (exit ${counted.code}): ${lastLines(counted, 3, ' ')}`, {
            host: backupNode,
            code: 'pg.dump-corrupt',
            hint: 'The archive does not read back: run the backup again.',
          })
        ctx.state.record = {
          file: files!.file,
          node: backupNode!,
          scope: access.topology.scope,
          database: ctx.state.database,
          sourceMember: source!.member,
          sourceRole: source!.role,
          timeline: ctx.state.position?.timeline,
          lsn: ctx.state.position?.lsn ?? 'unknown',
          sha256: sum.sha256,
          sizeBytes: sum.sizeBytes,
          startedAt,
          finishedAt: new Date().toISOString(),
          pgDump: version.stdout.trim(),
          rowCounts: parseDrillOutput(counted.stdout).rows,
        }
        const written = await ctx.run(backupNode!, writeRecordCommand(files!.record), {stdin: `${JSON.stringify(ctx.state.record, null, 2)}\n`})
        if (written.code !== 0) throw new CtlError(`Could not write ${files!.record}`, {host: backupNode, code: 'pg.dump-record', hint: written.stderr.trim()})
        ctx.report([`${files!.file}: ${formatBytes(sum.sizeBytes)}, sha256 ${sum.sha256}`])
      },
    },
    {
      id: 'verify',
      title: 'Check the archive (checksum, pg_restore --list)',
      risk: 'read',
      description: "Re-reads the sha256 of the file and lists the archive's table of contents: a truncated or corrupt dump fails here.",
      plan(state) {
        if (!state.record || !state.backupNode) return {summary: 'After the dump', commands: [], skip: 'runs after the dump'}
        return {
          summary: `Check ${state.record.file}`,
          commands: [
            {node: state.backupNode, command: renderCommand(checksumCommand(state.record.file))},
            {node: state.backupNode, command: renderCommand(listArchiveCommand(state.record.file))},
          ],
        }
      },
      async act(ctx) {
        const {record, backupNode} = ctx.state
        const sum = parseDumpChecksum((await ctx.run(backupNode!, checksumCommand(record!.file))).stdout)
        if (sum?.sha256 !== record!.sha256)
          throw new CtlError(`${record!.file} changed after it was written (sha256 ${sum?.sha256 ?? 'unreadable'})`, {
            host: backupNode,
            code: 'pg.dump-corrupt',
            hint: 'Run the backup again.',
          })
        const list = await ctx.run(backupNode!, listArchiveCommand(record!.file))
        if (list.code !== 0)
          throw new CtlError(`pg_restore --list cannot read ${record!.file}: ${list.stderr.trim()}`, {
            host: backupNode,
            code: 'pg.dump-corrupt',
            hint: 'Run the backup again.',
          })
        ctx.state.archive = countArchive(parseArchiveList(list.stdout))
        ctx.report([
          'Archive contents:',
          ...table(
            ['kind', 'entries'],
            Object.entries(ctx.state.archive).map(([k, v]) => [k, String(v)]),
          ),
        ])
      },
    },
  ],

  summarize(state) {
    return {database: state.database, source: state.source, backup: state.record, archive: state.archive}
  },
}
