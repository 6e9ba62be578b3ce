import {Flags} from '@oclif/core'
import {changeFlags, CtlCommand, envArg} from '../../lib/command.js'
import {CtlError, ExitCode} from '../../lib/errors.js'
import {runTasks} from '../../lib/progress.js'
import {requireConfirmation} from '../../lib/prompt.js'
import type {LoadedInventory} from '../../inventory/load.js'
import type {SshPool} from '../../ssh/pool.js'
import {describeStep, planBootstrap, type Blocker, type BootstrapPlan, type BootstrapStep, type NodeFacts} from '../../swarm/bootstrap-plan.js'
import {applyBootstrap, installEngines, waitUntilReady} from '../../swarm/bootstrap-run.js'
import {gatherNodeFacts} from '../../swarm/cluster.js'

export interface NodeFactsSummary {
  node: string
  reachable: boolean
  os?: string
  engineVersion?: string
  swarmState?: string
  swarmRole?: 'manager' | 'worker'
  error?: string
}

export interface BootstrapResult {
  env: string
  nodes: NodeFactsSummary[]
  steps: (BootstrapStep & {description: string})[]
  blockers: Blocker[]
  notes: string[]
  unchanged: string[]
  /** Descriptions of the steps that ran. */
  applied: string[]
  changed: boolean
  dryRun: boolean
}

function summarize(facts: NodeFacts): NodeFactsSummary {
  const swarm = facts.engine?.swarm
  return {
    node: facts.node,
    reachable: facts.reachable,
    os: facts.probe?.os?.prettyName,
    engineVersion: facts.engine?.version,
    swarmState: swarm?.state,
    swarmRole: swarm?.state === 'active' ? (swarm.isManager ? 'manager' : 'worker') : undefined,
    error: facts.error ?? facts.engineError,
  }
}

export default class NodeBootstrap extends CtlCommand {
  static override summary = 'Form the Swarm the inventory describes: check OS and Engine, init, join managers then workers.'
  static override description = `Over SSH, on every swarm node in parallel: checks the OS and the Docker Engine (version at least swarm.minEngineVersion), then runs \`swarm init\` on the first manager with its inventory address as advertise address, and joins the other managers (one by one) and the workers with tokens read from the leader.
Idempotent: nodes already in the swarm with the right role are left alone, and a second run says "no changes".
Stops before changing anything when a node is unreachable, is in another swarm, or when the inventory has an even number of managers.`
  static override examples = [
    '<%= config.bin %> node bootstrap lab --dry-run',
    '<%= config.bin %> node bootstrap prod',
    '<%= config.bin %> node bootstrap prod --install-docker --yes --json',
  ]
  static override args = {env: envArg}
  static override flags = {
    ...changeFlags,
    'install-docker': Flags.boolean({description: 'Install docker.io from the distribution where the Engine is missing (asks first).', default: false}),
  }

  async run(): Promise<BootstrapResult> {
    const {args, flags} = await this.parse(NodeBootstrap)
    const loaded = this.loadEnv(args.env)
    const members = loaded.inventory.nodes.filter((n) => n.role !== 'none')
    this.auditContext = {...this.auditContext, hosts: members.map((n) => n.name)}
    const pool = this.sshPool(loaded)
    const options = {installDocker: flags['install-docker'], minEngineVersion: loaded.inventory.swarm.minEngineVersion}

    let facts = await this.gather(pool, loaded)
    let plan = planBootstrap(loaded.inventory, facts, options)
    this.render(facts, plan)
    const result = (applied: string[], dryRun = false): BootstrapResult => ({
      env: loaded.env,
      nodes: [...facts.values()].map(summarize),
      steps: plan.steps.map((s) => ({...s, description: describeStep(s)})),
      blockers: plan.blockers,
      notes: plan.notes,
      unchanged: plan.unchanged,
      applied,
      changed: applied.length > 0,
      dryRun,
    })
    this.refuseOnBlockers(plan, loaded.env)
    if (plan.steps.length === 0) {
      this.say('No changes: the swarm already matches the inventory.')
      this.auditContext.outcome = 'no-changes'
      return result([])
    }
    if (flags['dry-run']) {
      this.say(`Dry run: ${plan.steps.length} step(s) would run; nothing was changed.`)
      this.auditContext.outcome = 'dry-run'
      return result([], true)
    }
    const installs = plan.steps.filter((s) => s.kind === 'install-engine').map((s) => s.node)
    await requireConfirmation({
      message:
        installs.length > 0
          ? `Install docker.io on ${installs.join(', ')} and apply the ${plan.steps.length} step(s) above?`
          : `Apply the ${plan.steps.length} step(s) above to ${loaded.env}?`,
      yes: flags.yes,
    })
    if (installs.length > 0) {
      await installEngines(pool, loaded, plan)
      // The new engines are facts now: plan again from what is really there.
      facts = await this.gather(pool, loaded)
      plan = planBootstrap(loaded.inventory, facts, {...options, installDocker: false})
      this.refuseOnBlockers(plan, loaded.env)
    }
    const applied = installs.map((n) => `${n}: installed Docker Engine`)
    applied.push(...(await applyBootstrap(pool, loaded, plan)))
    const via = plan.steps.map((s) => (s.kind === 'init' ? s.node : 'via' in s ? s.via : undefined)).find(Boolean)
    if (via) await waitUntilReady(pool, loaded, via)
    this.say(`Done: ${applied.length} change(s); every swarm node is Ready. Node labels: \`ctl node label ${loaded.env}\`.`)
    this.auditContext.detail = {applied}
    return result(applied)
  }

  private async gather(pool: SshPool, loaded: LoadedInventory): Promise<Map<string, NodeFacts>> {
    const members = loaded.inventory.nodes.filter((n) => n.role !== 'none')
    const outcomes = await runTasks(
      members.map((n) => ({key: n.name, title: `${n.name} (${n.address}): OS, Docker Engine, swarm state`, node: n})),
      async (item, report) => {
        const facts = await gatherNodeFacts(pool, item.node)
        report.status(summaryLine(summarize(facts)))
        if (!facts.reachable) throw new CtlError(facts.error ?? 'unreachable', {host: item.key})
        return facts
      },
      {concurrency: loaded.inventory.ssh.concurrency},
    )
    return new Map(
      members.map((n) => {
        const outcome = outcomes.get(n.name)
        return [n.name, outcome?.ok ? outcome.value : {node: n.name, reachable: false, error: outcome?.error.message}]
      }),
    )
  }

  private refuseOnBlockers(plan: BootstrapPlan, env: string): void {
    if (plan.blockers.length === 0) return
    const lines = plan.blockers.map((b) => `- ${b.node ? `${b.node}: ` : ''}${b.reason}${b.hint ? `\n  Hint: ${b.hint}` : ''}`)
    throw new CtlError(`Bootstrap of ${env} refused before any change:\n${lines.join('\n')}`, {
      exitCode: ExitCode.cannotRun,
      code: 'swarm.bootstrap-refused',
      host: plan.blockers.find((b) => b.node)?.node,
      step: 'check nodes',
      hint: 'Fix the points above, then run again; `--dry-run` shows the plan without changing anything.',
    })
  }

  private render(facts: Map<string, NodeFacts>, plan: BootstrapPlan): void {
    if (this.jsonEnabled()) return
    for (const f of facts.values()) this.log(`${f.node.padEnd(16)} ${summaryLine(summarize(f))}`)
    for (const n of plan.notes) this.log(`Note: ${n}`)
    if (plan.steps.length > 0 && plan.blockers.length === 0) {
      this.log('Plan:')
      plan.steps.forEach((s, i) => this.log(`  ${i + 1}. ${describeStep(s)}`))
    }
  }

  private say(text: string): void {
    if (!this.jsonEnabled()) this.log(text)
  }
}

function summaryLine(s: NodeFactsSummary): string {
  if (!s.reachable) return `unreachable: ${s.error ?? ''}`
  const engine = s.engineVersion ? `Engine ${s.engineVersion}` : `no Engine (${s.error ?? 'not answering'})`
  const swarm = s.swarmState ? `swarm ${s.swarmState}${s.swarmRole ? ` (${s.swarmRole})` : ''}` : ''
  return [s.os ?? 'unknown OS', engine, swarm].filter(Boolean).join(', ')
}
