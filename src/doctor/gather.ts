import {accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, statSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {loadInventory, parseInventory} from '../inventory/load.js'
import {auditLogPath} from '../lib/audit.js'
import {toCtlError} from '../lib/errors.js'
import {runLocal} from '../lib/local.js'
import {hostToken, readKnownHosts, recordedFor} from '../ssh/known-hosts.js'
import {resolveSsh} from '../ssh/pool.js'
import type {OperatorFacts} from './judge.js'

/** What `ctl doctor` looks at on this machine: files, the agent, the clock. Reads only; changes nothing. */

/** A PEM armour line (`-----BEGIN <label>-----`), built here rather than written out, so no key-like text sits in the source. */
const armour = (edge: 'BEGIN' | 'END', label: string) => `${'-'.repeat(5)}${edge} ${label}${'-'.repeat(5)}`
const PRIVATE = 'PRIVATE KEY'

/** The private key's kind and whether a passphrase protects it, from its text (never logged). */
export function describeKey(text: string): {kind: 'openssh' | 'pem' | 'unknown'; encrypted?: boolean} {
  const begin = text.indexOf(armour('BEGIN', `OPENSSH ${PRIVATE}`))
  const end = text.indexOf(armour('END', `OPENSSH ${PRIVATE}`))
  if (begin >= 0 && end > begin) {
    // openssh-key-v1\0, then the cipher name as a length-prefixed string: "none" when not encrypted.
    const body = Buffer.from(text.slice(begin + armour('BEGIN', `OPENSSH ${PRIVATE}`).length, end).replace(/\s+/g, ''), 'base64')
    const magic = 'openssh-key-v1\0'.length
    const length = body.length >= magic + 4 ? body.readUInt32BE(magic) : 0
    const cipher = body.subarray(magic + 4, magic + 4 + length).toString('latin1')
    return {kind: 'openssh', encrypted: cipher !== 'none'}
  }
  if (text.includes(armour('BEGIN', `ENCRYPTED ${PRIVATE}`))) return {kind: 'pem', encrypted: true}
  if (['', 'RSA ', 'EC ', 'DSA '].some((kind) => text.includes(armour('BEGIN', `${kind}${PRIVATE}`))))
    return {kind: 'pem', encrypted: /Proc-Type: 4,ENCRYPTED/.test(text)}
  return {kind: 'unknown'}
}

function inventories(): OperatorFacts['inventories'] {
  const dir = process.env.CTL_INVENTORY_DIR ?? join(process.cwd(), 'inventories')
  if (!existsSync(dir)) return {dir, exists: false, files: []}
  const files = readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((file) => {
      try {
        const {problems} = parseInventory(readFileSync(join(dir, file), 'utf8'), join(dir, file))
        const first = problems[0]
        return first ? {file, problem: `${problems.length} problem(s), first ${first.field}: ${first.message} (line ${first.line})`} : {file}
      } catch (error) {
        return {file, problem: toCtlError(error).message}
      }
    })
  return {dir, exists: true, files}
}

function env(name: string): OperatorFacts['env'] {
  let loaded
  try {
    loaded = loadInventory(name)
  } catch (error) {
    return {name, problem: toCtlError(error).message.split('\n')[0]!}
  }
  const [first] = loaded.inventory.nodes
  if (!first) return {name}
  const ssh = resolveSsh(loaded, first)
  const key: NonNullable<OperatorFacts['env']>['key'] = {
    exists: ssh.keyPath !== undefined && existsSync(ssh.keyPath),
    ...(ssh.keyPath ? {path: ssh.keyPath} : {}),
  }
  if (key.exists) {
    key.mode = statSync(key.path!).mode
    Object.assign(key, describeKey(readFileSync(key.path!, 'utf8')))
  }
  const entries = readKnownHosts(ssh.knownHostsPath)
  const missing = loaded.inventory.nodes.filter((node) => {
    const own = resolveSsh(loaded, node)
    return recordedFor(entries, hostToken(own.host, own.port)).length === 0
  })
  return {
    name: loaded.env,
    key,
    knownHosts: {path: ssh.knownHostsPath, exists: existsSync(ssh.knownHostsPath), nodes: loaded.inventory.nodes.length, missing: missing.map((n) => n.name)},
  }
}

async function agent(): Promise<OperatorFacts['agent']> {
  const socket = process.env.SSH_AUTH_SOCK
  if (!socket) return {reachable: false}
  // ssh-add -l: 0 keys listed, 1 none loaded, 2 no agent there.
  const r = await runLocal(['ssh-add', '-l'], {check: false, timeoutMs: 5000}).catch(() => undefined)
  if (!r || r.code === 2 || r.code === 127) return {socket, reachable: false}
  return {socket, reachable: true, keys: r.code === 0 ? r.stdout.split('\n').filter(Boolean).length : 0}
}

async function clock(): Promise<OperatorFacts['clock']> {
  const r = await runLocal(['timedatectl', 'show', '-p', 'NTPSynchronized', '--value'], {check: false, timeoutMs: 5000}).catch(() => undefined)
  if (!r || r.code !== 0) return {how: 'timedatectl is not available'}
  return {synchronized: r.stdout.trim() === 'yes', how: 'timedatectl NTPSynchronized'}
}

function stateDir(): OperatorFacts['stateDir'] {
  const path = dirname(auditLogPath())
  try {
    mkdirSync(path, {recursive: true})
    accessSync(path, constants.W_OK)
    return {path, writable: true}
  } catch (error) {
    return {path, writable: false, error: (error as Error).message}
  }
}

export async function gatherOperatorFacts(envName?: string): Promise<OperatorFacts> {
  const [agentFacts, clockFacts] = await Promise.all([agent(), clock()])
  return {
    nodeVersion: process.version,
    inventories: inventories(),
    ...(envName ? {env: env(envName)} : {}),
    agent: agentFacts,
    clock: clockFacts,
    stateDir: stateDir(),
  }
}
