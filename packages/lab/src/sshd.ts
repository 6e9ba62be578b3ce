import {cpSync, existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {connect} from 'node:net'
import {runLocal} from 'ctl/lib/local.js'
import {CtlError} from 'ctl/lib/errors.js'
import {asHostDaemonWithHome, hasMountAt, runningDaemon, stopProcess, strayDaemon, waitFor, readPidFile} from './daemon.js'
import type {LabHost} from './types.js'

/** Files of one host's sshd: config, host key and authorised keys in its state dir, pid in its run dir. */
export function sshdPaths(host: LabHost) {
  return {
    config: `${host.stateDir}/sshd_config`,
    hostKey: `${host.stateDir}/ssh_host_ed25519_key`,
    authorizedKeys: `${host.stateDir}/authorized_keys`,
    pidFile: `${host.runDir}/sshd.pid`,
    log: `${host.stateDir}/sshd.log`,
    /** Bound on /root in the sshd's own mount namespace: root's home on this host. */
    home: `${host.stateDir}/root`,
  }
}

/**
 * sshd_config of a lab host: key-only root login with the lab key (its own authorized_keys file, so
 * root's ~/.ssh is never touched), its own host key and pid file. MaxSessions is raised because ctl
 * opens many channels over its one connection per host.
 */
export function sshdConfig(host: LabHost): string {
  const p = sshdPaths(host)
  return [
    `# ctl lab host ${host.name} (${host.netns}): written by \`ctl lab up\``,
    'Port 22',
    `ListenAddress ${host.address}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${p.hostKey}`,
    `PidFile ${p.pidFile}`,
    // Root logs in with the lab key; other users (postgres, for pgBackRest between hosts) with their own ~/.ssh.
    `AuthorizedKeysFile ${p.authorizedKeys} .ssh/authorized_keys`,
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'X11Forwarding no',
    'PrintMotd no',
    'UseDNS no',
    // Every host shares the machine's filesystem, so the plain `docker` CLI must be pointed at this
    // host's own engine (ctl itself always passes -H).
    `SetEnv DOCKER_HOST=unix://${host.dockerSocket}`,
    'MaxSessions 100',
    'MaxStartups 100:30:200',
    'Subsystem sftp /usr/lib/openssh/sftp-server',
    '',
  ].join('\n')
}

/**
 * `sshd -f <config> -E <log>` in the host's namespace, with the host's own root home on /root (a
 * fresh server's, not this machine's rc files); sshd detaches by itself and writes its pid file.
 */
export function sshdCommand(host: LabHost): string[] {
  const p = sshdPaths(host)
  return asHostDaemonWithHome(host, p.home, ['/usr/sbin/sshd', '-f', p.config, '-E', p.log])
}

/** Root's home of a lab host as on a fresh Debian server: /etc/skel's files and the lab key in ~/.ssh. Existing files are kept. */
export function ensureRootHome(host: LabHost, labPublicKey: string, skel = '/etc/skel'): void {
  const {home} = sshdPaths(host)
  mkdirSync(`${home}/.ssh`, {recursive: true, mode: 0o700})
  if (existsSync(skel)) cpSync(skel, home, {recursive: true, force: false, errorOnExist: false})
  writeIfChanged(`${home}/.ssh/authorized_keys`, `${labPublicKey.trim()}\n`, 0o600)
}

/**
 * An sshd started before root's home became per host: its sessions would read this machine's /root.
 * Seen in its mounts rather than its config, so an older ctl's `lab up` (same config) keeps it as is.
 */
export function sharesMachineHome(pid: number): boolean {
  return !hasMountAt(pid, '/root')
}

export function hostKeygenCommand(host: LabHost): string[] {
  return ['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', `${host.netns}`, '-f', sshdPaths(host).hostKey]
}

/** The host's public key line (`ssh-ed25519 AAAA... comment`). */
export function hostPublicKey(host: LabHost): string | undefined {
  const file = `${sshdPaths(host).hostKey}.pub`
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined
}

/** known_hosts lines for the hosts: `<address> <type> <key>` (comment dropped). */
export function knownHostsText(entries: ReadonlyArray<{address: string; publicKey: string}>): string {
  return entries.map(({address, publicKey}) => `${address} ${publicKey.split(/\s+/).slice(0, 2).join(' ')}\n`).join('')
}

function writeIfChanged(path: string, content: string, mode: number): void {
  if (existsSync(path) && readFileSync(path, 'utf8') === content) return
  writeFileSync(path, content, {mode})
}

/** Marker found in the sshd command line, so only this host's sshd is recognised. */
function sshdMarker(host: LabHost): string {
  return sshdPaths(host).config
}

export function sshdPid(host: LabHost): number | undefined {
  return runningDaemon(sshdPaths(host).pidFile, sshdMarker(host), host.netns)
}

/** Whether something answers with an SSH banner on address:22 (within `timeoutMs`). */
export function probeSsh(address: string, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({host: address, port: 22})
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('data', (data) => done(data.toString('latin1').startsWith('SSH-')))
    socket.once('error', () => done(false))
  })
}

/**
 * Makes the host's sshd run with the current config and the lab's public key; a stray sshd of this
 * host (e.g. left in a deleted namespace) is stopped first. Returns what was done.
 */
export async function ensureSshd(host: LabHost, labPublicKey: string, log: (text: string) => void): Promise<string> {
  const p = sshdPaths(host)
  mkdirSync(host.stateDir, {recursive: true, mode: 0o755})
  mkdirSync(host.runDir, {recursive: true, mode: 0o755})
  // sshd's privilege separation directory (normally made by the init script).
  mkdirSync('/run/sshd', {recursive: true, mode: 0o755})
  if (!existsSync(p.hostKey)) {
    log(`${host.name}: host key`)
    await runLocal(hostKeygenCommand(host), {timeoutMs: 15_000})
  }
  writeIfChanged(p.authorizedKeys, `${labPublicKey.trim()}\n`, 0o600)
  ensureRootHome(host, labPublicKey)
  const config = sshdConfig(host)
  const configChanged = !existsSync(p.config) || readFileSync(p.config, 'utf8') !== config
  writeIfChanged(p.config, config, 0o600)
  const stray = strayDaemon(p.pidFile, sshdMarker(host), host.netns)
  if (stray !== undefined) {
    log(`${host.name}: stopping stray sshd ${stray}`)
    await stopProcess(stray, 3000)
  }
  const pid = sshdPid(host)
  const oldStyle = pid !== undefined && sharesMachineHome(pid)
  if (pid !== undefined && !configChanged && !oldStyle) return 'running'
  if (pid !== undefined) {
    log(`${host.name}: restarting sshd (${configChanged ? 'config changed' : "root's home was the machine's"})`)
    await stopProcess(pid, 3000)
  }
  log(`${host.name}: starting sshd`)
  const started = await runLocal(sshdCommand(host), {timeoutMs: 15_000, check: false})
  if (started.code !== 0) {
    throw new CtlError(`sshd did not start: ${(started.stderr || started.stdout).trim()}`, {
      host: host.name,
      step: 'sshd',
      hint: `See ${p.log}; check the config with: sshd -t -f ${p.config}`,
    })
  }
  const listening = await waitFor(() => sshdPid(host) !== undefined && probeSsh(host.address, 1000), 60_000, 50)
  if (!listening) {
    throw new CtlError(`sshd of ${host.name} does not answer on ${host.address}:22`, {
      host: host.name,
      step: 'sshd',
      hint: `See ${p.log} (pid file ${p.pidFile}: ${readPidFile(p.pidFile) ?? 'none'})`,
    })
  }
  return pid === undefined ? 'started' : 'restarted'
}
