import type {RabbitmqCluster} from '../inventory/schema/databases.js'
import {quote, shellCommand, type RemoteCommand} from '../lib/shell.js'

/**
 * What ctl reads of a RabbitMQ node, on its own node: the node's own view (running nodes,
 * partitions, alarms) by `rabbitmqctl eval` of its local state, as JSON in cluster_status's shape and, from its Mnesia directory, `nodes_running_at_shutdown`
 * (written at a clean stop: the nodes still running then; the node that stopped last lists only
 * itself). Pure.
 */

type Member = RabbitmqCluster['members'][number]

export interface RabbitNodeFacts {
  node: string
  nodeName: string
  /** cluster_status answered. */
  running: boolean
  runningNodes: string[]
  diskNodes: string[]
  /** node → the nodes it cannot see. */
  partitions: Record<string, string[]>
  /** e.g. "memory on rabbit@x". */
  alarms: string[]
  /** The nodes running when it last stopped cleanly (absent: never stopped cleanly, or no file). */
  runningAtShutdown?: string[]
  /** Why it does not answer. */
  error?: string
  /** Why it cannot start at all: its node unreachable, its Mnesia directory gone. */
  lost?: string
}

export function rabbitmqctlArgs(cluster: Pick<RabbitmqCluster, 'longNames' | 'rabbitmqctl'>, nodeName: string, args: readonly string[]): string[] {
  return [cluster.rabbitmqctl, ...(cluster.longNames ? ['--longnames'] : []), '-n', nodeName, ...args]
}

/**
 * The node's own view, read locally by `eval`: cluster_status asks every other node too and, while a
 * peer is cut off (not yet declared down, up to net_ticktime), hangs 25 s even with --timeout 10.
 * Same JSON shape as `cluster_status --formatter json`; alarms as "memory on rabbit@x".
 */
export const RABBIT_VIEW_EVAL = [
  'io:format("~s~n", [rabbit_json:encode(#{',
  'running_nodes => rabbit_mnesia:cluster_nodes(running), disk_nodes => rabbit_mnesia:cluster_nodes(disc),',
  'partitions => maps:from_list([{node(), P} || P <- [rabbit_node_monitor:partitions()], P =/= []]),',
  'alarms => [case A of {resource_limit, R, N} -> iolist_to_binary(io_lib:format("~s on ~s", [R, N])); _ -> iolist_to_binary(io_lib:format("~p", [A])) end',
  '|| {A, _} <- rabbit_alarm:get_alarms()]})]).',
].join(' ')

export function rabbitFactsCommand(cluster: Pick<RabbitmqCluster, 'longNames' | 'rabbitmqctl'>, member: Member): RemoteCommand {
  return {
    script: [
      `echo '== status'; ${shellCommand(rabbitmqctlArgs(cluster, member.nodeName, ['-q', 'eval', RABBIT_VIEW_EVAL]))} 2>&1`,
      ...(member.mnesiaDir
        ? [
            `echo '== shutdown'; cat ${quote(`${member.mnesiaDir}/nodes_running_at_shutdown`)} 2>/dev/null`,
            `echo '== mnesia'; [ -d ${quote(member.mnesiaDir)} ] && echo present || echo missing`,
          ]
        : []),
      'true',
    ].join('\n'),
  }
}

function sections(stdout: string): Record<string, string> {
  const out: Record<string, string> = {}
  let current = ''
  for (const line of stdout.split('\n')) {
    const tag = /^== (\w+)$/.exec(line)
    if (tag) current = tag[1]!
    else if (current) out[current] = `${out[current] ?? ''}${line}\n`
  }
  return out
}

/** `['rabbit@a','rabbit@b'].` (an Erlang list of atoms) → names. */
export function parseErlangAtomList(text: string): string[] | undefined {
  const m = /^\s*\[(.*)\]\.\s*$/s.exec(text)
  if (!m) return undefined
  return [...m[1]!.matchAll(/'([^']+)'|([A-Za-z0-9_@.-]+)/g)].map((x) => x[1] ?? x[2]!)
}

/** What a node sees, as RABBIT_VIEW_EVAL prints it. */
export type RabbitView = Pick<RabbitNodeFacts, 'runningNodes' | 'diskNodes' | 'partitions' | 'alarms'>

/** The view's JSON line (eval prints its result, `ok`, after it); undefined when there is none. */
export function parseRabbitView(text: string): RabbitView | undefined {
  try {
    const status = JSON.parse(text.slice(text.indexOf('{'), text.lastIndexOf('}') + 1)) as {
      running_nodes?: string[]
      disk_nodes?: string[]
      partitions?: Record<string, string[]>
      alarms?: (string | {node?: string; resource?: string; type?: string})[]
    }
    return {
      runningNodes: status.running_nodes ?? [],
      diskNodes: status.disk_nodes ?? [],
      partitions: status.partitions ?? {},
      alarms: (status.alarms ?? []).map((a) => (typeof a === 'string' ? a : `${a.resource ?? a.type ?? 'alarm'} on ${a.node ?? '?'}`)),
    }
  } catch {
    return undefined
  }
}

export function parseRabbitFacts(member: Pick<Member, 'node' | 'nodeName'>, stdout: string): RabbitNodeFacts {
  const s = sections(stdout)
  const facts: RabbitNodeFacts = {node: member.node, nodeName: member.nodeName, running: false, runningNodes: [], diskNodes: [], partitions: {}, alarms: []}
  const shutdown = s.shutdown ? parseErlangAtomList(s.shutdown) : undefined
  if (shutdown) facts.runningAtShutdown = shutdown
  if (s.mnesia?.trim() === 'missing') facts.lost = 'its Mnesia directory is gone'
  const text = (s.status ?? '').trim()
  const view = parseRabbitView(text)
  if (view) Object.assign(facts, view, {running: true})
  else facts.error = text.split('\n').filter(Boolean).slice(0, 2).join(' ').slice(0, 200) || 'no answer'
  return facts
}
