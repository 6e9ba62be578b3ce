import {Flags} from '@oclif/core'
import {readFileSync} from 'node:fs'
import {CtlCommand, envArg} from '../../lib/command.js'
import {CtlError, ExitCode} from '../../lib/errors.js'
import {note, withSpinner} from '../../lib/progress.js'
import {askSecret, isInteractive} from '../../lib/prompt.js'
import {registerSecret} from '../../lib/redact.js'
import {readCluster, readStatuses, unsealMembers, waitForCluster, type NodeOutcome} from '../../vault/cluster.js'
import {vaultTargets, vaultToken} from '../../vault/members.js'
import {parseKeyShares, planUnseal, type ClusterVerdict, type UnsealPlan, type VaultNodeStatus} from '../../vault/plan.js'
import {statusTable} from '../../vault/render.js'

export interface VaultUnsealResult {
  env: string
  dryRun: boolean
  plan: UnsealPlan
  outcomes: NodeOutcome[]
  nodes: VaultNodeStatus[]
  verdict?: ClusterVerdict
}

export default class VaultUnseal extends CtlCommand {
  static override summary = 'Unseal every sealed Vault node (and join members that are not in the cluster yet).'
  static override description = `Asks for the key shares with hidden input (as many as the threshold), or reads them from --keys-file (the file \`ctl vault init\` wrote, \`vault operator init -format=json\` output, or one share per line; "-" reads stdin). The same shares unseal every member. Partial unseal attempts left on a node are reset first. Members not initialized yet are joined to the active node through Raft, then unsealed.`
  static override examples = [
    '<%= config.bin %> vault unseal lab',
    '<%= config.bin %> vault unseal prod --node vault-2',
    '<%= config.bin %> vault unseal lab --keys-file ~/.config/ctl/vault-keys.json',
    'pass show vault/shares | <%= config.bin %> vault unseal prod --keys-file -',
  ]
  static override args = {env: envArg}
  static override flags = {
    node: Flags.string({char: 'n', description: 'Only this Vault member (repeatable)', multiple: true}),
    'keys-file': Flags.string({description: 'Read the shares from this file ("-" for stdin) instead of asking'}),
    'dry-run': Flags.boolean({description: 'Show which nodes would be unsealed or joined, and change nothing.', default: false}),
    wait: Flags.integer({description: 'Seconds to wait for an active node', default: 30}),
  }

  async run(): Promise<VaultUnsealResult> {
    const {args, flags} = await this.parse(VaultUnseal)
    const loaded = this.loadEnv(args.env)
    const {all, selected: members, clients, ca} = vaultTargets(loaded, flags.node)
    this.auditContext = {...this.auditContext, hosts: members.map((m) => m.node)}
    const before = await readStatuses(clients)
    const plan = planUnseal(
      before,
      members.map((m) => m.node),
    )
    this.auditContext.detail = {plan}
    if (!this.jsonEnabled()) {
      this.log(
        `Plan: unseal ${plan.unseal.join(', ') || '-'}; join and unseal ${plan.join.join(', ') || '-'}; already unsealed ${plan.skip.join(', ') || '-'} (threshold ${plan.threshold}).`,
      )
    }
    if (flags['dry-run'] || (plan.unseal.length === 0 && plan.join.length === 0)) {
      if (flags['dry-run']) this.auditContext.outcome = 'dry-run'
      else if (!this.jsonEnabled()) this.log('Nothing to unseal.')
      return {env: loaded.env, dryRun: flags['dry-run'], plan, outcomes: [], nodes: before}
    }
    const shares = await this.collectShares(flags['keys-file'], plan.threshold)
    for (const node of plan.unseal) {
      const status = before.find((s) => s.node === node)
      if (status?.progress) {
        note(`${node}: discarding a partial unseal attempt (${status.progress}/${plan.threshold} shares)`)
        await clients.find((c) => c.member.node === node)!.resetUnseal()
      }
    }
    const outcomes = await unsealMembers(clients, plan, shares, {ca, activeTimeoutMs: flags.wait * 1000})
    // With --node the others may stay sealed on purpose, and when every node refused the shares
    // nothing will change: report once instead of waiting for the whole cluster.
    const token = vaultToken(loaded)
    const nothingUnsealed = outcomes.every((o) => o.action === 'failed')
    const state =
      flags.node?.length || nothingUnsealed
        ? await readCluster(clients, all, token)
        : await withSpinner('Waiting for the cluster to be whole', (update) => waitForCluster(clients, all, token, flags.wait * 1000, update))
    if (!this.jsonEnabled()) {
      for (const line of statusTable(state.statuses, state.servers)) this.log(line)
      for (const o of outcomes.filter((x) => x.action === 'failed')) this.log(`${o.node}: FAILED: ${o.error}${o.hint ? `\n  Hint: ${o.hint}` : ''}`)
      this.log(state.verdict.ok ? `Cluster OK: ${state.verdict.active} active.` : `Cluster NOT whole: ${state.verdict.problems.join('; ')}`)
    }
    this.auditContext.detail = {plan, outcomes, active: state.verdict.active, problems: state.verdict.problems}
    if (outcomes.some((o) => o.action === 'failed') || (!flags.node?.length && !state.verdict.ok)) this.markFailed()
    return {env: loaded.env, dryRun: false, plan, outcomes, nodes: state.statuses, verdict: state.verdict}
  }

  /** Shares from the file or stdin, else from hidden prompts; each is registered for redaction. */
  private async collectShares(keysFile: string | undefined, threshold: number): Promise<string[]> {
    let shares: string[]
    if (keysFile) {
      let text: string
      try {
        text = readFileSync(keysFile === '-' ? 0 : keysFile, 'utf8')
      } catch (cause) {
        throw new CtlError(`Cannot read the keys from ${keysFile === '-' ? 'stdin' : keysFile}`, {
          exitCode: ExitCode.cannotRun,
          cause,
          hint: 'Give the file `ctl vault init` wrote, or one share per line.',
        })
      }
      if (/"pgp_encrypted"\s*:\s*true/.test(text)) {
        throw new CtlError(`The shares in ${keysFile} are PGP-encrypted`, {
          exitCode: ExitCode.cannotRun,
          hint: 'Each holder decrypts their share (base64 -d | gpg -dq) and types it at the prompt, or puts the decrypted shares one per line in a file.',
        })
      }
      shares = parseKeyShares(text)
    } else {
      if (!isInteractive()) {
        throw new CtlError('Key shares are needed and there is no terminal to ask', {
          exitCode: ExitCode.cannotRun,
          code: 'prompt.no-terminal',
          hint: 'Pass --keys-file FILE, or --keys-file - and the shares on stdin.',
        })
      }
      shares = []
      for (let i = 1; i <= threshold; i++) shares.push((await askSecret(`Unseal key share ${i}/${threshold} (hidden)`)).trim())
    }
    shares = [...new Set(shares.filter(Boolean))]
    for (const share of shares) registerSecret(share)
    if (shares.length < threshold) {
      throw new CtlError(`${shares.length} distinct share(s) given; ${threshold} are needed`, {
        exitCode: ExitCode.cannotRun,
        hint: 'Gather shares from enough key holders.',
      })
    }
    return shares
  }
}
