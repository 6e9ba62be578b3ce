import {CtlError, ExitCode} from '../lib/errors.js'
import type {LoadedInventory} from '../inventory/load.js'
import type {PgbackrestSection} from '../inventory/schema/databases.js'
import {nodePath} from '../inventory/schema/common.js'
import {quote, type RemoteCommand} from '../lib/shell.js'
import {patroniTopology} from './topology.js'

/**
 * pgBackRest for a Patroni cluster in repository-host mode: the repository lives on one node; each
 * member's pgBackRest pushes WAL there over SSH (as the PostgreSQL user), and backups run there,
 * reaching the members over SSH. One config file per node, rendered here from the inventory and the
 * members' own settings (data directory, socket, port, read from each server). Pure.
 */

export interface PgbackrestSettings {
  stanza: string
  repoNode: string
  repoAddress: string
  repoPath: string
  encrypted: boolean
  retentionFull: number
  archiveTimeoutSeconds: number
  osUser: string
  scratchDir: string
  scratchPort: number
  /** Paths on a node, `{node}` replaced by its name. */
  configPath(node: string): string
  logPath(node: string): string
  lockPath(node: string): string
}

/** Where a member's PostgreSQL keeps its data and listens, as the server itself reports it. */
export interface MemberLayout {
  member: string
  node: string
  address: string
  dataDir: string
  socketDir: string
  port: number
}

const onNode = (template: string) => (node: string) => nodePath(template, node)

export function pgbackrestSettings(loaded: LoadedInventory): PgbackrestSettings {
  const topology = patroniTopology(loaded)
  const section: PgbackrestSection | undefined = loaded.inventory.databases.patroni?.pgbackrest
  if (!section)
    throw new CtlError(`${loaded.file} has no databases.patroni.pgbackrest section`, {
      exitCode: ExitCode.cannotRun,
      code: 'pgbackrest.not-configured',
      hint: 'Name the repository (repoNode, repoPath) and its key (cipherPass) under databases.patroni.pgbackrest; see docs/BACKUPS.md.',
    })
  const repo = loaded.inventory.nodes.find((n) => n.name === section.repoNode)!
  return {
    stanza: section.stanza ?? topology.scope,
    repoNode: section.repoNode,
    repoAddress: repo.address,
    repoPath: section.repoPath,
    encrypted: section.cipherPass !== undefined,
    retentionFull: section.retentionFull,
    archiveTimeoutSeconds: section.archiveTimeoutSeconds,
    osUser: section.osUser,
    scratchDir: section.scratchDir,
    scratchPort: section.scratchPort,
    configPath: onNode(section.configPath),
    logPath: onNode(section.logPath),
    lockPath: onNode(section.lockPath),
  }
}

/** The marker that stands for the key in plans and tests; the real file gets the secret on stdin. */
const CIPHER_PASS_PLACEHOLDER = '<cipherPass>'

function memberLines(index: number, m: MemberLayout, s: PgbackrestSettings, remote: boolean): string[] {
  const pg = `pg${index}`
  return [
    ...(remote ? [`${pg}-host=${m.address}`, `${pg}-host-user=${s.osUser}`, `${pg}-host-config=${s.configPath(m.node)}`] : []),
    `${pg}-path=${m.dataDir}`,
    `${pg}-socket-path=${m.socketDir}`,
    `${pg}-port=${m.port}`,
  ]
}

function globalLines(s: PgbackrestSettings, node: string): string[] {
  return [`log-path=${s.logPath(node)}`, `lock-path=${s.lockPath(node)}`, 'log-level-console=warn', 'log-level-file=info']
}

/**
 * The repository node's config: the repository (path, key, retention) and every member, its own
 * member first (archive-push and restore use pg1 as the local server), the others over SSH.
 */
function renderRepoConfig(s: PgbackrestSettings, members: readonly MemberLayout[], cipherPass: string = CIPHER_PASS_PLACEHOLDER): string {
  const ordered = [...members].sort((a, b) => Number(b.node === s.repoNode) - Number(a.node === s.repoNode))
  return [
    `# Written by ctl (pgbackrest-setup): the repository of stanza ${s.stanza}. Mode 0600: it holds the repository key.`,
    '[global]',
    `repo1-path=${s.repoPath}`,
    ...(s.encrypted ? ['repo1-cipher-type=aes-256-cbc', `repo1-cipher-pass=${cipherPass}`] : []),
    `repo1-retention-full=${s.retentionFull}`,
    'start-fast=y',
    ...globalLines(s, s.repoNode),
    '',
    `[${s.stanza}]`,
    ...ordered.flatMap((m, i) => memberLines(i + 1, m, s, m.node !== s.repoNode)),
    '',
  ].join('\n')
}

/** A member node's config: its own server, and the repository host it pushes WAL to (no key: it never reads the repository's contents itself). */
function renderMemberConfig(s: PgbackrestSettings, member: MemberLayout): string {
  return [
    `# Written by ctl (pgbackrest-setup): ${member.member}'s side of stanza ${s.stanza}.`,
    '[global]',
    `repo1-host=${s.repoAddress}`,
    `repo1-host-user=${s.osUser}`,
    `repo1-host-config=${s.configPath(s.repoNode)}`,
    ...globalLines(s, member.node),
    '',
    `[${s.stanza}]`,
    ...memberLines(1, member, s, false),
    '',
  ].join('\n')
}

/** The config each node gets: the repository node's (which is also a member's, when it holds one), then each other member's. */
export function renderNodeConfigs(s: PgbackrestSettings, members: readonly MemberLayout[], cipherPass?: string): {node: string; text: string}[] {
  const others = members.filter((m) => m.node !== s.repoNode)
  return [{node: s.repoNode, text: renderRepoConfig(s, members, cipherPass)}, ...others.map((m) => ({node: m.node, text: renderMemberConfig(s, m)}))]
}

/**
 * PostgreSQL's archiving through pgBackRest, set cluster-wide in Patroni's DCS. No --config: each
 * node's pgBackRest reads its own (the default path, or PGBACKREST_CONFIG in PostgreSQL's environment).
 */
export function archivingParameters(s: PgbackrestSettings): Record<string, string> {
  return {
    archive_mode: 'on',
    archive_command: `pgbackrest --stanza=${s.stanza} archive-push "%p"`,
    archive_timeout: String(s.archiveTimeoutSeconds),
  }
}

/** The parameters whose value in the DCS differs from what archiving needs (Patroni may report numbers as numbers). */
export function archivingChanges(s: PgbackrestSettings, current: Record<string, unknown> | undefined): Record<string, string> {
  const want = archivingParameters(s)
  return Object.fromEntries(Object.entries(want).filter(([k, v]) => String(current?.[k] ?? '') !== v))
}

/** pgBackRest as the PostgreSQL user, with the node's config and the stanza. */
export function pgbackrestCommand(s: Pick<PgbackrestSettings, 'osUser' | 'stanza' | 'configPath'>, node: string, ...args: string[]): string[] {
  return ['runuser', '-u', s.osUser, '--', 'pgbackrest', `--config=${s.configPath(node)}`, `--stanza=${s.stanza}`, ...args]
}

/**
 * Writes a node's config from stdin (0600, owned by the PostgreSQL user, replaced in one rename), with
 * its log and lock directories, and on the repository node the repository directory.
 */
export function writeConfigCommand(s: PgbackrestSettings, node: string): RemoteCommand {
  const user = quote(s.osUser)
  const config = s.configPath(node)
  const dirs = [config.slice(0, config.lastIndexOf('/')) || '/', s.logPath(node), s.lockPath(node), ...(node === s.repoNode ? [s.repoPath] : [])]
  return {
    script: [
      `install -d -m 750 -o ${user} -g ${user} ${dirs.map(quote).join(' ')}`,
      `umask 077 && cat > ${quote(`${config}.ctl-new`)} && chown ${user}: ${quote(`${config}.ctl-new`)} && mv ${quote(`${config}.ctl-new`)} ${quote(config)}`,
    ].join(' && '),
  }
}

/** Each member's own settings, read from the server (one JSON value). */
export const MEMBER_LAYOUT_SQL = `select json_build_object('dataDir', current_setting('data_directory'), 'socketDir', trim(split_part(current_setting('unix_socket_directories'), ',', 1)), 'port', current_setting('port')::int, 'versionNum', current_setting('server_version_num')::int)`
