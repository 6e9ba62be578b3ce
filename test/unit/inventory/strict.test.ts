import {describe, expect, it} from 'vitest'
import {envNameOfFile, parseInventory, resolveInventoryPath} from '../../../src/inventory/load.js'
import {editDistance, nearestName} from '../../../src/inventory/unknown-keys.js'
import {parseRunId, findRunToResume} from '../../../src/runbooks/journal.js'

const base = `name: t
ssh:
  user: root
nodes:
  - name: a
    address: 10.0.0.1
    role: manager
  - name: b
    address: 10.0.0.2
`

/** Appends YAML to `base`; returns the problems as `line:column field: message`. */
function problemsOf(extra: string, text = base + extra): string[] {
  const {inventory, problems} = parseInventory(text, 'x.yml')
  if (problems.length > 0) expect(inventory).toBeUndefined()
  return problems.map((p) => `${p.line}:${p.column} ${p.field}: ${p.message}`)
}

describe('every inventory object is strict', () => {
  it.each([
    ['vault.pgpkeys', 'vault:\n  members: [{node: a}]\n  pgpkeys: [k.asc]\n', '12:3 vault.pgpkeys: unknown key "pgpkeys" (did you mean pgpKeys?)'],
    [
      'ssh.knownhosts',
      'x: 1\n',
      '10:1 x: unknown key "x"; known keys: name, description, ssh, nodes, swarm, limits, registries, stacks, services, loadBalancer, databases, vault, backups, deployLock, tls, notify',
    ],
    ['vault member', 'vault:\n  members: [{node: a, shceme: https}]\n', '11:23 vault.members[0].shceme: unknown key "shceme" (did you mean scheme?)'],
    [
      'galera member control (discriminated union)',
      'databases:\n  galera:\n    members:\n      - node: a\n        control: {kind: systemd, unti: mariadb}\n',
      '14:34 databases.galera.members[0].control.unti: unknown key "unti" (did you mean unit?)',
    ],
    [
      'service health',
      'services:\n  - name: s\n    stack: st\n    health: {path: /h, expectStauts: 200}\n',
      '13:24 services[0].health.expectStauts: unknown key "expectStauts" (did you mean expectStatus?)',
    ],
    [
      'service rollout',
      'services:\n  - name: s\n    rollout: {paralelism: 2}\n',
      '12:15 services[0].rollout.paralelism: unknown key "paralelism" (did you mean parallelism?)',
    ],
    [
      'patroni writeEndpoint',
      'databases:\n  patroni:\n    scope: pg\n    members: [{node: a, name: pg1}]\n    writeEndpoint: {host: h, port: 5432, tls: true}\n',
      '14:42 databases.patroni.writeEndpoint.tls: unknown key "tls"; known keys: host, port',
    ],
    ['tls', 'tls:\n  endpoint: []\n', '11:3 tls.endpoint: unknown key "endpoint" (did you mean endpoints?)'],
    ['deployLock', 'deployLock: {Dir: /x}\n', '10:14 deployLock.Dir: unknown key "Dir" (did you mean dir?)'],
  ])('%s', (_name, extra, expected) => {
    expect(problemsOf(extra)).toContain(expected)
  })

  it('checks per-node ssh and docker overrides', () => {
    const text = base.replace('    role: manager\n', '    role: manager\n    ssh: {knownhosts: kh, port: 2222}\n    docker: {sock: /x}\n')
    expect(problemsOf('', text)).toEqual([
      '8:11 nodes[0].ssh.knownhosts: unknown key "knownhosts" (did you mean knownHosts?)',
      '9:14 nodes[0].docker.sock: unknown key "sock" (did you mean socket?)',
    ])
  })

  it('points at the ssh.knownhosts key itself, so SSH never falls back to ~/.ssh/known_hosts silently', () => {
    expect(problemsOf('', base.replace('  user: root\n', '  user: root\n  knownhosts: ./kh\n'))).toEqual([
      '4:3 ssh.knownhosts: unknown key "knownhosts" (did you mean knownHosts?)',
    ])
  })
})

describe('nearest known name', () => {
  it.each([
    ['pgpkeys', 'pgpKeys'],
    ['KNOWNHOSTS', 'knownHosts'],
    ['adress', 'address'],
    ['rol', 'role'],
    ['labls', 'labels'],
    ['zzzzzzz', undefined],
  ])('%s → %s', (typed, expected) => {
    expect(nearestName(typed, ['name', 'address', 'role', 'labels', 'pgpKeys', 'knownHosts'])).toBe(expected)
  })
  it('counts edits', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3)
    expect(editDistance('', 'abc')).toBe(3)
  })
})

describe('names that become paths', () => {
  it.each(['...yml', '.hidden.yml', 'a..b.yml', 'bad name.yml', 'tab\there.yml', 'nl\nx.yml'])('refuses the env name of %j', (file) => {
    expect(() => envNameOfFile(`/srv/inventories/${file}`)).toThrow(/not a usable environment name/)
  })
  it.each([
    ['prod.yml', 'prod'],
    ['lab.yaml', 'lab'],
    ['eu-west_2.v1.yml', 'eu-west_2.v1'],
  ])('%s → env %s', (file, env) => {
    expect(envNameOfFile(`/srv/inventories/${file}`)).toBe(env)
  })
  it('refuses env names with .. given on the command line', () => {
    expect(() => resolveInventoryPath('a..b', '/srv')).toThrow(/not an environment name/)
  })
  it.each(['../../etc/passwd', '..', 'a/b', '.x', 'x\ny', 'a..b', ''])('refuses run id %j', (id) => {
    expect(() => parseRunId(id)).toThrow(/not a run id/)
    expect(() => findRunToResume('galera-recover', 'lab', id, '/nonexistent')).toThrow(/not a run id/)
  })
  it('accepts the run ids ctl writes', () => {
    expect(parseRunId('galera-recover-lab-20261126T121500-3f2a')).toBe('galera-recover-lab-20261126T121500-3f2a')
  })
  it.each([
    ['node name with ..', base.replace('name: a\n', 'name: a..b\n'), 'nodes[0].name'],
    ['stack name with newline', base + 'stacks: [{name: "s\\nx", files: [a.yml]}]\n', 'stacks[0].name'],
    [
      'relative remote datadir',
      base + 'databases:\n  galera:\n    members: [{node: a, datadir: var/lib/mysql, control: {kind: systemd, unit: m}}]\n',
      'databases.galera.members[0].datadir',
    ],
    ['.. in a remote path', base + 'deployLock: {dir: /var/lib/../../tmp}\n', 'deployLock.dir'],
    [
      'newline in a docker socket',
      base.replace('role: manager\n', 'role: manager\n    docker: {socket: "/run/d.sock\\nrm -rf /"}\n'),
      'nodes[0].docker.socket',
    ],
    ['an address that reads as an option', base.replace('address: 10.0.0.1', 'address: -oProxyCommand=x'), 'nodes[0].address'],
    ['a timeout past what a timer holds', base.replace('  user: root\n', '  user: root\n  commandTimeoutMs: 99999999999\n'), 'ssh.commandTimeoutMs'],
    ['an infinite health deadline', base + 'services:\n  - {name: s, health: {deadlineSeconds: .inf}}\n', 'services[0].health.deadlineSeconds'],
    [
      'control character in the galera user',
      base + 'databases:\n  galera:\n    user: "ro\\x01ot"\n    members: [{node: a, control: {kind: systemd, unit: m}}]\n',
      'databases.galera.user',
    ],
  ])('rejects %s', (_name, text, field) => {
    expect(parseInventory(text, 'x.yml').problems.map((p) => p.field)).toContain(field)
  })
  it('shows control characters from the file escaped, so each problem stays one line', () => {
    const {problems} = parseInventory(base + 'stacks: [{name: "s\\nx\\e[31m", files: [a.yml]}]\n"a\\nb": 1\n', 'x.yml')
    expect(problems.map((p) => `${p.field}: ${p.message}`)).toContain(
      'a\\nb: unknown key "a\\nb"; known keys: name, description, ssh, nodes, swarm, limits, registries, stacks, services, loadBalancer, databases, vault, backups, deployLock, tls, notify',
    )
    for (const p of problems) expect(`${p.field}${p.message}`).not.toMatch(/\p{Cc}/u)
  })
  it('keeps metacharacters in argv commands (they are quoted)', () => {
    const text = base + 'databases:\n  galera:\n    members: [{node: a, control: {kind: commands, start: [sh, -c, "echo $HOME; true"], stop: [x]}}]\n'
    expect(parseInventory(text, 'x.yml').problems).toEqual([])
  })
})

describe('warnings: Vault over plain http', () => {
  const withVault = (address: string, member: string) => `name: t\nnodes:\n  - {name: v, address: ${address}}\nvault:\n  members:\n    - {node: v, ${member}}\n`
  it.each([
    ['10.0.0.5', 'scheme: http', true],
    ['vault.example.com', 'scheme: http', true],
    ['198.20.0.1', 'scheme: http', true],
    ['10.0.0.5', 'scheme: http, insecureHttpOk: true', false],
    ['10.0.0.5', 'scheme: https', false],
    ['127.0.0.1', 'scheme: http', false],
    ['localhost', 'scheme: http', false],
    ['"::1"', 'scheme: http', false],
    ['198.18.0.11', 'scheme: http', false],
    ['198.19.255.1', 'scheme: http', false],
  ])('%s with %s → warning %s', (address, member, warned) => {
    const {inventory, warnings} = parseInventory(withVault(address, member), 'v.yml')
    expect(inventory).toBeDefined()
    expect(warnings.length > 0).toBe(warned)
    if (warned) expect(warnings[0]).toMatchObject({line: 6, column: 25, field: 'vault.members[0].scheme'})
    if (warned) expect(warnings[0]?.message).toContain('cross the network in clear')
  })
})
