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
  /** The second repository, in S3 off the cluster (backups.offsite): WAL goes to both, backups to the one asked for. */
  offsite?: OffsiteRepo
  /** Paths on a node, `{node}` replaced by its name. */
  configPath(node: string): string
  logPath(node: string): string
  lockPath(node: string): string
}

/** pgBackRest's repo2 in S3: where it is (no secrets; those reach the configs on stdin). */
interface OffsiteRepo {
  endpoint: string
  port: number
  bucket: string
  region: string
  path: string
  caFile?: string
  retentionFull: number
}

/** The repository numbers pgBackRest uses: 1 on the repository node, 2 offsite. */
export const LOCAL_REPO = 1
export const OFFSITE_REPO = 2

/** Where a repository is, for people: `h3:/path` or `s3://bucket/path`. */
export function repoWhere(s: Pick<PgbackrestSettings, 'repoNode' | 'repoPath' | 'offsite'>, repo: number): string {
  return repo === OFFSITE_REPO && s.offsite ? `s3://${s.offsite.bucket}${s.offsite.path}` : `${s.repoNode}:${s.repoPath}`
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
  const offsite = loaded.inventory.backups.offsite
  return {
    ...(offsite
      ? {
          offsite: {
            endpoint: offsite.s3.endpoint,
            port: offsite.s3.port,
            bucket: offsite.s3.bucket,
            region: offsite.s3.region,
            path: offsite.pgbackrestPath,
            caFile: offsite.s3.caFile,
            retentionFull: offsite.pgbackrestRetentionFull,
          },
        }
      : {}),
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

/** The secrets a config holds; plans and tests show markers in their place, the real files get them on stdin. */
export interface PgbackrestSecrets {
  cipherPass: string
  s3Key: string
  s3Secret: string
  offsiteCipherPass: string
}
const SECRET_PLACEHOLDERS: PgbackrestSecrets = {
  cipherPass: '<cipherPass>',
  s3Key: '<s3 accessKeyId>',
  s3Secret: '<s3 secretAccessKey>',
  offsiteCipherPass: '<offsite encryptionKey>',
}

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
 * repo2 in S3 (path-style, TLS verified), always encrypted: every node that pushes WAL there encrypts
 * it itself, so every node's config holds the offsite key and the S3 key pair.
 */
function offsiteLines(s: PgbackrestSettings, secrets: PgbackrestSecrets): string[] {
  const o = s.offsite
  if (!o) return []
  const r = `repo${OFFSITE_REPO}`
  return [
    `${r}-type=s3`,
    `${r}-path=${o.path}`,
    `${r}-s3-bucket=${o.bucket}`,
    `${r}-s3-endpoint=${o.endpoint}`,
    `${r}-s3-region=${o.region}`,
    `${r}-s3-uri-style=path`,
    `${r}-storage-port=${o.port}`,
    ...(o.caFile ? [`${r}-storage-ca-file=${o.caFile}`] : []),
    `${r}-s3-key=${secrets.s3Key}`,
    `${r}-s3-key-secret=${secrets.s3Secret}`,
    `${r}-cipher-type=aes-256-cbc`,
    `${r}-cipher-pass=${secrets.offsiteCipherPass}`,
    `${r}-retention-full=${o.retentionFull}`,
  ]
}

/**
 * The repository node's config: the repository (path, key, retention), the offsite one, and every
 * member, its own member first (archive-push and restore use pg1 as the local server), the others over SSH.
 */
function renderRepoConfig(s: PgbackrestSettings, members: readonly MemberLayout[], secrets: PgbackrestSecrets): string {
  const ordered = [...members].sort((a, b) => Number(b.node === s.repoNode) - Number(a.node === s.repoNode))
  return [
    `# Written by ctl (pgbackrest-setup): the repository of stanza ${s.stanza}. Mode 0600: it holds the repository key.`,
    '[global]',
    `repo1-path=${s.repoPath}`,
    ...(s.encrypted ? ['repo1-cipher-type=aes-256-cbc', `repo1-cipher-pass=${secrets.cipherPass}`] : []),
    `repo1-retention-full=${s.retentionFull}`,
    ...offsiteLines(s, secrets),
    'start-fast=y',
    ...globalLines(s, s.repoNode),
    '',
    `[${s.stanza}]`,
    ...ordered.flatMap((m, i) => memberLines(i + 1, m, s, m.node !== s.repoNode)),
    '',
  ].join('\n')
}

/**
 * A member node's config: its own server, the repository host it pushes WAL to (without that
 * repository's key: the repository host encrypts), and the offsite repository (with its key).
 */
function renderMemberConfig(s: PgbackrestSettings, member: MemberLayout, secrets: PgbackrestSecrets): string {
  return [
    `# Written by ctl (pgbackrest-setup): ${member.member}'s side of stanza ${s.stanza}.`,
    '[global]',
    `repo1-host=${s.repoAddress}`,
    `repo1-host-user=${s.osUser}`,
    `repo1-host-config=${s.configPath(s.repoNode)}`,
    ...offsiteLines(s, secrets),
    ...globalLines(s, member.node),
    '',
    `[${s.stanza}]`,
    ...memberLines(1, member, s, false),
    '',
  ].join('\n')
}

/** The config each node gets: the repository node's (which is also a member's, when it holds one), then each other member's. */
export function renderNodeConfigs(
  s: PgbackrestSettings,
  members: readonly MemberLayout[],
  secrets: Partial<PgbackrestSecrets> = {},
): {node: string; text: string}[] {
  const all = {...SECRET_PLACEHOLDERS, ...secrets}
  const others = members.filter((m) => m.node !== s.repoNode)
  return [{node: s.repoNode, text: renderRepoConfig(s, members, all)}, ...others.map((m) => ({node: m.node, text: renderMemberConfig(s, m, all)}))]
}

/**
 * PostgreSQL's archiving through pgBackRest, set cluster-wide in Patroni's DCS. No --config: each
 * node's pgBackRest reads its own (the default path, or PGBACKREST_CONFIG in PostgreSQL's environment).
 * restore_command (a recovery setting: Patroni's recovery_conf) lets a standby read the archive, and a
 * promotion see the timelines already there: without it a member promoted after another one's
 * promotion forks the same timeline again, and archiving refuses its segments for good.
 */
export function archivingParameters(s: PgbackrestSettings): Record<string, string> {
  return {
    archive_mode: 'on',
    archive_command: `pgbackrest --stanza=${s.stanza} archive-push "%p"`,
    archive_timeout: String(s.archiveTimeoutSeconds),
    restore_command: `pgbackrest --stanza=${s.stanza} archive-get %f "%p"`,
  }
}

/** Patroni keeps recovery settings apart from the server's parameters. */
const RECOVERY_SETTINGS = new Set(['restore_command'])

/** The settings whose value in the DCS differs from what archiving needs (Patroni may report numbers as numbers). */
export function archivingChanges(
  s: PgbackrestSettings,
  current: Record<string, unknown> | undefined,
  recoveryConf: Record<string, unknown> | undefined = {},
): Record<string, string> {
  const want = archivingParameters(s)
  const have = (k: string) => (RECOVERY_SETTINGS.has(k) ? recoveryConf?.[k] : current?.[k])
  return Object.fromEntries(Object.entries(want).filter(([k, v]) => String(have(k) ?? '') !== v))
}

/** The PATCH /config body for those changes: recovery settings under recovery_conf, the rest under parameters. */
export function archivingConfigPatch(changes: Record<string, string>): {postgresql: Record<string, Record<string, string>>} {
  const pick = (recovery: boolean) => Object.fromEntries(Object.entries(changes).filter(([k]) => RECOVERY_SETTINGS.has(k) === recovery))
  const parameters = pick(false)
  const recovery = pick(true)
  return {
    postgresql: {
      ...(Object.keys(parameters).length > 0 ? {parameters} : {}),
      ...(Object.keys(recovery).length > 0 ? {recovery_conf: recovery} : {}),
    },
  }
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
