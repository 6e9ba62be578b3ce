import {describe, expect, it} from 'vitest'
import {CtlError} from '../../../src/lib/errors.js'
import type {RaftServer} from '../../../src/vault/client.js'
import type {VaultMember} from '../../../src/vault/members.js'
import {haModeFromHealthCode, judgeCluster, parseKeyShares, planInit, planUnseal, type VaultNodeStatus} from '../../../src/vault/plan.js'

const members: VaultMember[] = ['h1', 'h2', 'h3'].map((node, i) => ({node, address: `198.18.0.1${i + 1}`, apiUrl: `http://198.18.0.1${i + 1}:8200/`}))

function status(node: string, facts: Partial<VaultNodeStatus>): VaultNodeStatus {
  return {node, apiUrl: `http://${node}:8200/`, reachable: true, ...facts}
}
const uninit = (node: string) => status(node, {initialized: false, sealed: true, threshold: 0, haMode: 'uninitialized'})
const sealed = (node: string, progress = 0) => status(node, {initialized: true, sealed: true, threshold: 3, progress, haMode: 'sealed'})
const standby = (node: string) => status(node, {initialized: true, sealed: false, threshold: 3, haMode: 'standby'})
const active = (node: string) => status(node, {initialized: true, sealed: false, threshold: 3, haMode: 'active'})
const down = (node: string) => status(node, {reachable: false, error: 'connect ECONNREFUSED'})
const server = (node_id: string, i: number, leader = false): RaftServer => ({node_id, address: `198.18.0.1${i}:8201`, leader, voter: true})

function refusal(fn: () => unknown): CtlError {
  try {
    fn()
  } catch (error) {
    return error as CtlError
  }
  throw new Error('expected a refusal')
}

describe('haModeFromHealthCode (Vault defaults)', () => {
  it.each([
    [200, 'active'],
    [429, 'standby'],
    [501, 'uninitialized'],
    [503, 'sealed'],
    [473, 'unknown'],
    [500, 'unknown'],
  ])('%i → %s', (code, mode) => expect(haModeFromHealthCode(code)).toBe(mode))
})

describe('planInit', () => {
  it('starts on the first member and joins the rest', () => {
    const plan = planInit(members, [uninit('h1'), uninit('h2'), uninit('h3')])
    expect(plan.first.node).toBe('h1')
    expect(plan.joiners.map((j) => j.node)).toEqual(['h2', 'h3'])
  })

  it.each([
    ['one member initialized', [uninit('h1'), sealed('h2'), uninit('h3')], 'vault.already-initialized', /already initialized \(on h2\)/],
    ['all initialized', [active('h1'), standby('h2'), standby('h3')], 'vault.already-initialized', /on h1, h2, h3/],
    ['a member unreachable', [uninit('h1'), down('h2'), uninit('h3')], 'vault.unreachable', /does not answer on h2/],
  ])('refuses with exit 2 when %s', (_name, statuses, code, message) => {
    const error = refusal(() => planInit(members, statuses))
    expect(error.code).toBe(code)
    expect(error.exitCode).toBe(2)
    expect(error.message).toMatch(message)
  })
})

describe('planUnseal', () => {
  it.each([
    ['all sealed after a restart', [sealed('h1'), sealed('h2'), sealed('h3')], ['h1', 'h2', 'h3'], {unseal: ['h1', 'h2', 'h3'], join: [], skip: []}],
    ['one sealed', [active('h1'), sealed('h2', 1), standby('h3')], ['h1', 'h2', 'h3'], {unseal: ['h2'], join: [], skip: ['h1', 'h3']}],
    ['members not joined yet (PGP init)', [sealed('h1'), uninit('h2'), uninit('h3')], ['h1', 'h2', 'h3'], {unseal: ['h1'], join: ['h2', 'h3'], skip: []}],
    ['--node h3 only', [sealed('h1'), sealed('h2'), sealed('h3')], ['h3'], {unseal: ['h3'], join: [], skip: []}],
    ['an unreachable member left out with --node', [sealed('h1'), down('h2'), sealed('h3')], ['h1', 'h3'], {unseal: ['h1', 'h3'], join: [], skip: []}],
  ])('%s', (_name, statuses, selected, expected) => {
    expect(planUnseal(statuses, selected)).toEqual({...expected, threshold: 3})
  })

  it.each([
    ['nothing initialized', [uninit('h1'), uninit('h2'), uninit('h3')], 'vault.not-initialized'],
    ['a selected member unreachable', [sealed('h1'), down('h2'), sealed('h3')], 'vault.unreachable'],
    ['members with different thresholds', [sealed('h1'), {...sealed('h2'), threshold: 2}, sealed('h3')], 'vault.split-cluster'],
  ])('refuses when %s', (_name, statuses, code) => {
    expect(refusal(() => planUnseal(statuses, ['h1', 'h2', 'h3'])).code).toBe(code)
  })
})

describe('judgeCluster', () => {
  const peers = [server('h1', 1, true), server('h2', 2), server('h3', 3)]

  it('is whole with every member unsealed, a Raft peer, and one active', () => {
    expect(judgeCluster(members, [active('h1'), standby('h2'), standby('h3')], peers)).toEqual({ok: true, active: 'h1', peersChecked: true, problems: []})
  })

  it.each([
    ['a sealed member', [active('h1'), sealed('h2'), standby('h3')], peers, ['h2 is sealed']],
    ['no active node', [standby('h1'), standby('h2'), standby('h3')], peers, ['no node is active']],
    ['two active nodes', [active('h1'), active('h2'), standby('h3')], peers, ['more than one node is active: h1, h2']],
    ['a member missing from Raft', [active('h1'), standby('h2'), standby('h3')], peers.slice(0, 2), ['h3 is not a Raft peer']],
    ['an unreachable and an uninitialized member', [active('h1'), down('h2'), uninit('h3')], peers, ['h2 does not answer', 'h3 is not initialized']],
  ])('lists the problem: %s', (_name, statuses, servers, problems) => {
    const verdict = judgeCluster(members, statuses, servers)
    expect(verdict.ok).toBe(false)
    expect(verdict.problems).toEqual(problems)
  })

  it('without the Raft configuration judges the rest and says peers were not checked', () => {
    expect(judgeCluster(members, [active('h1'), standby('h2'), standby('h3')], undefined)).toEqual({ok: true, active: 'h1', peersChecked: false, problems: []})
  })
})

describe('parseKeyShares', () => {
  it.each([
    ['ctl keys file', JSON.stringify({unseal_keys_b64: ['a', 'b'], unseal_keys_hex: ['x'], root_token: 't'}), ['a', 'b']],
    ['sys/init response', JSON.stringify({keys: ['h1', 'h2'], keys_base64: ['b1', 'b2']}), ['b1', 'b2']],
    ['one share per line, comments and blanks', '# shares\nAAA\n\n  BBB  \r\nCCC\n', ['AAA', 'BBB', 'CCC']],
  ])('%s', (_name, text, expected) => expect(parseKeyShares(text)).toEqual(expected))

  it('refuses JSON without shares, and broken JSON', () => {
    expect(() => parseKeyShares('{"root_token": "x"}')).toThrow(/no unseal_keys_b64/)
    expect(() => parseKeyShares('{"keys": [')).toThrow(/does not parse/)
  })
})
