import type {CheckResult} from '../checks/types.js'

/**
 * `ctl doctor`: the operator's own machine, judged from facts gathered by src/doctor/gather.ts. Pure:
 * the rows say what is wrong and what to do, before a command fails half-way for a local reason.
 */

export interface OperatorFacts {
  nodeVersion: string
  /** The inventory directory and what each file in it says. */
  inventories: {dir: string; exists: boolean; files: {file: string; problem?: string}[]}
  /** With an env: its inventory (loaded or why not), SSH key, known_hosts for its nodes. */
  env?: {
    name: string
    problem?: string
    key?: {path?: string; exists: boolean; mode?: number; kind?: 'openssh' | 'pem' | 'unknown'; encrypted?: boolean}
    knownHosts?: {path: string; exists: boolean; nodes: number; missing: string[]}
  }
  agent: {socket?: string; reachable: boolean; keys?: number}
  clock: {synchronized?: boolean; how: string}
  stateDir: {path: string; writable: boolean; error?: string}
}

const MIN_NODE_MAJOR = 22

type Row = Omit<CheckResult, 'title' | 'durationMs'>

export function judgeOperatorMachine(f: OperatorFacts): Row[] {
  const rows: Row[] = []
  const major = Number(/^v?(\d+)/.exec(f.nodeVersion)?.[1] ?? 0)
  rows.push(
    major >= MIN_NODE_MAJOR
      ? {check: 'node', target: '-', status: 'pass', detail: `Node ${f.nodeVersion}`}
      : {
          check: 'node',
          target: '-',
          status: 'fail',
          detail: `Node ${f.nodeVersion}: ctl needs ${MIN_NODE_MAJOR} or newer`,
          hint: "Install Node 22 LTS (or run ctl through npm, which uses the project's own Node).",
        },
  )

  const invalid = f.inventories.files.filter((x) => x.problem)
  if (!f.inventories.exists)
    rows.push({
      check: 'inventories',
      target: f.inventories.dir,
      status: 'warn',
      detail: 'no inventory directory',
      hint: 'Run ctl from the project directory, or set CTL_INVENTORY_DIR.',
    })
  else if (invalid.length > 0)
    rows.push({
      check: 'inventories',
      target: f.inventories.dir,
      status: 'fail',
      detail: `${invalid.length} of ${f.inventories.files.length} invalid: ${invalid.map((x) => `${x.file} (${x.problem})`).join('; ')}`,
      hint: 'ctl inventory validate <env> names each problem with its line.',
    })
  else
    rows.push({
      check: 'inventories',
      target: f.inventories.dir,
      status: 'pass',
      detail: `${f.inventories.files.length} valid (${f.inventories.files.map((x) => x.file).join(', ') || 'none'})`,
    })

  if (f.env) rows.push(...judgeEnv(f.env, f.agent))
  rows.push(
    f.agent.reachable
      ? {check: 'ssh-agent', target: '-', status: 'pass', detail: `${f.agent.socket}: ${f.agent.keys ?? 0} key(s) loaded`}
      : {
          check: 'ssh-agent',
          target: '-',
          status: f.agent.socket ? 'warn' : 'pass',
          detail: f.agent.socket ? `SSH_AUTH_SOCK=${f.agent.socket} does not answer` : "no agent (ctl uses the inventory's key file)",
          ...(f.agent.socket ? {hint: 'Start the agent again (eval "$(ssh-agent)"; ssh-add), or unset SSH_AUTH_SOCK.'} : {}),
        },
  )
  rows.push(
    f.clock.synchronized === undefined
      ? {check: 'clock', target: '-', status: 'skip', detail: `cannot tell whether the clock is synchronized (${f.clock.how})`}
      : f.clock.synchronized
        ? {check: 'clock', target: '-', status: 'pass', detail: `synchronized (${f.clock.how})`}
        : {
            check: 'clock',
            target: '-',
            status: 'warn',
            detail: `not synchronized (${f.clock.how})`,
            hint: 'Lock ages, backup ages and certificate expiry are judged against this clock: enable NTP (timedatectl set-ntp true).',
          },
  )
  rows.push(
    f.stateDir.writable
      ? {check: 'state', target: f.stateDir.path, status: 'pass', detail: 'writable (audit log, runbook journals)'}
      : {
          check: 'state',
          target: f.stateDir.path,
          status: 'fail',
          detail: `not writable: ${f.stateDir.error ?? 'permission denied'}`,
          hint: 'Runbooks keep their journal there (--resume needs it): fix its owner, or set CTL_STATE_DIR / XDG_STATE_HOME.',
        },
  )
  return rows
}

function judgeEnv(env: NonNullable<OperatorFacts['env']>, agent: OperatorFacts['agent']): Row[] {
  if (env.problem) return [{check: 'inventory', target: env.name, status: 'fail', detail: env.problem, hint: `ctl inventory validate ${env.name}`}]
  const rows: Row[] = [{check: 'inventory', target: env.name, status: 'pass', detail: 'valid'}]
  const key = env.key
  if (key) {
    if (!key.exists)
      rows.push({
        check: 'ssh-key',
        target: env.name,
        status: agent.reachable ? 'warn' : 'fail',
        detail: key.path ? `${key.path} does not exist` : 'no key file (ssh.key unset, no ~/.ssh/id_ed25519, id_ecdsa or id_rsa)',
        hint: agent.reachable
          ? 'The agent may hold the key; set ssh.key to make it explicit.'
          : 'Set ssh.key in the inventory, or create a key (ssh-keygen -t ed25519).',
      })
    else if (key.mode !== undefined && (key.mode & 0o077) !== 0)
      rows.push({
        check: 'ssh-key',
        target: env.name,
        status: 'fail',
        detail: `${key.path} is readable by others (mode ${(key.mode & 0o777).toString(8)})`,
        hint: `chmod 600 ${key.path}`,
      })
    else if (key.kind === 'unknown')
      rows.push({
        check: 'ssh-key',
        target: env.name,
        status: 'fail',
        detail: `${key.path} is not a private key`,
        hint: 'Point ssh.key at the private key (not the .pub).',
      })
    else
      rows.push({
        check: 'ssh-key',
        target: env.name,
        status: key.encrypted && !agent.reachable ? 'warn' : 'pass',
        detail: `${key.path}${key.encrypted ? ', passphrase-protected' : ''}`,
        ...(key.encrypted && !agent.reachable ? {hint: 'ctl cannot ask for a passphrase: load the key into ssh-agent (ssh-add).'} : {}),
      })
  }
  const known = env.knownHosts
  if (known) {
    if (!known.exists)
      rows.push({
        check: 'known-hosts',
        target: env.name,
        status: 'fail',
        detail: `${known.path} does not exist`,
        hint: `ctl ssh trust ${env.name} records the hosts' keys after you check their fingerprints.`,
      })
    else if (known.missing.length > 0)
      rows.push({
        check: 'known-hosts',
        target: env.name,
        status: 'fail',
        detail: `${known.missing.length} of ${known.nodes} nodes have no key in ${known.path}: ${known.missing.join(', ')}`,
        hint: `ctl ssh trust ${env.name} (ctl never connects to a host whose key it does not know).`,
      })
    else rows.push({check: 'known-hosts', target: env.name, status: 'pass', detail: `every node's key is in ${known.path} (${known.nodes})`})
  }
  return rows
}
