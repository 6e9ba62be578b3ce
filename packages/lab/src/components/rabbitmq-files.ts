import {renderDaemonScript} from '../daemon-script.js'
import type {LabHost} from '../types.js'

/**
 * Files of the lab's RabbitMQ cluster (seed 002): one node per lab host, Debian's rabbitmq-server run
 * as root by a control script, named `rabbit@<host address>` (long names: the lab hosts have no
 * resolvable host names), each with its own Mnesia directory and the same Erlang cookie (in the
 * host's root home, where rabbitmqctl over SSH finds it). Pure.
 */

export const RABBITMQ_COOKIE_FILE = '.lab/rabbitmq-cookie'
const AMQP_PORT = 5672

export const rabbitNodeName = (host: Pick<LabHost, 'address'>) => `rabbit@${host.address}`

export function rabbitmqPaths(host: LabHost) {
  const base = `${host.stateDir}/rabbitmq`
  return {
    base,
    mnesiaBase: `${base}/mnesia`,
    /** The node's own Mnesia directory (RABBITMQ_MNESIA_BASE/<node name>). */
    mnesiaDir: `${base}/mnesia/${rabbitNodeName(host)}`,
    logBase: `${base}/log`,
    config: `${base}/rabbitmq.conf`,
    plugins: `${base}/enabled_plugins`,
    script: `${base}/rabbitmq-ctl`,
    pid: `${host.runDir}/rabbitmq.pid`,
    /** Root's home on the host (bound on /root in its SSH sessions): the cookie lives there. */
    home: `${host.stateDir}/root`,
  }
}

export function rabbitmqConfig(host: LabHost): string {
  return [
    '# Written by `ctl lab up` (packages/lab/src/components/rabbitmq-files.ts).',
    `listeners.tcp.1 = ${host.address}:${AMQP_PORT}`,
    // Lab clients (the tests) connect as guest from the bridge.
    'loopback_users = none',
    // A partition stays until an operator heals it (rabbitmq-recover restarts the minority side).
    'cluster_partition_handling = ignore',
    '',
  ].join('\n')
}

/** The environment a node and its CLI tools need. */
export function rabbitmqEnv(host: LabHost): Record<string, string> {
  const p = rabbitmqPaths(host)
  return {
    HOME: p.home,
    RABBITMQ_USE_LONGNAME: 'true',
    RABBITMQ_NODENAME: rabbitNodeName(host),
    RABBITMQ_NODE_IP_ADDRESS: host.address,
    RABBITMQ_MNESIA_BASE: p.mnesiaBase,
    RABBITMQ_LOG_BASE: p.logBase,
    RABBITMQ_CONFIG_FILE: p.config.replace(/\.conf$/, ''),
    RABBITMQ_ENABLED_PLUGINS_FILE: p.plugins,
    ERL_EPMD_ADDRESS: host.address,
  }
}

/** `rabbitmq-ctl start|stop|kill|status`: stop is `rabbitmqctl stop` (a clean shutdown that records the running nodes). */
export function rabbitmqControlScript(host: LabHost): string {
  const p = rabbitmqPaths(host)
  return renderDaemonScript({
    what: 'rabbitmq-server',
    pidFile: p.pid,
    logFile: `${p.base}/rabbitmq.out`,
    processWord: 'rabbit',
    dirs: [
      [p.base, 'root'],
      [p.logBase, 'root'],
    ],
    argv: ['/usr/lib/rabbitmq/bin/rabbitmq-server'],
    env: rabbitmqEnv(host),
    stopWaitSeconds: 60,
    // The pid is rabbitmq-server's wrapper script: kill -9 must reach the Erlang VM under it.
    killGroup: true,
  })
}
