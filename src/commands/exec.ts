import {Flags} from '@oclif/core'
import {CtlCommand, envArg} from '../lib/command.js'
import {CtlError, ExitCode} from '../lib/errors.js'
import {runTasks} from '../lib/progress.js'
import {selectNodes} from '../inventory/select.js'
import type {RemoteResult} from '../ssh/pool.js'

export interface ExecHostResult {
  node: string
  ok: boolean
  code?: number
  stdout?: string
  stderr?: string
  durationMs?: number
  error?: string
  hint?: string
}

export default class Exec extends CtlCommand {
  static override summary = 'Run a command on the selected nodes in parallel.'
  static override description =
    'The command after `--` runs on every selected node over SSH (host keys verified). Its words are quoted one by one, so they reach the remote program as written.'
  static override examples = [
    '<%= config.bin %> exec lab -- docker info',
    '<%= config.bin %> exec prod --label type=db -- df -h /var/lib',
    "<%= config.bin %> exec prod --role manager --json -- sh -c 'uptime'",
  ]
  static override strict = false
  static override args = {env: envArg}
  static override flags = {
    node: Flags.string({char: 'n', description: 'Only this node (repeatable)', multiple: true}),
    label: Flags.string({char: 'l', description: 'Only nodes with this label, k=v (repeatable)', multiple: true}),
    role: Flags.string({description: 'Only managers or workers', options: ['manager', 'worker']}),
    timeout: Flags.integer({description: 'Seconds before the command is killed', default: 120}),
  }

  async run(): Promise<{env: string; results: ExecHostResult[]}> {
    const {args, flags, argv} = await this.parse(Exec)
    const words = (argv as string[]).slice(1)
    if (words.length === 0)
      throw new CtlError('No command given', {exitCode: ExitCode.cannotRun, hint: 'Put the command after --, e.g. ctl exec lab -- uptime'})
    const loaded = this.loadEnv(args.env)
    const nodes = selectNodes(loaded.inventory, {node: flags.node, label: flags.label, role: flags.role as 'manager' | 'worker' | undefined})
    this.auditContext = {...this.auditContext, hosts: nodes.map((n) => n.name), detail: {command: words}}
    const pool = this.sshPool(loaded)
    const outcomes = await runTasks(
      nodes.map((n) => ({key: n.name, title: `${n.name} (${n.address})`, node: n})),
      async (item) => {
        const result = await pool.run(item.node, words, {timeoutMs: flags.timeout * 1000})
        // Throwing marks the task failed in the progress tree; the result rides along as the cause.
        if (result.code !== 0) throw new CtlError(`exit code ${result.code}`, {host: item.key, cause: result})
        return result
      },
      {concurrency: loaded.inventory.ssh.concurrency},
    )
    const results: ExecHostResult[] = []
    for (const n of nodes) {
      const outcome = outcomes.get(n.name)
      if (outcome?.ok) {
        const r = outcome.value
        results.push({node: n.name, ok: true, code: r.code, stdout: r.stdout, stderr: r.stderr, durationMs: r.durationMs})
      } else {
        const ran = outcome?.error.cause as RemoteResult | undefined
        results.push({
          node: n.name,
          ok: false,
          error: outcome?.error.message,
          hint: outcome?.error.hint,
          code: ran?.code,
          stdout: ran?.stdout,
          stderr: ran?.stderr,
          durationMs: ran?.durationMs,
        })
      }
    }
    if (!this.jsonEnabled()) {
      for (const r of results) {
        this.log(`── ${r.node}: ${r.ok ? 'ok' : `FAILED: ${r.error}`}`)
        if (r.stdout) this.log(r.stdout)
        if (r.stderr) this.logToStderr(r.stderr)
        if (r.hint) this.log(`   Hint: ${r.hint}`)
      }
      const failed = results.filter((r) => !r.ok).length
      this.log(`${results.length - failed} ok, ${failed} failed`)
    }
    if (results.some((r) => !r.ok)) this.markFailed()
    return {env: loaded.env, results}
  }
}
