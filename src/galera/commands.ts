import {CtlError, ExitCode} from '../lib/errors.js'
import {shellCommand, type RemoteCommand} from '../lib/shell.js'
import type {GaleraMember} from '../inventory/schema/databases.js'
import type {InventoryNode} from '../inventory/schema/index.js'
import type {Position} from './facts.js'

/**
 * Builders of the commands galera-recover and the MariaDB backup runbooks run on a member. They
 * return argv arrays (or scripts of quoted parts); tests assert the exact command lines.
 */

export type ControlAction = 'start' | 'stop' | 'kill' | 'status'

export const NEW_CLUSTER_FLAG = '--wsrep-new-cluster'

export function startPositionFlag(position: Position): string {
  return `--wsrep_start_position=${position.uuid}:${position.seqno}`
}

function dockerBase(node: InventoryNode): string[] {
  return ['docker', '-H', `unix://${node.docker?.socket ?? '/var/run/docker.sock'}`]
}

/** Whether the member's start command takes extra mariadbd arguments (start position, new cluster). */
export function takesStartArguments(member: GaleraMember): boolean {
  return member.control.kind === 'commands'
}

/**
 * How the inventory says to start, stop, kill or check the member. `extra` are mariadbd arguments
 * appended to a `commands` start; systemd bootstraps with MariaDB's `galera_new_cluster` (its unit
 * recovers the start position itself); a Docker container cannot be bootstrapped from here.
 */
export function controlCommand(member: GaleraMember, node: InventoryNode, action: ControlAction, extra: readonly string[] = []): string[] {
  const control = member.control
  switch (control.kind) {
    case 'commands': {
      if (action === 'start') return [...control.start, ...extra]
      if (action === 'stop') return [...control.stop]
      if (action === 'kill') {
        if (!control.kill)
          throw new CtlError(`databases.galera member ${member.node} has no control.kill command`, {
            exitCode: ExitCode.cannotRun,
            host: member.node,
            hint: 'Add control.kill to the inventory (a member stuck in non-Primary ignores SIGTERM).',
          })
        return [...control.kill]
      }
      if (!control.status)
        throw new CtlError(`databases.galera member ${member.node} has no control.status command`, {exitCode: ExitCode.cannotRun, host: member.node})
      return [...control.status]
    }
    case 'systemd': {
      if (action === 'start') return extra.includes(NEW_CLUSTER_FLAG) ? ['galera_new_cluster'] : ['systemctl', 'start', control.unit]
      if (action === 'stop') return ['systemctl', 'stop', control.unit]
      if (action === 'kill') return ['systemctl', 'kill', '--signal=KILL', control.unit]
      return ['systemctl', 'is-active', '--quiet', control.unit]
    }
    case 'docker': {
      const docker = dockerBase(node)
      if (action === 'start') {
        if (extra.includes(NEW_CLUSTER_FLAG)) {
          throw new CtlError(`Cannot bootstrap ${member.node}: a Docker container's command line is fixed`, {
            exitCode: ExitCode.cannotRun,
            host: member.node,
            hint: 'Describe the member with control.kind: commands (start: a script that runs the container with extra mariadbd arguments).',
          })
        }
        return [...docker, 'start', control.container]
      }
      if (action === 'stop') return [...docker, 'stop', '--time', '60', control.container]
      if (action === 'kill') return [...docker, 'kill', control.container]
      return ['sh', '-c', `test "$(${shellCommand([...docker, 'inspect', '-f', '{{.State.Running}}', control.container])} 2>/dev/null)" = true`]
    }
  }
}

/** argv run where the member's files and client live (inside its container for Docker). */
function onMember(member: GaleraMember, node: InventoryNode, argv: string[], env: string[] = []): string[] {
  if (member.control.kind !== 'docker') return argv
  return [...dockerBase(node), 'exec', '-i', ...env.flatMap((e) => ['-e', e]), member.control.container, ...argv]
}

/**
 * A SQL statement through the `mariadb` client on the member's socket. The password never appears in
 * the command: it arrives on stdin (pass it as `stdin: password + '\n'`) and goes to MYSQL_PWD.
 */
export function sqlCommand(
  member: GaleraMember,
  node: InventoryNode,
  user: string,
  sql: string,
  withPassword: boolean,
  options: {columnNames?: boolean} = {},
): RemoteCommand {
  const names = options.columnNames ? [] : ['--skip-column-names']
  const client = ['mariadb', `--socket=${member.socket}`, `--user=${user}`, '--batch', ...names, '--connect-timeout=5', '-e', sql]
  if (!withPassword) return onMember(member, node, client)
  return {script: `IFS= read -r MYSQL_PWD && export MYSQL_PWD && exec ${shellCommand(onMember(member, node, client, ['MYSQL_PWD']))}`}
}

export const WSREP_STATUS_SQL =
  "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_cluster_status','wsrep_cluster_size','wsrep_local_state_comment','wsrep_cluster_state_uuid','wsrep_last_committed','wsrep_ready')"

function grastatePath(member: GaleraMember): string {
  return `${member.datadir}/grastate.dat`
}

/** Prints grastate.dat, or nothing when there is none (a member that never started). */
export function readGrastateCommand(member: GaleraMember, node: InventoryNode): string[] {
  return onMember(member, node, ['sh', '-c', `cat ${shellCommand([grastatePath(member)])} 2>/dev/null || true`])
}

/** Marks the member as the one to bootstrap from (only ever run on the chosen node). */
export function setSafeToBootstrapCommand(member: GaleraMember, node: InventoryNode): string[] {
  return onMember(member, node, ['sed', '-i', 's/^safe_to_bootstrap:.*$/safe_to_bootstrap: 1/', grastatePath(member)])
}

/**
 * Reads the last committed position from InnoDB of a stopped member: prints
 * `WSREP: Recovered position: uuid:seqno` on stderr and exits; grastate.dat is left as it is.
 */
export function wsrepRecoverCommand(member: GaleraMember): string[] {
  if (member.control.kind === 'docker') {
    throw new CtlError(`Cannot run --wsrep-recover for ${member.node}: its mariadbd lives in a container`, {
      exitCode: ExitCode.cannotRun,
      host: member.node,
      hint: 'Run the container once with `--wsrep-recover`, then write the position into grastate.dat and run again.',
    })
  }
  const defaults = member.defaultsFile ? [`--defaults-file=${member.defaultsFile}`] : []
  return ['mariadbd', ...defaults, '--wsrep-recover', '--disable-log-error']
}

/** A probe row written on one member and read on another after recovery. */
export function probeWriteSql(database: string, token: string): string {
  assertToken(token)
  return [
    `CREATE DATABASE IF NOT EXISTS \`${database}\``,
    `CREATE TABLE IF NOT EXISTS \`${database}\`.probe (id VARCHAR(64) PRIMARY KEY, written_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP) ENGINE=InnoDB`,
    `INSERT INTO \`${database}\`.probe (id) VALUES ('${token}')`,
  ].join('; ')
}

/** Reads the probe back, waiting for the member to have applied every earlier write (causal read). */
export function probeReadSql(database: string, token: string): string {
  assertToken(token)
  return `SET SESSION wsrep_sync_wait = 1; SELECT id FROM \`${database}\`.probe WHERE id = '${token}'`
}

function assertToken(token: string): void {
  // Tokens are made by ctl; this keeps them from ever carrying SQL.
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(token)) throw new Error(`invalid probe token ${token}`)
}
