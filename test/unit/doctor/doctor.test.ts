import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {describeKey} from '../../../src/doctor/gather.js'
import {judgeOperatorMachine, type OperatorFacts} from '../../../src/doctor/judge.js'

const healthy: OperatorFacts = {
  nodeVersion: 'v22.11.0',
  inventories: {dir: '/p/inventories', exists: true, files: [{file: 'lab.yml'}, {file: 'prod.yml'}]},
  env: {
    name: 'prod',
    key: {path: '/home/op/.ssh/prod', exists: true, mode: 0o100600, kind: 'openssh', encrypted: false},
    knownHosts: {path: '/home/op/.ssh/known_hosts', exists: true, nodes: 3, missing: []},
  },
  agent: {reachable: false},
  clock: {synchronized: true, how: 'timedatectl NTPSynchronized'},
  stateDir: {path: '/home/op/.local/state/ctl', writable: true},
}
const status = (facts: OperatorFacts, check: string) => judgeOperatorMachine(facts).find((r) => r.check === check)

describe('ctl doctor: judging the operator machine', () => {
  it('passes a healthy machine, one row per thing looked at', () => {
    const rows = judgeOperatorMachine(healthy)
    expect(rows.map((r) => `${r.check}:${r.status}`)).toEqual([
      'node:pass',
      'inventories:pass',
      'inventory:pass',
      'ssh-key:pass',
      'known-hosts:pass',
      'ssh-agent:pass',
      'clock:pass',
      'state:pass',
    ])
  })

  it('names each local cause of a later failure, with what to do', () => {
    expect(status({...healthy, nodeVersion: 'v20.18.0'}, 'node')).toMatchObject({status: 'fail', detail: expect.stringMatching(/needs 22/)})
    const badInventory = {
      ...healthy,
      inventories: {...healthy.inventories, files: [{file: 'lab.yml'}, {file: 'prod.yml', problem: '1 problem(s), first nodes: Required (line 3)'}]},
    }
    expect(status(badInventory, 'inventories')).toMatchObject({status: 'fail', detail: expect.stringContaining('prod.yml (1 problem(s)')})
    const env = healthy.env!
    expect(status({...healthy, env: {...env, key: {...env.key!, mode: 0o100644}}}, 'ssh-key')).toMatchObject({
      status: 'fail',
      hint: 'chmod 600 /home/op/.ssh/prod',
    })
    expect(status({...healthy, env: {...env, key: {...env.key!, kind: 'unknown'}}}, 'ssh-key')!.detail).toMatch(/not a private key/)
    // A passphrase ctl cannot type: fine with an agent, a warning without one.
    const encrypted = {...healthy, env: {...env, key: {...env.key!, encrypted: true}}}
    expect(status(encrypted, 'ssh-key')).toMatchObject({status: 'warn', hint: expect.stringMatching(/ssh-add/)})
    expect(status({...encrypted, agent: {socket: '/tmp/a', reachable: true, keys: 1}}, 'ssh-key')!.status).toBe('pass')
    expect(status({...healthy, env: {...env, key: {exists: false, path: '/nope'}}}, 'ssh-key')!.status).toBe('fail')
    expect(status({...healthy, env: {...env, knownHosts: {...env.knownHosts!, missing: ['db-2']}}}, 'known-hosts')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('1 of 3 nodes have no key'),
      hint: expect.stringContaining('ctl ssh trust prod'),
    })
    expect(status({...healthy, env: {name: 'prod', problem: 'Invalid inventory'}}, 'inventory')!.status).toBe('fail')
    expect(status({...healthy, agent: {socket: '/tmp/gone', reachable: false}}, 'ssh-agent')!.status).toBe('warn')
    expect(status({...healthy, clock: {synchronized: false, how: 'x'}}, 'clock')!.status).toBe('warn')
    expect(status({...healthy, clock: {how: 'timedatectl is not available'}}, 'clock')!.status).toBe('skip')
    expect(status({...healthy, stateDir: {path: '/s', writable: false, error: 'EACCES'}}, 'state')).toMatchObject({
      status: 'fail',
      detail: 'not writable: EACCES',
    })
  })

  it('tells a key file from ssh-keygen (made at run time): OpenSSH with and without a passphrase, PEM, a public key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctl-doctor-'))
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'plain')])
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'a passphrase', '-f', join(dir, 'locked')])
    expect(describeKey(readFileSync(join(dir, 'plain'), 'utf8'))).toEqual({kind: 'openssh', encrypted: false})
    expect(describeKey(readFileSync(join(dir, 'locked'), 'utf8'))).toEqual({kind: 'openssh', encrypted: true})
    expect(describeKey(readFileSync(join(dir, 'plain.pub'), 'utf8'))).toEqual({kind: 'unknown'})
    execFileSync('ssh-keygen', ['-q', '-t', 'ecdsa', '-m', 'PEM', '-N', '', '-f', join(dir, 'pem')])
    expect(describeKey(readFileSync(join(dir, 'pem'), 'utf8'))).toEqual({kind: 'pem', encrypted: false})
  })
})
