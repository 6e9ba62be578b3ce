import {chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {runLocal} from 'ctl/lib/local.js'
import {CtlError} from 'ctl/lib/errors.js'
import {knownHostsFile, labKeyFile} from '../instance.js'
import type {LabInstance} from '../types.js'

/**
 * pgBackRest in repository-host mode runs as the postgres user and reaches the other hosts over SSH
 * (archive-push from each member to the repository host, backup from it to the members). On a real
 * server the operator sets this up once (pgBackRest's user guide); the lab does it here: the lab key
 * and known_hosts in ~postgres/.ssh (one home, shared by the lab's hosts), and the account unlocked
 * for key logins (the lab's sshd runs without PAM, and a locked account is then refused).
 */

const POSTGRES_HOME = '/var/lib/postgresql'

function postgresIds(): {uid: number; gid: number} {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'))
  if (!line) throw new CtlError('No postgres user: is postgresql-15 installed?', {code: 'lab.patroni', hint: 'apt-get install postgresql-15'})
  const [, , uid, gid] = line.split(':')
  return {uid: Number(uid), gid: Number(gid)}
}

function writeOwned(path: string, content: string, mode: number, ids: {uid: number; gid: number}): void {
  if (!existsSync(path) || readFileSync(path, 'utf8') !== content) writeFileSync(path, content, {mode})
  chownSync(path, ids.uid, ids.gid)
}

export async function ensurePostgresSsh(projectRoot: string, instance: LabInstance): Promise<void> {
  const ids = postgresIds()
  const dir = `${POSTGRES_HOME}/.ssh`
  mkdirSync(dir, {recursive: true, mode: 0o700})
  chownSync(dir, ids.uid, ids.gid)
  const key = labKeyFile(projectRoot)
  writeOwned(`${dir}/id_ed25519`, readFileSync(key, 'utf8'), 0o600, ids)
  writeOwned(`${dir}/authorized_keys`, readFileSync(`${key}.pub`, 'utf8'), 0o600, ids)
  writeOwned(`${dir}/known_hosts`, readFileSync(knownHostsFile(projectRoot, instance), 'utf8'), 0o644, ids)
  const shadow = await runLocal(['getent', 'shadow', 'postgres'], {check: false, timeoutMs: 5000})
  // "!" (locked) → "*" (no password, key logins allowed): what a server with PAM allows anyway.
  if (shadow.stdout.split(':')[1]?.startsWith('!')) await runLocal(['usermod', '-p', '*', 'postgres'], {timeoutMs: 10_000})
}

/** `lab down`: removes from ~postgres/.ssh what ensurePostgresSsh wrote (a file that differs is someone else's and stays). */
export function removePostgresSsh(projectRoot: string, instance: LabInstance): void {
  const dir = `${POSTGRES_HOME}/.ssh`
  const key = labKeyFile(projectRoot)
  const written: [string, string][] = [
    ['id_ed25519', key],
    ['authorized_keys', `${key}.pub`],
    ['known_hosts', knownHostsFile(projectRoot, instance)],
  ]
  for (const [name, source] of written) {
    const path = `${dir}/${name}`
    if (existsSync(path) && existsSync(source) && readFileSync(path, 'utf8') === readFileSync(source, 'utf8')) rmSync(path, {force: true})
  }
}
