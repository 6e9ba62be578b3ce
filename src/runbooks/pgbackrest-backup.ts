import {CtlError, ExitCode} from '../lib/errors.js'
import {lastLines} from '../lib/output.js'
import {renderCommand} from '../lib/shell.js'
import {formatBytes, type ClusterFacts} from '../patroni/facts.js'
import {LOCAL_REPO, OFFSITE_REPO, pgbackrestCommand, pgbackrestSettings, repoWhere, type PgbackrestSettings} from '../patroni/pgbackrest-config.js'
import {parseVerifyOutput, type PgbackrestBackup} from '../patroni/pgbackrest-info.js'
import {factCommands} from './patroni-switchover.js'
import {patroniAccess, readFactsAndBackupSource} from './patroni-common.js'
import {readRepositoryInfo, repoCommandPlan, runPgbackrest} from './pgbackrest-common.js'
import {table} from './render.js'
import type {Runbook} from './types.js'

type PgbackrestBackupType = 'full' | 'diff' | 'incr'

export interface PgbackrestBackupOptions {
  type?: PgbackrestBackupType
  repo?: 'local' | 'offsite'
}

export interface PgbackrestBackupState {
  type: PgbackrestBackupType
  /** pgBackRest's repository number: 1 local, 2 offsite. */
  repo: number
  facts?: ClusterFacts
  /** Back up from a standby (the leader only serves the start/stop calls and WAL). */
  fromStandby?: boolean
  why?: string
  before?: string[]
  backup?: PgbackrestBackup
  verified?: {ok: boolean; problems: string[]}
}

const BACKUP_TIMEOUT_MS = 12 * 60 * 60 * 1000

function backupCommand(s: PgbackrestSettings, state: PgbackrestBackupState): string[] {
  const source = state.fromStandby === false ? '--no-backup-standby' : '--backup-standby'
  return pgbackrestCommand(s, s.repoNode, `--repo=${state.repo}`, `--type=${state.type}`, source, 'backup')
}

/** The backups pgBackRest lists, newest first, as a table. */
export function backupRows(backups: readonly PgbackrestBackup[]): string[][] {
  return [...backups]
    .reverse()
    .map((b) => [b.label, b.type, b.stoppedAt, formatBytes(b.sizeBytes), formatBytes(b.repoSizeBytes), `${b.walStart ?? '?'}..${b.walStop ?? '?'}`])
}
export const BACKUP_HEADER = ['label', 'type', 'finished', 'size', 'in repository', 'WAL']

export const pgbackrestBackup: Runbook<PgbackrestBackupState, PgbackrestBackupOptions> = {
  name: 'pgbackrest-backup',
  summary:
    'A pgBackRest backup (full, differential or incremental) of the Patroni cluster into its repository, from a streaming replica where allowed, then verified.',
  description: [
    'Reads the cluster and chooses where the files are copied from: a streaming replica within maxLagBytes when',
    'databases.patroni.backupFromReplica is true (pgBackRest --backup-standby: the leader only runs the start and',
    'stop calls), else the leader. Runs `pgbackrest backup` on the repository node (encrypted there when cipherPass is',
    'set; pgBackRest expires backups beyond retentionFull and the WAL only they needed), then `pgbackrest verify`',
    "(every file's checksum in the repository). Point-in-time restores need WAL archiving: ctl runbook pgbackrest-setup.",
  ].join('\n'),
  needs: 'databases.patroni.pgbackrest, set up by pgbackrest-setup',

  setup({loaded, options}) {
    const s = pgbackrestSettings(loaded)
    const type = options.type ?? 'full'
    if (!['full', 'diff', 'incr'].includes(type))
      throw new CtlError(`--type must be full, diff or incr, not "${type}"`, {exitCode: ExitCode.cannotRun, code: 'pgbackrest.bad-type'})
    if (options.repo === 'offsite' && !s.offsite)
      throw new CtlError(`${loaded.file} has no backups.offsite: there is no offsite repository to back up into`, {
        exitCode: ExitCode.cannotRun,
        code: 'pgbackrest.no-offsite',
        hint: 'Describe the S3 storage under backups.offsite (docs/BACKUPS.md), run ctl runbook pgbackrest-setup <env>, then back up with --repo offsite.',
      })
    return {type, repo: options.repo === 'offsite' ? OFFSITE_REPO : LOCAL_REPO}
  },

  steps: [
    {
      id: 'facts',
      title: 'Read the cluster and the repository',
      risk: 'read',
      description: 'Cluster facts (a healthy leader is needed), the source (standby or leader), pgbackrest info.',
      plan: (state, loaded) => ({summary: 'Read the cluster and the repository', commands: factCommands(loaded, state.facts?.leader)}),
      async act(ctx) {
        const access = patroniAccess(ctx)
        const s = pgbackrestSettings(ctx.loaded)
        const {facts, source} = await readFactsAndBackupSource(ctx, access, 'pgbackrest.no-source')
        ctx.state.facts = facts
        ctx.state.fromStandby = source.role === 'replica'
        ctx.state.why = `${source.member} (${source.why})`
        const info = await readRepositoryInfo(ctx, s)
        if (!info)
          throw new CtlError(`Stanza ${s.stanza} does not exist in the repository on ${s.repoNode}`, {
            exitCode: ExitCode.cannotRun,
            code: 'pgbackrest.no-stanza',
            hint: 'Set it up first: ctl runbook pgbackrest-setup <env>.',
          })
        const inRepo = info.backups.filter((b) => b.repo === ctx.state.repo)
        ctx.state.before = inRepo.map((b) => b.label)
        if (ctx.state.type !== 'full' && inRepo.length === 0) ctx.report([`No backup yet: pgBackRest takes a full backup instead of ${ctx.state.type}.`])
        ctx.report([`Source: ${ctx.state.why}; ${inRepo.length} backup(s) in ${repoWhere(s, ctx.state.repo)}`])
      },
    },
    {
      id: 'backup',
      title: 'Back up into the repository (pgbackrest backup)',
      risk: 'change',
      description: 'pgbackrest backup on the repository node; expires backups beyond retentionFull.',
      plan(state, loaded) {
        const s = pgbackrestSettings(loaded)
        return {
          summary: `${state.type} backup of stanza ${s.stanza} into ${repoWhere(s, state.repo)}${state.why ? ` from ${state.why}` : ''}`,
          commands: [{node: s.repoNode, command: renderCommand(backupCommand(s, state))}],
        }
      },
      async act(ctx) {
        const s = pgbackrestSettings(ctx.loaded)
        ctx.progress(`${ctx.state.type} backup running on ${s.repoNode} into ${repoWhere(s, ctx.state.repo)}`)
        const r = await runPgbackrest(ctx, s.repoNode, backupCommand(s, ctx.state), {timeoutMs: BACKUP_TIMEOUT_MS})
        if (r.code !== 0)
          throw new CtlError(`pgbackrest backup failed (exit ${r.code}): ${lastLines(r, 3, ' ')}`, {
            host: s.repoNode,
            code: 'pgbackrest.backup-failed',
            hint: `Look at ${s.logPath(s.repoNode)} on ${s.repoNode}; run ctl runbook pgbackrest-setup <env> if archiving was never checked.`,
          })
        const info = await readRepositoryInfo(ctx, s)
        const inRepo = info?.backups.filter((b) => b.repo === ctx.state.repo) ?? []
        const made = inRepo.filter((b) => !ctx.state.before?.includes(b.label)).at(-1)
        if (!made) throw new CtlError('pgbackrest backup ended but the repository lists no new backup', {host: s.repoNode, code: 'pgbackrest.backup-failed'})
        ctx.state.backup = made
        ctx.report(table(BACKUP_HEADER, backupRows(inRepo)))
      },
    },
    {
      id: 'verify',
      title: 'Verify the repository (pgbackrest verify)',
      risk: 'read',
      description: "Every backup file's and WAL segment's checksum in the repository; a damaged or tampered file fails here.",
      plan: (state, loaded) =>
        repoCommandPlan(
          loaded,
          `Checksums of ${repoWhere(pgbackrestSettings(loaded), state.repo)}`,
          `--repo=${state.repo}`,
          '--output=text',
          '--verbose',
          'verify',
        ),
      async act(ctx) {
        const s = pgbackrestSettings(ctx.loaded)
        const r = await ctx.run(s.repoNode, pgbackrestCommand(s, s.repoNode, `--repo=${ctx.state.repo}`, '--output=text', '--verbose', 'verify'), {
          timeoutMs: BACKUP_TIMEOUT_MS,
        })
        const verdict = parseVerifyOutput(r.stdout)
        ctx.state.verified = verdict
        if (r.code !== 0 || !verdict.ok)
          throw new CtlError(`The repository does not verify: ${verdict.problems.slice(0, 3).join('; ') || lastLines(r, 3, ' ')}`, {
            host: s.repoNode,
            code: 'pgbackrest.verify-failed',
            hint: 'A damaged backup cannot be restored: take a new full backup (--type full) and find what changed the files.',
          })
        ctx.report(['Repository verified: every checksum matches.'])
      },
    },
  ],

  summarize(state) {
    return {type: state.type, repo: state.repo, source: state.why, backup: state.backup, verified: state.verified}
  },
}
