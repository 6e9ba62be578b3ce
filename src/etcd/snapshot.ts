import {shellCommand, quote, type RemoteCommand} from '../lib/shell.js'
import {etcdctl} from './commands.js'

/**
 * etcd snapshots on the backup node: `<dir>/etcd-<UTC stamp>.db`, each with `.status` (etcdctl
 * snapshot status: hash, revision, keys, size) and `.sha256` beside it, written under a temporary
 * name and renamed when whole. Pure.
 */

export interface SnapshotStatus {
  hash: number
  revision: number
  totalKey: number
  totalSize: number
}

const SNAPSHOT_NAME = /^etcd-\d{8}T\d{9}Z\.db$/

/** `etcd-20261207T054304123Z.db`: UTC to the millisecond, so names sort as time and two runs never share one. */
export const snapshotName = (at: Date) => `etcd-${at.toISOString().replace(/[-:.]/g, '')}.db`

/** Saves a snapshot from `endpoint` into `dir/name`, then prints its status JSON and its sha256. */
export function saveSnapshotCommand(dir: string, name: string, endpoint: string): RemoteCommand {
  const file = `${dir}/${name}`
  return {
    script: [
      'set -e',
      'umask 077',
      `mkdir -p ${quote(dir)}`,
      `[ ! -e ${quote(file)} ] || { echo ${quote(`${file} exists already`)} >&2; exit 1; }`,
      `${shellCommand(etcdctl([endpoint], ['snapshot', 'save', `${file}.part`], '120s'))} > /dev/null`,
      `${shellCommand(['env', 'ETCDCTL_API=3', 'etcdctl', 'snapshot', 'status', `${file}.part`, '-w', 'json'])} > ${quote(`${file}.status`)}`,
      `sha256sum ${quote(`${file}.part`)} | cut -d ' ' -f 1 > ${quote(`${file}.sha256`)}`,
      `mv ${quote(`${file}.part`)} ${quote(file)}`,
      `cat ${quote(`${file}.status`)}; echo; cat ${quote(`${file}.sha256`)}`,
    ].join('\n'),
  }
}

export function parseSnapshotOutput(stdout: string): {status: SnapshotStatus; sha256: string} | undefined {
  const json = /\{[^}]*"revision"[^}]*\}/.exec(stdout)?.[0]
  const sha256 = /^[0-9a-f]{64}$/m.exec(stdout)?.[0]
  if (!json || !sha256) return undefined
  const s = JSON.parse(json) as Partial<SnapshotStatus>
  if (typeof s.revision !== 'number' || typeof s.totalKey !== 'number') return undefined
  return {status: {hash: s.hash ?? 0, revision: s.revision, totalKey: s.totalKey, totalSize: s.totalSize ?? 0}, sha256}
}

export const listSnapshotsCommand = (dir: string): RemoteCommand => ({script: `[ -d ${quote(dir)} ] || exit 0; cd ${quote(dir)} && ls -1`})

/** The snapshot files in a listing, oldest first (the stamp sorts as time). */
export const snapshotsIn = (listing: string) =>
  listing
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => SNAPSHOT_NAME.test(l))
    .sort()

/** What retention removes: all but the newest `keep`. */
export const snapshotsToPrune = (snapshots: readonly string[], keep: number) => snapshots.slice(0, Math.max(0, snapshots.length - keep))

export const removeSnapshotsCommand = (dir: string, names: readonly string[]): RemoteCommand => ({
  script: `cd ${quote(dir)} && rm -f -- ${names.flatMap((n) => [n, `${n}.status`, `${n}.sha256`].map(quote)).join(' ')}`,
})

/** Re-reads a kept snapshot: its sha256 now, the one recorded, and `snapshot status` (read-only). */
export const inspectSnapshotCommand = (dir: string, name: string): RemoteCommand => {
  const file = `${dir}/${name}`
  return {
    script: [
      `[ -f ${quote(file)} ] || { echo "no snapshot ${file}" >&2; exit 3; }`,
      `echo "== recorded $(cat ${quote(`${file}.sha256`)} 2>/dev/null)"`,
      `echo "== actual $(sha256sum ${quote(file)} | cut -d ' ' -f 1)"`,
      `${shellCommand(['env', 'ETCDCTL_API=3', 'etcdctl', 'snapshot', 'status', file, '-w', 'json'])}`,
    ].join('\n'),
  }
}

export function parseSnapshotInspection(stdout: string): {recorded?: string; actual?: string; status?: SnapshotStatus} {
  const recorded = /^== recorded ([0-9a-f]{64})$/m.exec(stdout)?.[1]
  const actual = /^== actual ([0-9a-f]{64})$/m.exec(stdout)?.[1]
  const json = /\{[^}]*"revision"[^}]*\}/.exec(stdout)?.[0]
  const s = json ? (JSON.parse(json) as SnapshotStatus) : undefined
  return {...(recorded ? {recorded} : {}), ...(actual ? {actual} : {}), ...(s ? {status: s} : {})}
}

/**
 * Restores a snapshot into a fresh data directory as a one-member cluster (the others are added back
 * one by one, as new members); root reads the snapshot (kept 0600), etcd's user gets the files.
 */
export function restoreSnapshotCommand(file: string, member: {name: string; peerUrl: string; dataDir: string}, osUser: string): RemoteCommand {
  const restore = shellCommand([
    'env',
    'ETCDCTL_API=3',
    'etcdctl',
    'snapshot',
    'restore',
    file,
    `--name=${member.name}`,
    `--initial-cluster=${member.name}=${member.peerUrl}`,
    `--initial-advertise-peer-urls=${member.peerUrl}`,
    `--data-dir=${member.dataDir}`,
  ])
  return {script: `${restore} && chown -R ${quote(`${osUser}:`)} ${quote(member.dataDir)}`}
}
