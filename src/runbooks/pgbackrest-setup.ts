import {setTimeout as sleep} from 'node:timers/promises'
import {CtlError, ExitCode} from '../lib/errors.js'
import {lastLines} from '../lib/output.js'
import {renderCommand} from '../lib/shell.js'
import type {LoadedInventory} from '../inventory/load.js'
import {resolveSecret} from '../inventory/secrets.js'
import type {PatroniAccess} from '../patroni/actions.js'
import {memberTarget, type ClusterFacts} from '../patroni/facts.js'
import {
  archivingChanges,
  archivingConfigPatch,
  archivingParameters,
  pgbackrestCommand,
  pgbackrestSettings,
  OFFSITE_REPO,
  renderNodeConfigs,
  repoWhere,
  writeConfigCommand,
  type PgbackrestSecrets,
  type PgbackrestSettings,
  type MemberLayout,
} from '../patroni/pgbackrest-config.js'
import {buildRestRequest} from '../patroni/rest.js'
import {memberNamed, patroniTopology} from '../patroni/topology.js'
import {factCommands} from './patroni-switchover.js'
import {factsTable, patroniAccess} from './patroni-common.js'
import {memberLayouts, readRepositoryInfo, repoCommandPlan, restartMember, runPgbackrest} from './pgbackrest-common.js'
import {table} from './render.js'
import type {PlannedCommand, Runbook} from './types.js'

export interface PgbackrestSetupOptions {
  configsOnly?: boolean
}

export interface PgbackrestSetupState {
  /** Write the configs and stop (a restore from the repositories onto new hosts comes before any stanza for them). */
  configsOnly?: boolean
  facts?: ClusterFacts
  layouts?: MemberLayout[]
  /** Archiving parameters the DCS does not have yet. */
  changes?: Record<string, string>
  /** Members whose PostgreSQL needs a restart for archive_mode (replicas first, the leader last). */
  restarts?: string[]
  restarted?: string[]
  stanzaExisted?: boolean
}

/** The keys the configs hold, read from the inventory's secret references (never in argv: the configs go on stdin). */
function pgbackrestSecrets(loaded: LoadedInventory): Partial<PgbackrestSecrets> {
  const section = loaded.inventory.databases.patroni!.pgbackrest!
  const offsite = loaded.inventory.backups.offsite
  return {
    ...(section.cipherPass ? {cipherPass: resolveSecret(loaded, section.cipherPass)} : {}),
    ...(offsite
      ? {
          s3Key: resolveSecret(loaded, offsite.s3.accessKeyId),
          s3Secret: resolveSecret(loaded, offsite.s3.secretAccessKey),
          offsiteCipherPass: resolveSecret(loaded, offsite.encryptionKey),
        }
      : {}),
  }
}

/**
 * Where `pgbackrest check` runs: the repository node and every member; with an offsite repository,
 * which members reach directly, a standby's check fails ("primary database not found"), so only the
 * leader's node of the members.
 */
function checkNodes(s: PgbackrestSettings, state: PgbackrestSetupState): string[] {
  const layouts = state.layouts ?? []
  const leaderNode = layouts.find((l) => l.member === state.facts?.leader)?.node
  const members = s.offsite ? layouts.filter((l) => l.node === leaderNode) : layouts
  return [...new Set([s.repoNode, ...members.map((l) => l.node)])]
}

/** How long members get to load a configuration change from the DCS. */
const SETTLE_TIMEOUT_MS = 90_000

/** Each member's archive_mode as its server has it: on, or set but waiting for a restart (pg_settings). */
async function archiveModeStates(access: PatroniAccess): Promise<{member: string; on: boolean; pending: boolean}[]> {
  return Promise.all(
    access.topology.members.map(async (m) => {
      const state = await access.query<{on: boolean; pending: boolean}>(memberTarget(access.topology, m), ARCHIVE_MODE_SQL, 'archiving')
      return {member: m.name, ...state}
    }),
  )
}

const ARCHIVE_MODE_SQL = "select json_build_object('on', setting = 'on', 'pending', pending_restart) from pg_settings where name = 'archive_mode'"

const CONFIGS_ONLY = '--configs-only: the configs are written; the stanza, archiving and the check are left for after the restore'

export const pgbackrestSetup: Runbook<PgbackrestSetupState, PgbackrestSetupOptions> = {
  name: 'pgbackrest-setup',
  summary:
    "Sets up pgBackRest for the Patroni cluster: configs on every member and the repository node, the stanza, WAL archiving in Patroni's configuration, then checks it.",
  description: [
    "Reads each member's data directory, socket and port from the server itself, writes pgBackRest's config on every",
    'member (pushing WAL to the repository node over SSH as the PostgreSQL user) and on the repository node (the',
    'repository, its aes-256-cbc key from cipherPass, written from stdin, never in argv, and the members), creates the',
    "stanza (idempotent), sets archive_mode, archive_command and archive_timeout in Patroni's DCS (PATCH /config), then",
    'restarts the members that need it for archive_mode: replicas first, the leader last after a question (writes pause',
    'for a few seconds). Ends with `pgbackrest check` on every node (a WAL segment is switched and must reach the',
    'repository). Needs SSH from each member to the repository node and back as the PostgreSQL user (docs/BACKUPS.md).',
    '--configs-only writes the configs and stops: after losing the cluster, restore from the repositories first',
    '(pg-restore --at ... --repo offsite --into), since a new cluster cannot share the old one’s stanza.',
  ].join('\n'),
  needs: 'databases.patroni.pgbackrest (repoNode, repoPath, cipherPass, configPath); pgbackrest on every member and the repository node',

  setup({loaded, options}) {
    pgbackrestSettings(loaded)
    return options.configsOnly ? {configsOnly: true} : {}
  },

  steps: [
    {
      id: 'facts',
      title: "Read the cluster, each member's layout and Patroni's configuration",
      risk: 'read',
      description:
        'Cluster facts; data_directory, unix_socket_directories and port of every member; GET /config on the leader; pgbackrest version on every node.',
      plan: (state, loaded) => ({summary: 'Read the cluster and what archiving needs', commands: factCommands(loaded, state.facts?.leader)}),
      async act(ctx) {
        const access = patroniAccess(ctx)
        const s = pgbackrestSettings(ctx.loaded)
        const facts = await access.facts()
        ctx.state.facts = facts
        ctx.report(factsTable(facts))
        if (!facts.leader || !facts.leaderHealthy)
          throw new CtlError('The cluster has no healthy leader: archiving is set up on a running cluster', {
            exitCode: ExitCode.cannotRun,
            code: 'pgbackrest.no-leader',
            hint: 'Repair it first (ctl runbook patroni-failover <env>).',
          })
        const nodes = [...new Set([s.repoNode, ...access.topology.members.map((m) => m.node)])]
        for (const node of nodes) {
          const version = await ctx.run(node, ['pgbackrest', 'version'])
          if (version.code !== 0)
            throw new CtlError(`pgbackrest is not installed on ${node}`, {
              host: node,
              exitCode: ExitCode.cannotRun,
              code: 'pgbackrest.missing',
              hint: 'apt-get install pgbackrest',
            })
        }
        ctx.state.layouts = await memberLayouts(access, facts, 'facts')
        const config = await access.request(facts.leader, {method: 'GET', path: '/config'})
        const postgresql = (config.json as {postgresql?: {parameters?: Record<string, unknown>; recovery_conf?: Record<string, unknown>}} | undefined)
          ?.postgresql
        ctx.state.changes = archivingChanges(s, postgresql?.parameters ?? {}, postgresql?.recovery_conf ?? {})
        ctx.state.restarts = (await archiveModeStates(access)).filter((m) => !m.on).map((m) => m.member)
        ctx.report([
          ...table(
            ['member', 'node', 'data directory', 'socket', 'port'],
            ctx.state.layouts.map((l) => [l.member, l.node, l.dataDir, l.socketDir, String(l.port)]),
          ),
          Object.keys(ctx.state.changes).length === 0
            ? "Patroni's configuration archives through pgBackRest already."
            : `Patroni's configuration needs: ${Object.entries(ctx.state.changes)
                .map(([k, v]) => `${k}=${v}`)
                .join(', ')}`,
        ])
      },
    },
    {
      id: 'configs',
      title: "Write pgBackRest's config on every node",
      risk: 'change',
      description:
        'One config per node (0600, owned by the PostgreSQL user, replaced in one rename), with its log and lock directories; the repository directory on the repository node.',
      plan(state, loaded) {
        const s = pgbackrestSettings(loaded)
        if (!state.layouts) return {summary: 'Needs the layouts first', commands: []}
        const commands: PlannedCommand[] = renderNodeConfigs(s, state.layouts).map(({node}) => ({
          node,
          command: renderCommand(writeConfigCommand(s, node)),
          note: `${s.configPath(node)} on stdin${node === s.repoNode && s.encrypted ? ' (with the repository key)' : ''}${s.offsite ? ' (with the offsite S3 keys and encryption key)' : ''}`,
        }))
        return {
          summary: `Configs on ${commands.map((c) => c.node).join(', ')}; repository ${s.repoNode}:${s.repoPath}${s.encrypted ? ', encrypted' : ', NOT encrypted'}${s.offsite ? `; offsite repository ${repoWhere(s, OFFSITE_REPO)} (encrypted)` : ''}`,
          commands,
        }
      },
      async act(ctx) {
        const s = pgbackrestSettings(ctx.loaded)
        for (const {node, text} of renderNodeConfigs(s, ctx.state.layouts!, pgbackrestSecrets(ctx.loaded))) {
          const r = await ctx.run(node, writeConfigCommand(s, node), {stdin: text})
          if (r.code !== 0)
            throw new CtlError(`Could not write ${s.configPath(node)} on ${node}: ${lastLines(r, 3, ' ')}`, {
              host: node,
              code: 'pgbackrest.config-failed',
              hint: `Check that ${s.osUser} exists there and the directory is writable.`,
            })
          ctx.progress(`${node}: ${s.configPath(node)}`)
        }
      },
    },
    {
      id: 'stanza',
      title: 'Create the stanza in the repository',
      risk: 'change',
      description: 'pgbackrest stanza-create on the repository node (does nothing when the stanza exists and matches the cluster).',
      plan: (state, loaded) =>
        state.configsOnly
          ? {summary: 'Left out', commands: [], skip: CONFIGS_ONLY}
          : repoCommandPlan(loaded, `Stanza ${pgbackrestSettings(loaded).stanza} in the repository`, 'stanza-create'),
      async act(ctx) {
        const s = pgbackrestSettings(ctx.loaded)
        ctx.state.stanzaExisted = (await readRepositoryInfo(ctx, s)) !== undefined
        const r = await runPgbackrest(ctx, s.repoNode, pgbackrestCommand(s, s.repoNode, 'stanza-create'), {timeoutMs: 300_000})
        if (r.code !== 0)
          throw new CtlError(`stanza-create failed (exit ${r.code}): ${lastLines(r, 3, ' ')}`, {
            host: s.repoNode,
            code: 'pgbackrest.stanza-failed',
            hint: /unable to acquire lock/.test(r.stderr)
              ? `Another pgBackRest process held the stanza's lock for 30 s (a backup?): look on ${s.repoNode} (ps -u ${s.osUser} -f | grep pgbackrest) and run again.`
              : /decrypt|cipher/i.test(r.stderr)
                ? 'The repository was made with another key: cipherPass (offsite: encryptionKey) must stay the same for the life of a repository.'
                : /CA cert|certificate|TLS|S3|HTTP|repo2/i.test(r.stderr)
                  ? `The offsite S3 storage (${repoWhere(s, OFFSITE_REPO)}) refused or could not be reached: check backups.offsite (endpoint, port, caFile readable by ${s.osUser}, keys).`
                  : 'SSH as the PostgreSQL user from the repository node to each member must work without a question (docs/BACKUPS.md).',
          })
        ctx.report([ctx.state.stanzaExisted ? `Stanza ${s.stanza} exists already.` : `Stanza ${s.stanza} created.`])
      },
    },
    {
      id: 'archiving',
      title: "Turn on WAL archiving in Patroni's configuration",
      risk: 'change',
      description:
        'PATCH /config with archive_mode, archive_command, archive_timeout and restore_command (recovery_conf: standbys read the archive, a promotion sees its timelines) cluster-wide in the DCS, then POST /restart on each member with a pending restart: replicas first, then the leader after a question.',
      plan(state, loaded) {
        const s = pgbackrestSettings(loaded)
        if (state.configsOnly) return {summary: 'Left out', commands: [], skip: CONFIGS_ONLY}
        const changes = state.changes ?? archivingParameters(s)
        const leader = state.facts?.leader
        if (state.changes && Object.keys(state.changes).length === 0 && state.restarts?.length === 0)
          return {
            summary: 'Archiving is on already',
            commands: [],
            skip: 'archive_mode, archive_command, archive_timeout and restore_command are set and no restart is pending',
          }
        return {
          summary: `Set ${Object.keys(changes).join(', ') || 'nothing'} in the DCS, then restart the members that need it (replicas first, ${leader ?? 'the leader'} last, after a question)`,
          commands: leader
            ? [
                {
                  node: memberNamed(patroniTopology(loaded), leader).node,
                  command: renderCommand(buildRestRequest(memberNamed(patroniTopology(loaded), leader), {method: 'PATCH', path: '/config', body: {}})),
                  note: `body on stdin: ${JSON.stringify(archivingConfigPatch(changes))}`,
                },
              ]
            : [],
        }
      },
      async act(ctx) {
        const access = patroniAccess(ctx)
        const leader = ctx.state.facts!.leader!
        if (Object.keys(ctx.state.changes ?? {}).length > 0) {
          const reply = await access.request(leader, {method: 'PATCH', path: '/config', body: archivingConfigPatch(ctx.state.changes!)})
          if (reply.status !== 200)
            throw new CtlError(`Patroni refused the configuration change: ${reply.text || reply.transportError}`, {
              host: access.member(leader).node,
              code: 'pgbackrest.config-refused',
              hint: 'Look at patronictl show-config and Patroni’s log.',
            })
          ctx.progress(`DCS: ${Object.keys(ctx.state.changes!).join(', ')} set; waiting for members to see it`)
        }
        // Patroni applies the DCS change on each member's next loop (postgresql.conf, reload): until then a
        // member shows neither archive_mode on nor a pending restart. Wait for every member to show one.
        const deadline = Date.now() + SETTLE_TIMEOUT_MS
        let states = await archiveModeStates(access)
        while (states.some((m) => !m.on && !m.pending) && Date.now() < deadline) {
          ctx.progress(
            `waiting for ${states
              .filter((m) => !m.on && !m.pending)
              .map((m) => m.member)
              .join(', ')} to load the new configuration`,
          )
          await sleep(1000)
          states = await archiveModeStates(access)
        }
        const waiting = states.filter((m) => !m.on && !m.pending)
        if (waiting.length > 0)
          throw new CtlError(
            `${waiting.map((m) => m.member).join(', ')} did not load archive_mode from Patroni's configuration within ${SETTLE_TIMEOUT_MS / 1000} s`,
            {
              host: access.member(waiting[0]!.member).node,
              code: 'pgbackrest.archiving-off',
              hint: "Look at Patroni's log there (patronictl show-config, patronictl list).",
            },
          )
        const off = states.filter((m) => !m.on).map((m) => m.member)
        const ordered = [...off.filter((n) => n !== leader), ...off.filter((n) => n === leader)]
        ctx.state.restarts = ordered
        ctx.state.restarted = ctx.state.restarted ?? []
        for (const name of ordered) {
          if (ctx.state.restarted.includes(name)) continue
          if (name === leader) await ctx.confirm(`Restart the leader ${name} (${access.member(name).node}) for archive_mode? Writes pause for a few seconds.`)
          ctx.progress(`restarting ${name}`)
          await restartMember(access, name, ctx.progress, 'archiving')
          ctx.state.restarted.push(name)
        }
        const still = (await archiveModeStates(access)).filter((m) => !m.on)
        if (still.length > 0)
          throw new CtlError(`archive_mode is still off on ${still.map((m) => m.member).join(', ')} after the restart`, {
            host: access.member(still[0]!.member).node,
            code: 'pgbackrest.archiving-off',
            hint: "Look at Patroni's log there (patronictl list: pending restart?).",
          })
        ctx.report([`Archiving on; restarted: ${ordered.join(', ') || 'none needed'}`])
      },
    },
    {
      id: 'check',
      title: 'Check archiving and the repository from every node',
      // Not read-only: check switches a WAL segment on the primary (and would fail before the configs exist).
      risk: 'change',
      description:
        'pgbackrest check on the repository node (switches a WAL segment on the primary and waits for it in the repository), then on each other member (its config, and SSH to the repository).',
      plan(state, loaded) {
        if (state.configsOnly) return {summary: 'Left out', commands: [], skip: CONFIGS_ONLY}
        const s = pgbackrestSettings(loaded)
        const nodes = checkNodes(s, state)
        return {
          summary: `pgbackrest check on ${nodes.join(', ')}`,
          commands: nodes.map((node) => ({node, command: renderCommand(pgbackrestCommand(s, node, 'check'))})),
        }
      },
      async act(ctx) {
        const s = pgbackrestSettings(ctx.loaded)
        const nodes = checkNodes(s, ctx.state)
        for (const node of nodes) {
          const r = await runPgbackrest(ctx, node, pgbackrestCommand(s, node, 'check'), {timeoutMs: 300_000})
          if (r.code !== 0)
            throw new CtlError(`pgbackrest check failed on ${node} (exit ${r.code}): ${lastLines(r, 3, ' ')}`, {
              host: node,
              code: 'pgbackrest.check-failed',
              hint: `Look at ${s.logPath(node)} on ${node}; SSH as ${s.osUser} between ${node} and ${s.repoNode} must work without a question.`,
            })
          ctx.progress(`${node}: check passed`)
        }
        const skipped = (ctx.state.layouts ?? []).map((l) => l.node).filter((n) => !nodes.includes(n))
        ctx.report([
          `pgbackrest check passed on ${nodes.join(', ')}`,
          ...(skipped.length > 0
            ? [
                `Not checked on the replicas' nodes ${skipped.join(', ')}: with a repository of their own (offsite) pgBackRest checks only through the primary; their configs are the leader's but for their own server.`,
              ]
            : []),
        ])
      },
    },
  ],

  summarize(state) {
    return {layouts: state.layouts, changes: state.changes, restarted: state.restarted, stanzaExisted: state.stanzaExisted}
  },
}
