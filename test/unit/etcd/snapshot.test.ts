import {describe, expect, it} from 'vitest'
import {renderCommand} from '../../../src/lib/shell.js'
import {
  parseSnapshotInspection,
  parseSnapshotOutput,
  removeSnapshotsCommand,
  restoreSnapshotCommand,
  saveSnapshotCommand,
  snapshotName,
  snapshotsIn,
  snapshotsToPrune,
} from '../../../src/etcd/snapshot.js'

const SHA = 'a'.repeat(64)
// `etcdctl snapshot status -w json` (etcd 3.4).
const STATUS = '{"hash":3181232345,"revision":4123,"totalKey":57,"totalSize":122880}'

describe('etcd snapshots', () => {
  it('names snapshots by UTC time to the millisecond, so they sort as time', () => {
    expect(snapshotName(new Date('2026-12-07T05:43:04.123Z'))).toBe('etcd-20261207T054304123Z.db')
    expect(snapshotsIn(['etcd-20261207T054304123Z.db', 'etcd-20261207T054304123Z.db.status', 'etcd-20261201T000000000Z.db', 'x.db', ''].join('\n'))).toEqual([
      'etcd-20261201T000000000Z.db',
      'etcd-20261207T054304123Z.db',
    ])
  })

  it('keeps the newest: prunes all but `keep`', () => {
    expect(snapshotsToPrune(['a', 'b', 'c', 'd'], 3)).toEqual(['a'])
    expect(snapshotsToPrune(['a', 'b'], 3)).toEqual([])
  })

  it('saves under a temporary name, never over an existing snapshot, and renames when whole', () => {
    const text = renderCommand(saveSnapshotCommand('/backups/etcd dir', 'etcd-20261207T054304123Z.db', 'http://10.0.0.1:2379'))
    expect(text).toContain("snapshot save '/backups/etcd dir/etcd-20261207T054304123Z.db.part'")
    expect(text).toContain("[ ! -e '/backups/etcd dir/etcd-20261207T054304123Z.db' ]")
    expect(text.indexOf('sha256sum')).toBeLessThan(text.indexOf("mv '/backups/etcd dir/etcd-20261207T054304123Z.db.part'"))
  })

  it('reads what a save printed, and a re-check of a kept one', () => {
    expect(parseSnapshotOutput(`${STATUS}\n${SHA}\n`)).toEqual({status: {hash: 3181232345, revision: 4123, totalKey: 57, totalSize: 122880}, sha256: SHA})
    expect(parseSnapshotOutput('Error: context deadline exceeded')).toBeUndefined()
    expect(parseSnapshotInspection(`== recorded ${SHA}\n== actual ${'b'.repeat(64)}\n${STATUS}\n`)).toMatchObject({
      recorded: SHA,
      actual: 'b'.repeat(64),
      status: {revision: 4123},
    })
  })

  it('restores into the member’s data directory, as a one-member cluster', () => {
    expect(renderCommand(restoreSnapshotCommand('/b/s.db', {name: 'etcd-h3', peerUrl: 'http://10.0.0.3:2380', dataDir: '/var/lib/etcd'}, 'etcd'))).toBe(
      'env ETCDCTL_API=3 etcdctl snapshot restore /b/s.db --name=etcd-h3 --initial-cluster=etcd-h3=http://10.0.0.3:2380 --initial-advertise-peer-urls=http://10.0.0.3:2380 --data-dir=/var/lib/etcd && chown -R etcd: /var/lib/etcd',
    )
  })

  it('removes a pruned snapshot with its status and sha256 files, names quoted', () => {
    expect(renderCommand(removeSnapshotsCommand("/b/it's", ['etcd-1.db']))).toBe("cd '/b/it'\\''s' && rm -f -- etcd-1.db etcd-1.db.status etcd-1.db.sha256")
  })
})
