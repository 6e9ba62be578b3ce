import {spawnSync} from 'node:child_process'
import {describe, expect, it} from 'vitest'
import {resticListOrEmpty} from '../../../src/backups/restic.js'

// The listing of an offsite restic repository, run by a real shell with a stand-in `rst` that
// fails as restic 0.14 does (its messages measured against the lab's S3 double), and counts its runs:
// each real run derives the repository key (about 0.7 s of CPU), so the listing runs restic once.

function listWith(error: string | undefined, code = 1): {code: number; stdout: string; stderr: string; runs: number} {
  const rst =
    error === undefined
      ? `rst() { echo run >&9; echo '[{"id":"abc"}]'; echo 'a warning' >&2; }`
      : `rst() { echo run >&9; printf '%s\\n' "$LIST_ERROR" >&2; return ${code}; }`
  const r = spawnSync('sh', ['-c', `exec 9>&2\n${rst}\n${resticListOrEmpty('rst snapshots --json')}`], {
    encoding: 'utf8',
    env: {...process.env, LIST_ERROR: error ?? ''},
  })
  const runs = r.stderr.split('\n').filter((l) => l === 'run').length
  return {code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr.replace(/^run\n/gm, ''), runs}
}

const ASK = 'Is there a repository at the following location?\ns3:https://198.18.0.1:9000/ctl-backups/restic/mariadb'

describe('listing an offsite restic repository', () => {
  it('lists the snapshots of a repository that is there', () => {
    expect(listWith(undefined)).toMatchObject({code: 0, stdout: '[{"id":"abc"}]\n', runs: 1})
  })

  it('takes a repository the store says is not there as nothing shipped yet', () => {
    expect(listWith(`Fatal: unable to open config file: Stat: The specified key does not exist.\n${ASK}`)).toMatchObject({code: 0, stdout: '[]\n', runs: 1})
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

  it('keeps restic’s own error and exit code when the listing fails after the repository opened', () => {
    expect(listWith('Fatal: unable to create lock in backend: repository is already locked', 11)).toMatchObject({
      code: 11,
      stdout: '',
      stderr: 'Fatal: unable to create lock in backend: repository is already locked\n',
    })
  })
})
