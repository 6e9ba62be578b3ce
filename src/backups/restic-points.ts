import {quote, type RemoteCommand} from '../lib/shell.js'
import {mariadbDrillCommand} from './drill.js'
import type {BackupLocation} from './locations.js'
import {decodeDrill, drillRecordsLoop, type RestorePoint} from './restore-points.js'
import {parseResticSnapshots, resticEnvLines, resticSnapshotsScript, snapshotAddress} from './restic.js'

/**
 * The offsite mariabackup backups as restore points (restic's snapshots, with ctl's drill records
 * kept on the backup node), and the restore drill of one: restic restores it into a scratch directory
 * (checking every blob it reads), then the same drill as a local backup runs on what came back. Pure.
 */

type ResticLocation = BackupLocation & {restic: NonNullable<BackupLocation['restic']>}

/** `snapshots<TAB><base64 JSON>`, then `drill<TAB><short id><TAB><base64 record>` per drill record. */
export function listResticPointsCommand(location: ResticLocation): RemoteCommand {
  return {
    script: [
      `out=$( (${resticSnapshotsScript(location.restic.repo)}) ) || exit $?`,
      `printf 'snapshots\\t%s\\n' "$(printf %s "$out" | base64 -w0)"`,
      drillRecordsLoop(location.restic.drillDir, 'drill'),
    ].join('\n'),
  }
}

export function parseResticPoints(node: string, stdout: string, location: ResticLocation): RestorePoint[] {
  const points: RestorePoint[] = []
  const drills = new Map<string, string>()
  let snapshots: unknown = []
  for (const line of stdout.split('\n')) {
    const [tag, a = '', b = ''] = line.split('\t')
    if (tag === 'snapshots') {
      try {
        snapshots = JSON.parse(Buffer.from(a, 'base64').toString('utf8') || '[]')
      } catch {
        snapshots = []
      }
    } else if (tag === 'drill') drills.set(a, b)
  }
  for (const snap of parseResticSnapshots(snapshots)) {
    const short = snap.id.slice(0, 8)
    const lastDrill = decodeDrill(drills.get(short) ?? '-')
    points.push({
      database: 'mariadb',
      series: 'mariadb@offsite',
      path: snapshotAddress(location.restic.repo, snap.id),
      dir: location.dir,
      nodes: [node],
      takenAt: snap.time,
      sizeBytes: snap.sizeBytes,
      ...(snap.checksum ? {checksum: snap.checksum} : {}),
      complete: snap.checksum !== undefined,
      encrypted: true,
      offsite: true,
      restic: {snapshot: snap.id, originalPath: snap.path, ...location.restic, ...(snap.binlog ? {binlogFile: snap.binlog.file} : {})},
      ...(lastDrill ? {lastDrill} : {}),
    })
  }
  return points
}

/** Where the drill record of an offsite backup is kept on the backup node. */
export function resticDrillRecordPath(restic: NonNullable<RestorePoint['restic']>): string {
  return `${restic.drillDir}/${restic.snapshot.slice(0, 8)}.verify.json`
}

/**
 * restic restore of the snapshot into a private directory under /var/tmp (a failed or tampered read
 * fails the integrity stage), then the mariabackup drill on the restored directory; the directory is
 * removed however it ends. The keys come on stdin.
 */
export function resticDrillCommand(restic: NonNullable<RestorePoint['restic']>): RemoteCommand {
  const {snapshot, originalPath, repo} = restic
  const drill = mariadbDrillCommand(originalPath, {dirWord: `"$r"${quote(originalPath)}`}) as {script: string}
  return {
    script: [
      ...resticEnvLines(repo),
      `r=$(mktemp -d /var/tmp/ctl-offsite-XXXXXX) || { printf 'scratch\\tfail\\tcannot make a directory under /var/tmp\\n'; exit 0; }`,
      `trap 'rm -rf "$r"' EXIT`,
      `if ! rst restore --no-lock --quiet --target "$r" ${quote(snapshot)} > "$r.log" 2>&1; then printf 'integrity\\tfail\\trestic restore: %s\\n' "$(tail -n 2 "$r.log" | tr '\\n\\t' '  ')"; rm -f "$r.log"; exit 0; fi`,
      'rm -f "$r.log"',
      `(
${drill.script}
)`,
    ].join('\n'),
  }
}

/** Forgets one snapshot and prunes the data only it held (restic checks the snapshot still exists), then drops its drill record. */
export function resticForgetCommand(restic: NonNullable<RestorePoint['restic']>): RemoteCommand {
  return {
    script: [...resticEnvLines(restic.repo), `rst forget --prune --quiet ${quote(restic.snapshot)}`, `rm -f ${quote(resticDrillRecordPath(restic))}`].join(
      '\n',
    ),
  }
}

/** Exit codes of the fetch script. */
export const FETCH_EXIT = {exists: 5, restore: 6, integrity: 7} as const

/**
 * Brings an offsite backup back onto the node as a local restore point: restic restores it into a
 * private directory inside `backupDir`, ctl's manifest is checked, and only then is it renamed to
 * `<backupDir>/<its name>` (refused when that exists). mariadb-restore takes it from there.
 */
export function resticFetchCommand(restic: NonNullable<RestorePoint['restic']>, backupDir: string, target: string): RemoteCommand {
  const dir = quote(backupDir)
  const restored = `"$t"${quote(restic.originalPath)}`
  return {
    script: [
      ...resticEnvLines(restic.repo),
      `[ ! -e ${quote(target)} ] || { echo ${quote(`${target} exists already`)} >&2; exit ${FETCH_EXIT.exists}; }`,
      `mkdir -p ${dir} && t=$(mktemp -d ${dir}/.ctl-fetch-XXXXXX) || exit 1`,
      `trap 'rm -rf "$t"' EXIT`,
      `rst restore --no-lock --quiet --target "$t" ${quote(restic.snapshot)} >&2 || exit ${FETCH_EXIT.restore}`,
      `(cd ${restored} && sha256sum --quiet --strict -c ctl-manifest.sha256) >&2 || exit ${FETCH_EXIT.integrity}`,
      `mv ${restored} ${quote(target)}`,
    ].join('\n'),
  }
}
