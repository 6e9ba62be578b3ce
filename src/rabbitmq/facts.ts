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
 * The node's own view, computed on the node itself: cluster_status asks every other node too and, while a
 * peer is cut off (not yet declared down, up to net_ticktime), hangs 25 s even with --timeout 10.
 * Same JSON shape as `cluster_status --formatter json`; alarms as "memory on rabbit@x".
 */
const RABBIT_VIEW_JSON = [
  'rabbit_json:encode(#{',
  'running_nodes => rabbit_mnesia:cluster_nodes(running), disk_nodes => rabbit_mnesia:cluster_nodes(disc),',
  'partitions => maps:from_list([{node(), P} || P <- [rabbit_node_monitor:partitions()], P =/= []]),',
  'alarms => [case A of {resource_limit, R, N} -> iolist_to_binary(io_lib:format("~s on ~s", [R, N])); _ -> iolist_to_binary(io_lib:format("~p", [A])) end',
  '|| {A, _} <- rabbit_alarm:get_alarms()]})',
].join(' ')

/** The node's own view printed by `rabbitmqctl eval` (the lab's own reads use it). */
export const RABBIT_VIEW_EVAL = `io:format("~s~n", [${RABBIT_VIEW_JSON}]).`

/**
 * How long the one node waits for the others' views (a LAN answer takes milliseconds); a peer that
 * does not answer in time is then read on its own node, so a host cut off costs this once.
 */
const PEER_VIEW_TIMEOUT_MS = 1500

/** An Erlang atom literal: node names come from the inventory. */
const erlangAtom = (name: string) => `'${name.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`

/**
 * Shell that prints the text (an iolist) an Erlang expression evaluates to on a RabbitMQ node.
 * First by erl_call (in erlang-base, so wherever RabbitMQ is): it speaks Erlang distribution itself
 * and takes about 10 ms, where `rabbitmqctl eval` boots an Erlang VM (about 0.75 s of CPU). erl_call
 * prints strings escaped, so the text comes back base64. It reads the cookie in $HOME, or Debian's
 * in /var/lib/rabbitmq when root has none (never in argv). When erl_call is missing or fails
 * (another cookie, the node down), `rabbitmqctl eval` runs and its answer, errors included, is the one
 * printed.
 */
function rabbitEvalScript(cluster: Pick<RabbitmqCluster, 'longNames' | 'rabbitmqctl'>, nodeName: string, expression: string): string {
  const erlCall = `erl_call ${cluster.longNames ? '-name' : '-sname'} ${quote(nodeName)} -e -timeout 10`
  const asBase64 = `binary_to_list(base64:encode(iolist_to_binary(${expression}))).`
  const cookieHome = `{ h=$HOME; [ -r "$h/.erlang.cookie" ] || [ ! -r /var/lib/rabbitmq/.erlang.cookie ] || h=/var/lib/rabbitmq; }`
  return [
    `if command -v erl_call > /dev/null 2>&1 && ${cookieHome} && b64=$(printf '%s\\n' ${quote(asBase64)} | HOME=$h ${erlCall} 2> /dev/null) && case "$b64" in '{ok, "'*) true ;; *) false ;; esac; then`,
    `  printf '%s\\n' "$b64" | sed -n 's/^{ok, "\\([A-Za-z0-9+/=]*\\)"}$/\\1/p' | base64 -d`,
    `else ${shellCommand(rabbitmqctlArgs(cluster, nodeName, ['-q', 'eval', `io:format("~s", [${expression}]).`]))} 2>&1; fi`,
  ].join('\n')
}

/** The node's own view as one JSON line. */
const OWN_VIEW = `[${RABBIT_VIEW_JSON}, "\\n"]`

/**
 * Every member's own view, asked by ONE node over Erlang distribution (one call, not one per member).
 * Each member still computes its own view (the same as OWN_VIEW on that node); one that does not
 * answer within PEER_VIEW_TIMEOUT_MS (down, cut off, another OTP) prints nothing and is read on its
 * own node. Prints `== view <node>` and its JSON per member that answered.
 */
export function rabbitViewsCommand(cluster: Pick<RabbitmqCluster, 'longNames' | 'rabbitmqctl' | 'members'>, on: Member): RemoteCommand {
  const nodes = cluster.members.map((m) => erlangAtom(m.nodeName)).join(', ')
  const expression = [
    `begin F = fun() -> {ctl_view, node(), ${RABBIT_VIEW_JSON}} end,`,
    `{Rs, _} = rpc:multicall([${nodes}], erlang, apply, [F, []], ${PEER_VIEW_TIMEOUT_MS}),`,
    '[["== view ", atom_to_list(N), "\\n", J, "\\n"] || {ctl_view, N, J} <- Rs] end',
  ].join(' ')
  return {script: rabbitEvalScript(cluster, on.nodeName, expression)}
}

/** The views in rabbitViewsCommand's output, by node name (only the members that answered). */
export function parseRabbitViews(stdout: string): Map<string, string> {
  const views = new Map<string, string>()
  let current: string | undefined
  for (const line of stdout.split('\n')) {
    const tag = /^== view (\S+)$/.exec(line)
    if (tag) current = tag[1]!
    else if (current && line.trim().startsWith('{')) {
      views.set(current, line.trim())
      current = undefined
    }
  }
  return views
}

/** The node's own files: the nodes running at its last clean stop, and whether its Mnesia directory is there. */
function rabbitFilesLines(member: Member): string[] {
  return member.mnesiaDir
    ? [
        `echo '== shutdown'; cat ${quote(`${member.mnesiaDir}/nodes_running_at_shutdown`)} 2>/dev/null`,
        `echo '== mnesia'; [ -d ${quote(member.mnesiaDir)} ] && echo present || echo missing`,
      ]
    : []
}

/** The node's files alone, for a member whose view came from rabbitViewsCommand. */
export function rabbitFilesCommand(member: Member): RemoteCommand {
  return {script: [...rabbitFilesLines(member), 'true'].join('\n')}
}

/** The node's own view read on its own node, and its files. */
export function rabbitFactsCommand(cluster: Pick<RabbitmqCluster, 'longNames' | 'rabbitmqctl'>, member: Member): RemoteCommand {
  return {
    script: [`echo '== status'`, rabbitEvalScript(cluster, member.nodeName, OWN_VIEW), ...rabbitFilesLines(member), 'true'].join('\n'),
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

/** What a node sees, as OWN_VIEW prints it. */
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
