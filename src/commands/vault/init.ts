import {Flags} from '@oclif/core'
import {readFileSync} from 'node:fs'
import {changeFlags, CtlCommand, envArg} from '../../lib/command.js'
import {CtlError, ExitCode} from '../../lib/errors.js'
import {withSpinner} from '../../lib/progress.js'
import {requireConfirmation} from '../../lib/prompt.js'
import {registerSecret} from '../../lib/redact.js'
import {resolveInventoryRelative} from '../../inventory/load.js'
import type {RaftServer} from '../../vault/client.js'
import {readStatuses, unsealMembers, waitForCluster, type NodeOutcome} from '../../vault/cluster.js'
import {assertKeysFileWritable, keysFileContent, writeKeysFileOnce, type KeysFileContent} from '../../vault/keys-file.js'
import {vaultSettings, vaultTargets} from '../../vault/members.js'
import {pgpKeyForVault} from '../../vault/pgp.js'
import {planInit, type ClusterVerdict, type VaultNodeStatus} from '../../vault/plan.js'
import {raftLines, statusTable} from '../../vault/render.js'

export interface VaultInitResult {
  env: string
  dryRun: boolean
  initializedOn: string
  joined: string[]
  keyShares: number
  keyThreshold: number
  pgpEncrypted: boolean
  keysFile?: string
  outcomes: NodeOutcome[]
  nodes: VaultNodeStatus[]
  raftServers?: RaftServer[]
  verdict?: ClusterVerdict
  next?: string
  /** Only with --show. */
  keys?: {unsealKeysB64: string[]; rootToken: string}
}

export default class VaultInit extends CtlCommand {
  static override summary = 'Initialize a Vault Raft cluster, keep the keys safe, unseal and join every member.'
  static override description = `Runs sys/init on the first vault member with the inventory's keyShares and keyThreshold. With vault.pgpKeys, each share comes back encrypted for its holder; otherwise the shares and root token are written once to vault.keysFile (mode 0600, never overwritten) and never shown, unless --show. Refused when any member is already initialized. Then unseals the first node, joins the others to Raft through it (sys/storage/raft/join), unseals them, and checks that all members are Raft peers and one is active.
With PGP-encrypted shares ctl cannot unseal: the holders decrypt their shares and run \`ctl vault unseal <env>\`, which also joins the members.`
  static override examples = ['<%= config.bin %> vault init lab --yes', '<%= config.bin %> vault init prod --dry-run']
  static override args = {env: envArg}
  static override flags = {
    ...changeFlags,
    show: Flags.boolean({description: 'Also print the unseal keys and root token (they end up in the terminal scrollback).', default: false}),
    wait: Flags.integer({description: 'Seconds to wait for the cluster to become whole', default: 60}),
  }

  async run(): Promise<VaultInitResult> {
    const {args, flags} = await this.parse(VaultInit)
    const loaded = this.loadEnv(args.env)
    const settings = vaultSettings(loaded)
    const {all: members, clients, ca} = vaultTargets(loaded)
    this.auditContext = {...this.auditContext, hosts: members.map((m) => m.node)}
    const plan = planInit(members, await readStatuses(clients))
    const plannedKeysFile = resolveInventoryRelative(loaded, settings.keysFile)
    assertKeysFileWritable(plannedKeysFile)
    const pgpKeyFiles = settings.pgpKeys?.map((f) => resolveInventoryRelative(loaded, f))
    const pgpKeys = pgpKeyFiles?.map((f) => pgpKeyForVault(readFileSync(f), f))
    if (pgpKeys && pgpKeys.length !== settings.keyShares) {
      throw new CtlError(`vault.pgpKeys names ${pgpKeys.length} key(s) but keyShares is ${settings.keyShares}`, {
        exitCode: ExitCode.cannotRun,
        hint: 'Name one public key per share holder.',
      })
    }
    const summary = {
      initializedOn: plan.first.node,
      joined: plan.joiners.map((j) => j.node),
      keyShares: settings.keyShares,
      keyThreshold: settings.keyThreshold,
      pgpEncrypted: Boolean(pgpKeys),
    }
    this.auditContext.detail = {...summary, keysFile: plannedKeysFile}
    if (!this.jsonEnabled()) {
      this.log(
        `Plan: sys/init on ${plan.first.node} (${plan.first.apiUrl}) with ${settings.keyShares} shares, threshold ${settings.keyThreshold}${pgpKeys ? ', shares encrypted for the PGP keys in vault.pgpKeys' : ''}.`,
      )
      this.log(`      keys and root token → ${plannedKeysFile} (0600, created once)`)
      if (!pgpKeys)
        this.log(
          `      then unseal ${plan.first.node}, join and unseal ${summary.joined.join(', ') || '(no other member)'}, verify Raft peers and one active node.`,
        )
    }
    if (flags['dry-run']) {
      this.auditContext.outcome = 'dry-run'
      return {env: loaded.env, dryRun: true, ...summary, keysFile: plannedKeysFile, outcomes: [], nodes: []}
    }
    await requireConfirmation({message: `Initialize Vault of ${loaded.env} on ${plan.first.node}? This is done once per cluster.`, yes: flags.yes})

    const init = await clients[0]!.init({secret_shares: settings.keyShares, secret_threshold: settings.keyThreshold, ...(pgpKeys ? {pgp_keys: pgpKeys} : {})})
    for (const secret of [...init.keys, ...init.keys_base64, init.root_token]) registerSecret(secret)
    const keysFile = this.saveKeys(
      plannedKeysFile,
      keysFileContent(init, {env: loaded.env, node: plan.first.node, shares: settings.keyShares, threshold: settings.keyThreshold, pgpKeyFiles}),
    )
    if (!this.jsonEnabled()) this.log(`Initialized on ${plan.first.node}. Keys and root token written to ${keysFile} (mode 0600).`)
    const shown = flags.show ? {unsealKeysB64: init.keys_base64, rootToken: init.root_token} : undefined
    // --show is the operator's explicit choice: printed as they are, bypassing redaction (under --json, only `keys`).
    if (shown) this.unredactedJsonKey = 'keys'
    if (shown && !this.jsonEnabled()) {
      process.stdout.write(`Unseal keys (base64):\n${shown.unsealKeysB64.map((k, i) => `  ${i + 1}: ${k}`).join('\n')}\nRoot token: ${shown.rootToken}\n`)
    }
    if (pgpKeys) {
      const next = `Each holder decrypts their share (base64 -d | gpg -dq) from ${keysFile}, then run \`ctl vault unseal ${loaded.env}\`: it unseals ${plan.first.node} and joins the others.`
      if (!this.jsonEnabled()) this.log(`Next: ${next}`)
      return {env: loaded.env, dryRun: false, ...summary, keysFile, outcomes: [], nodes: await readStatuses(clients), next, keys: shown}
    }

    const shares = init.keys_base64.slice(0, settings.keyThreshold)
    const outcomes = await unsealMembers(clients, {unseal: [plan.first.node], join: summary.joined, skip: [], threshold: settings.keyThreshold}, shares, {ca})
    const state = await withSpinner('Checking Raft peers and the active node', (update) =>
      waitForCluster(clients, members, init.root_token, flags.wait * 1000, update),
    )
    if (!this.jsonEnabled()) {
      for (const line of statusTable(state.statuses, state.servers)) this.log(line)
      if (state.servers) for (const line of [`Raft peers (${state.servers.length}):`, ...raftLines(state.servers)]) this.log(line)
      for (const o of outcomes.filter((x) => x.action === 'failed')) this.log(`${o.node}: FAILED: ${o.error}${o.hint ? `\n  Hint: ${o.hint}` : ''}`)
      this.log(
        state.verdict.ok
          ? `Cluster OK: ${state.verdict.active} active, ${state.servers?.length} Raft peers.`
          : `Cluster NOT whole: ${state.verdict.problems.join('; ')}`,
      )
      this.log(`Hand the shares in ${keysFile} to their holders, keep the root token safe (or revoke it), then delete the file.`)
    }
    let next: string | undefined
    if (!state.verdict.ok) {
      next = `Vault is initialized; finish with \`ctl vault unseal ${loaded.env}\` (keys in ${keysFile}) and check \`ctl vault status ${loaded.env}\`.`
      if (!this.jsonEnabled()) this.log(`Next: ${next}`)
      this.markFailed('initialized-not-whole')
    }
    this.auditContext.detail = {...summary, keysFile, outcomes, active: state.verdict.active, problems: state.verdict.problems}
    return {
      env: loaded.env,
      dryRun: false,
      ...summary,
      keysFile,
      outcomes,
      nodes: state.statuses,
      raftServers: state.servers,
      verdict: state.verdict,
      next,
      keys: shown,
    }
  }

  /**
   * Vault hands out the keys once: if the planned file cannot be written after all (it was checked
   * before init), a sibling file is tried, and as the last resort the keys go to stderr, since losing
   * them would lose the cluster.
   */
  private saveKeys(path: string, content: KeysFileContent): string {
    for (const candidate of [path, `${path}.${Date.now()}`]) {
      try {
        writeKeysFileOnce(candidate, content)
        return candidate
      } catch (error) {
        this.logToStderr(`Warning: could not write ${candidate}: ${(error as Error).message}`)
      }
    }
    process.stderr.write(`NO KEYS FILE COULD BE WRITTEN. Copy these now, they are not stored anywhere else:\n${JSON.stringify(content, null, 2)}\n`)
    throw new CtlError('Vault was initialized but the keys could not be written to a file (printed above instead)', {
      step: 'keys-file',
      hint: 'Store the printed keys safely, then run `ctl vault unseal <env>` with them.',
    })
  }
}
