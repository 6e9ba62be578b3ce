import {DEFINITION_COUNTS_EVAL, missingAfterImport, parseDefinitionCounts} from '../backups/rabbitmq-definitions.js'
import {listRestorePointsCommand} from '../backups/restore-points.js'
import {CtlError, ExitCode} from '../lib/errors.js'
import {lastLines} from '../lib/output.js'
import {quote, renderCommand, shellCommand} from '../lib/shell.js'
import {rabbitmqCluster, readRabbitFacts} from '../rabbitmq/access.js'
import {rabbitmqctlArgs} from '../rabbitmq/facts.js'
import {rabbitExportOrder} from '../rabbitmq/judge.js'
import {checkedBackup, storedLocation} from './stored-backup.js'
import type {Runbook, StepContext} from './types.js'

export interface RabbitmqRestoreOptions {
  /** The backup's path (as `ctl backup list` shows it); default the newest complete one. */
  path?: string
}

export interface RabbitmqRestoreState {
  requested?: string
  backupNode?: string
  /** Running members, best first: the import goes to the first that answers. */
  members?: string[]
  path?: string
  sha256?: string
  takenAt?: string
  recorded?: Record<string, number>
  importedInto?: string
  after?: Record<string, number>
}

type Ctx = StepContext<RabbitmqRestoreState>
type Loaded = Ctx['loaded']

const location = (loaded: Loaded) => storedLocation(loaded, 'rabbitmq')

/** On the backup node: the file still as recorded, then rabbitmqctl against each member in turn (`what`: the command after `-n <node>`). */
function againstMembers(loaded: Loaded, members: readonly string[], what: string[], before: string[] = []): string {
  const cluster = rabbitmqCluster(loaded)
  const tries = members.map((node) => {
    const m = cluster.members.find((x) => x.node === node)!
    return `if ${shellCommand(rabbitmqctlArgs(cluster, m.nodeName, what))}; then echo ${quote(`via ${node}`)} >&2; exit 0; fi`
  })
  return [...before, ...tries, 'exit 1'].join('\n')
}

function importScript(state: RabbitmqRestoreState, loaded: Loaded): string {
  return againstMembers(
    loaded,
    state.members!,
    ['import_definitions', state.path!],
    [
      `[ "$(sha256sum < ${quote(state.path!)} | cut -c1-64)" = ${quote(state.sha256!)} ] || { echo ${quote(`${state.path} changed since it was checked`)} >&2; exit 3; }`,
    ],
  )
}

export const rabbitmqRestore: Runbook<RabbitmqRestoreState, RabbitmqRestoreOptions> = {
  name: 'rabbitmq-restore',
  summary: "Import a rabbitmq-backup's definitions back into the running cluster (queues, exchanges, bindings, users, policies).",
  description: [
    'Chooses the backup (--path, else the newest complete one) in databases.rabbitmq.backupDir on the backup node and checks its sha256',
    'against its record, then runs `rabbitmqctl import_definitions` on the backup node against the best running member (DATA RISK: users',
    "in the backup get the backup's password hashes and tags back; definitions not in the backup are kept, nothing is deleted). Verifies",
    'that the cluster holds at least as many queues, exchanges, bindings and policies as the backup did. Messages are not in definitions.',
  ].join('\n'),
  needs: "databases.rabbitmq (backupDir, backupNode); rabbitmqctl and the cluster's Erlang cookie on the backup node; a running cluster",
  setup({loaded, options}) {
    location(loaded)
    return options.path ? {requested: options.path} : {}
  },
  steps: [
    {
      id: 'facts',
      title: 'Choose and check the backup, read the cluster',
      risk: 'read',
      description: "The backups on the backup node (with their records), the chosen one's sha256 against its record; each node's view.",
      plan: (state, loaded) => ({
        summary: `Check ${state.requested ?? 'the newest backup'} in ${location(loaded).dir} on ${location(loaded).nodes[0]}; read the ${rabbitmqCluster(loaded).members.length} nodes`,
        commands: [{node: location(loaded).nodes[0]!, command: renderCommand(listRestorePointsCommand([location(loaded)]))}],
      }),
      async gather(ctx) {
        const facts = await readRabbitFacts(ctx.loaded, (n, command, options) => ctx.run(n, command, options))
        const order = rabbitExportOrder(facts)
        if (order.length === 0)
          throw new CtlError('No RabbitMQ node is running: definitions are imported into a running cluster', {
            exitCode: ExitCode.cannotRun,
            code: 'rabbitmq.none-running',
            hint: `Bring the cluster back first: ctl runbook rabbitmq-recover ${ctx.loaded.env}`,
          })
        const {node, point, recorded} = await checkedBackup(ctx, 'rabbitmq', ctx.state.requested)
        ctx.state.backupNode = node
        ctx.state.members = order.map((f) => f.node)
        ctx.state.path = point.path
        ctx.state.sha256 = point.checksum!
        ctx.state.takenAt = point.takenAt
        ctx.state.recorded = recorded
        const holds = Object.entries(ctx.state.recorded)
          .filter(([, n]) => n > 0)
          .map(([k, n]) => `${n} ${k}`)
        ctx.report([`${point.path} (taken ${point.takenAt}): ${holds.join(', ') || 'nothing'}; into the cluster through ${order[0]!.nodeName}.`])
      },
    },
    {
      id: 'import',
      title: 'Import the definitions into the cluster',
      risk: 'data-risk',
      description: 'rabbitmqctl import_definitions of the backup, on the backup node, against the best running member (the others in turn).',
      plan: (state, loaded) =>
        state.path
          ? {summary: `Import ${state.path} into ${loaded.env}'s cluster`, commands: [{node: state.backupNode!, command: importScript(state, loaded)}]}
          : {summary: 'After the facts', commands: []},
      confirmation: (state) =>
        `Import ${state.path} (taken ${state.takenAt}) into the RabbitMQ cluster? Users in it get its password hashes and tags back; nothing is deleted.`,
      async act(ctx) {
        const r = await ctx.run(ctx.state.backupNode!, {script: importScript(ctx.state, ctx.loaded)}, {timeoutMs: 600_000})
        if (r.code !== 0)
          throw new CtlError(`import_definitions failed on every running member: ${lastLines(r, 2, ' ')}`, {
            host: ctx.state.backupNode,
            code: 'rabbitmq.import-failed',
            hint: 'A queue that exists with other arguments (type, TTL) refuses its definition: delete or rename it, or edit a copy of the file.',
          })
        ctx.state.importedInto = /via (\S+)/.exec(r.stderr)?.[1] ?? ctx.state.members![0]
      },
      async verify(ctx) {
        const r = await ctx.run(
          ctx.state.backupNode!,
          {script: againstMembers(ctx.loaded, ctx.state.members!, ['eval', DEFINITION_COUNTS_EVAL])},
          {timeoutMs: 60_000},
        )
        const after = parseDefinitionCounts(r.stdout)
        ctx.state.after = after
        const missing = missingAfterImport(ctx.state.recorded ?? {}, after)
        if (r.code !== 0 || missing.length > 0)
          throw new CtlError(`After the import the cluster lacks what the backup holds: ${missing.join('; ') || lastLines(r, 2, ' ')}`, {
            host: ctx.state.backupNode,
            code: 'rabbitmq.import-incomplete',
            hint: `ctl runbook rabbitmq-restore ${ctx.loaded.env} --resume once the cause is found (the import is idempotent).`,
          })
        ctx.report([
          `The cluster holds ${Object.entries(after)
            .filter(([, n]) => n > 0)
            .map(([k, n]) => `${n} ${k}`)
            .join(', ')}.`,
        ])
      },
    },
  ],
  summarize: (state) => ({path: state.path, takenAt: state.takenAt, importedInto: state.importedInto, recorded: state.recorded, after: state.after}),
}
