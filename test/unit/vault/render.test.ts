import {describe, expect, it} from 'vitest'
import {apiUrl} from '../../../src/vault/members.js'
import {raftLines, statusTable} from '../../../src/vault/render.js'

describe('statusTable', () => {
  it('shows each node: initialized, sealed, progress, HA mode, Raft role', () => {
    const lines = statusTable(
      [
        {node: 'h1', apiUrl: 'http://a:8200/', reachable: true, initialized: true, sealed: false, haMode: 'active', version: '1.15.6'},
        {
          node: 'h2',
          apiUrl: 'http://b:8200/',
          reachable: true,
          initialized: true,
          sealed: true,
          progress: 1,
          threshold: 3,
          haMode: 'sealed',
          version: '1.15.6',
        },
        {node: 'h3', apiUrl: 'http://c:8200/', reachable: false},
      ],
      [{node_id: 'h1', address: 'a:8201', leader: true, voter: true}],
    )
    expect(lines).toEqual([
      'NODE  API             INITIALIZED  SEALED  PROGRESS  HA MODE      RAFT PEER  VERSION',
      'h1    http://a:8200/  yes          no      -         active       leader     1.15.6',
      'h2    http://b:8200/  yes          yes     1/3       sealed       no         1.15.6',
      'h3    http://c:8200/  -            -       -         unreachable  -          -',
    ])
  })

  it('marks Raft roles unknown without the configuration', () => {
    expect(statusTable([{node: 'h1', apiUrl: 'u', reachable: true, initialized: true, sealed: false, haMode: 'standby'}], undefined)[1]).toContain('standby  ?')
  })

  it('lists Raft servers', () => {
    expect(
      raftLines([
        {node_id: 'h1', address: 'a:8201', leader: true, voter: true},
        {node_id: 'h2', address: 'b:8201', leader: false, voter: false},
      ]),
    ).toEqual(['  h1 a:8201 (leader)', '  h2 b:8201 (non-voter)'])
  })
})

describe('apiUrl', () => {
  it.each([
    ['https', 'vault-1.internal', 8200, 'https://vault-1.internal:8200/'],
    ['http', '198.18.0.11', 8200, 'http://198.18.0.11:8200/'],
    ['https', 'fd00::5', 8200, 'https://[fd00::5]:8200/'],
  ])('%s %s %i → %s', (scheme, address, port, expected) => expect(apiUrl(scheme, address, port)).toBe(expected))
})
