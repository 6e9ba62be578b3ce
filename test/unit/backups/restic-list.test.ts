import {spawnSync} from 'node:child_process'
import {describe, expect, it} from 'vitest'
import {resticListOrEmpty} from '../../../src/backups/restic.js'

// The listing of an offsite restic repository, run by a real shell with a stand-in `rst` that
// answers `cat config` as restic 0.14 does (its messages measured against the lab's S3 double).

function listWith(configError: string | undefined): {code: number; stdout: string; stderr: string} {
  const rst =
    configError === undefined ? `rst() { [ "$1" = cat ] && return 0; echo '[{"id":"abc"}]'; }` : `rst() { printf '%s\\n' "$CONFIG_ERROR" >&2; return 1; }`
  const r = spawnSync('sh', ['-c', `${rst}\n${resticListOrEmpty('rst snapshots --json')}`], {
    encoding: 'utf8',
    env: {...process.env, CONFIG_ERROR: configError ?? ''},
  })
  return {code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr}
}

const ASK = 'Is there a repository at the following location?\ns3:https://198.18.0.1:9000/ctl-backups/restic/mariadb'

describe('listing an offsite restic repository', () => {
  it('lists the snapshots of a repository that is there', () => {
    expect(listWith(undefined)).toMatchObject({code: 0, stdout: '[{"id":"abc"}]\n'})
  })

  it('takes a repository the store says is not there as nothing shipped yet', () => {
    expect(listWith(`Fatal: unable to open config file: Stat: The specified key does not exist.\n${ASK}`)).toMatchObject({code: 0, stdout: '[]\n'})
    expect(listWith(`Fatal: unable to open config file: stat /srv/repo/config: no such file or directory\n${ASK}`)).toMatchObject({code: 0, stdout: '[]\n'})
  })

  it('fails with restic’s Fatal line when the store cannot be reached, although restic asks the same question', () => {
    const down = listWith(
      `Fatal: unable to open config file: Stat: Get "https://198.18.0.1:9000/ctl-backups/?location=": dial tcp 198.18.0.1:9000: connect: connection refused\n${ASK}`,
    )
    expect(down.code).toBe(4)
    expect(down.stdout).toBe('')
    expect(down.stderr).toBe(
      'restic: Fatal: unable to open config file: Stat: Get "https://198.18.0.1:9000/ctl-backups/?location=": dial tcp 198.18.0.1:9000: connect: connection refused\n',
    )
    expect(listWith(`Fatal: wrong password or no key found\n${ASK}`)).toMatchObject({code: 4, stderr: 'restic: Fatal: wrong password or no key found\n'})
  })
})
