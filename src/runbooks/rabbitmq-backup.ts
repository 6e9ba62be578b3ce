import {rabbitmqBackupScript} from '../backups/rabbitmq-definitions.js'
import {parseStoreOutput, type StoredBackup} from '../backups/stored-file.js'
import {CtlError, ExitCode} from '../lib/errors.js'
import {lastLines} from '../lib/output.js'
import {rabbitmqCluster, readRabbitFacts} from '../rabbitmq/access.js'
import {rabbitmqctlArgs} from '../rabbitmq/facts.js'
import {rabbitExportOrder} from '../rabbitmq/judge.js'
import {storedLocation} from './stored-backup.js'
import type {Runbook, StepContext} from './types.js'

export interface RabbitmqBackupState {
  backupNode?: string
  /** Running members to export from, best first. */
  exportFrom?: string[]
  backup?: StoredBackup
}

type Loaded = StepContext<unknown>['loaded']

const backupDirOf = (loaded: Loaded) => storedLocation(loaded, 'rabbitmq').dir
const backupNodeOf = (loaded: Loaded) => storedLocation(loaded, 'rabbitmq').nodes[0]!

/** The script for the backup node: export from these members in turn. */
function rabbitmqBackupCommand(loaded: Loaded, members: readonly string[]): string {
  const cluster = rabbitmqCluster(loaded)
  const exportFrom = members.map((node) => {
    const m = cluster.members.find((x) => x.node === node)!
    return {member: m.nodeName, argv: rabbitmqctlArgs(cluster, m.nodeName, [])}
  })
  return rabbitmqBackupScript(backupDirOf(loaded), cluster.serverBinDir, exportFrom)
}

export const rabbitmqBackup: Runbook<RabbitmqBackupState> = {
  name: 'rabbitmq-backup',
  summary: "Save the RabbitMQ cluster's definitions (queues, exchanges, bindings, users, vhosts, policies) on the backup node, counted and recorded.",
  description: [
    "Reads every node's view, then on the backup node runs `rabbitmqctl export_definitions` against the best running member (no partition,",
    "sees the most nodes; the others in turn if it fails) into a hidden 0600 file: the users' password hashes never pass through ctl. The",
    'definitions are imported into a scratch broker there (127.0.0.1 only, its own cookie and ports) to count what they hold; the counts, sha256',
    'and size go into `<file>.json`, then both get their final names. Messages are not definitions: rabbitmq-recover keeps those.',
  ].join('\n'),
  needs: "databases.rabbitmq (backupDir, backupNode, serverBinDir); RabbitMQ installed on the backup node with the cluster's Erlang cookie",
  setup({loaded}) {
    backupDirOf(loaded)
    return {}
  },
  steps: [
    {
      id: 'facts',
      title: 'Choose the members to export from',
      risk: 'read',
      description: "Each node's own view (rabbitmqctl eval): running, partitions.",
      plan: (_state, loaded) => ({summary: `Read the ${rabbitmqCluster(loaded).members.length} nodes`, commands: []}),
      async gather(ctx) {
        const facts = await readRabbitFacts(ctx.loaded, (node, command, options) => ctx.run(node, command, options))
        const order = rabbitExportOrder(facts)
        if (order.length === 0)
          throw new CtlError('No RabbitMQ node is running: there are no definitions to export', {
            exitCode: ExitCode.cannotRun,
            code: 'rabbitmq.none-running',
            hint: `ctl runbook rabbitmq-recover ${ctx.loaded.env}`,
          })
        ctx.state.backupNode = backupNodeOf(ctx.loaded)
        ctx.state.exportFrom = order.map((f) => f.node)
        ctx.report([
          `Export from ${order.map((f) => f.nodeName).join(', then ')} into ${backupDirOf(ctx.loaded)} on ${ctx.state.backupNode}.`,
          ...facts.filter((f) => !f.running).map((f) => `${f.node} (${f.nodeName}) is not running: ${f.lost ?? f.error ?? 'down'}.`),
        ])
      },
    },
    {
      id: 'save',
      title: 'Export, count and record the definitions',
      risk: 'change',
      description: 'export_definitions into a hidden name, a scratch import to count them, the record, then the final names.',
      plan: (state, loaded) =>
        state.exportFrom
          ? {
              summary: `Definitions into ${backupDirOf(loaded)} on ${state.backupNode}`,
              commands: [{node: state.backupNode!, command: rabbitmqBackupCommand(loaded, state.exportFrom)}],
            }
          : {summary: 'After the facts', commands: []},
      async act(ctx) {
        const r = await ctx.run(ctx.state.backupNode!, {script: rabbitmqBackupCommand(ctx.loaded, ctx.state.exportFrom!)}, {timeoutMs: 600_000})
        const stored = parseStoreOutput(r.stdout)
        if ('failed' in stored)
          throw new CtlError(
            `The RabbitMQ backup failed on ${ctx.state.backupNode} (${stored.failed.stage}): ${stored.failed.message || lastLines(r, 2, ' ')}`,
            {
              host: ctx.state.backupNode,
              step: stored.failed.stage,
              code: 'rabbitmq.backup-failed',
              hint: `Nothing was kept. Does rabbitmqctl on ${ctx.state.backupNode} reach the cluster (the Erlang cookie)? Is ${rabbitmqCluster(ctx.loaded).serverBinDir}/rabbitmq-server there?`,
            },
          )
        ctx.state.backup = stored
        const counts = Object.entries(stored.record.rowCounts)
          .filter(([, n]) => n > 0)
          .map(([k, n]) => `${n} ${k}`)
        ctx.report([
          `${stored.path}: ${stored.record.sizeBytes} bytes, ${counts.join(', ') || 'nothing'}, sha256 ${stored.record.sha256}, from ${stored.record.source}.`,
        ])
      },
    },
  ],
  summarize: (state) => ({node: state.backupNode, ...(state.backup ? {path: state.backup.path, record: state.backup.record} : {})}),
}
