import {execFileSync} from 'node:child_process'
import {describe, expect, it} from 'vitest'
import {hostFactParts, hostFactsScript, parseHostFacts, wantedFacts, type OptionalFact} from '../../../src/checks/host-facts.js'
import {allChecks} from '../../../src/checks/registry.js'
import {inventorySchema} from '../../../src/inventory/schema/index.js'

const inventory = inventorySchema.parse({
  name: 't',
  limits: {diskPath: '/var/lib docker'},
  nodes: [
    {name: 'm1', address: '10.0.0.1', role: 'manager'},
    {name: 'w1', address: '10.0.0.2', role: 'worker'},
    {name: 'db1', address: '10.0.0.3', role: 'none'},
  ],
  databases: {
    galera: {members: [{node: 'db1', control: {kind: 'systemd', unit: 'mariadb'}}], backupNode: 'db1', backupDir: '/srv/backups/mariadb'},
  },
})
const node = (name: string) => inventory.nodes.find((n) => n.name === name)!
const names = (nodeName: string, wanted: OptionalFact[]) => hostFactParts(node(nodeName), inventory, new Set(wanted)).map((p) => p.name)
const timing = {sentAt: 1000, receivedAt: 1200}

describe('host facts: what one command per host reads', () => {
  it.each([
    {node: 'm1', wanted: [], parts: ['uname', 'df', 'meminfo']},
    {node: 'm1', wanted: ['clock'], parts: ['clock.start', 'uname', 'df', 'meminfo', 'clock.end']},
    {node: 'm1', wanted: ['clock', 'docker', 'ports', 'backups'], parts: ['clock.start', 'uname', 'df', 'meminfo', 'docker', 'ports', 'clock.end']},
    // not a Swarm node: no engine, no ports; the backup node: its newest backup
    {node: 'db1', wanted: ['clock', 'docker', 'ports', 'backups'], parts: ['clock.start', 'uname', 'df', 'meminfo', 'backups.mariadb', 'clock.end']},
    {node: 'db1', wanted: ['docker', 'ports'], parts: ['uname', 'df', 'meminfo']},
  ] as const)('$node with $wanted: $parts', ({node: n, wanted, parts}) => {
    expect(names(n, [...wanted])).toEqual(parts)
  })

  it('gathers what the selected checks name, and nothing for kernel, disk and memory alone', () => {
    expect([...wantedFacts(allChecks)].sort()).toEqual(['backups', 'clock', 'docker', 'ports'])
    expect([...wantedFacts(allChecks.filter((c) => ['ssh', 'disk-free', 'memory'].includes(c.id)))]).toEqual([])
  })

  it('reads the clock first and last, starts the slow parts at once in the background, runs the quick ones in place, each in its own subshell with stdin closed, values quoted', () => {
    const parts = hostFactParts(node('m1'), inventory, new Set(['clock', 'docker']))
    expect(hostFactsScript(parts).script.split('\n')).toEqual([
      '(date +%s%N',
      ') </dev/null 2>&1; echo "__ctl_fact_exit=$?"',
      'd=$(mktemp -d) || exit 1',
      `trap 'rm -rf "$d"' EXIT`,
      "{ (docker -H unix:///var/run/docker.sock version --format '{{.Server.Version}}'",
      ') </dev/null >"$d/0" 2>&1; echo $? >"$d/0.rc"; } &',
      '(uname -sr',
      ') </dev/null 2>&1; echo "__ctl_fact_exit=$?"',
      "(df -Pk -- '/var/lib docker'",
      ') </dev/null 2>&1; echo "__ctl_fact_exit=$?"',
      '(cat /proc/meminfo',
      ') </dev/null 2>&1; echo "__ctl_fact_exit=$?"',
      'wait; cat "$d/0"; echo "__ctl_fact_exit=$(cat "$d/0.rc")"',
      '(date +%s%N',
      ') </dev/null 2>&1; echo "__ctl_fact_exit=$?"',
    ])
  })

  it("starts no other process than the parts' own when none is slow (the SSH-level checks): no temporary directory", () => {
    const script = hostFactsScript(hostFactParts(node('db1'), inventory, new Set(['clock']))).script
    expect(script).not.toMatch(/mktemp|&$|wait|\$d\//m)
    expect(script.split('\n').filter((line) => line.startsWith('('))).toEqual([
      '(date +%s%N',
      '(uname -sr',
      "(df -Pk -- '/var/lib docker'",
      '(cat /proc/meminfo',
      '(date +%s%N',
    ])
  })

  it('takes as long as its slowest slow part, not their sum, and keeps the order and exit codes of quick and slow parts (sh)', () => {
    const parts = [
      {name: 'uname', script: 'sleep 0.5; echo one', slow: true},
      {name: 'df', script: 'echo two; exit 3'},
      {name: 'meminfo', script: 'sleep 0.5; printf three', slow: true},
      {name: 'docker', script: 'sleep 0.5; echo four; exit 1', slow: true},
    ]
    const started = Date.now()
    const out = execFileSync('sh', ['-c', hostFactsScript(parts).script], {encoding: 'utf8'})
    expect(Date.now() - started).toBeLessThan(1200)
    expect(parseHostFacts('h1', parts, out, timing)).toMatchObject({
      uname: {code: 0, output: 'one'},
      df: {code: 3, output: 'two'},
      meminfo: {code: 0, output: 'three'},
      docker: {code: 1, output: 'four'},
    })
  })

  it('splits the answer back, keeping a failed part with its code, and marks parts after a cut-off answer', () => {
    const parts = hostFactParts(node('db1'), inventory, new Set(['clock', 'backups']))
    const out = [
      '1700000000100000000',
      '__ctl_fact_exit=0',
      'Linux 6.1.0',
      '__ctl_fact_exit=0',
      'df: /nope: No such file or directory',
      '__ctl_fact_exit=1',
      'MemTotal: 1 kB',
      'MemAvailable: 1 kB',
      '__ctl_fact_exit=0',
      '1700000000',
      'nodir\tmariadb\t/srv/backups/mariadb',
      '__ctl_fact_exit=0',
    ].join('\n')
    expect(parseHostFacts('db1', parts, out, timing)).toEqual({
      node: 'db1',
      uname: {code: 0, output: 'Linux 6.1.0'},
      df: {code: 1, output: 'df: /nope: No such file or directory'},
      meminfo: {code: 0, output: 'MemTotal: 1 kB\nMemAvailable: 1 kB'},
      // the last clock reading never came: clock-skew says it cannot run rather than judging half a reading
      clock: {start: {code: 0, output: '1700000000100000000'}, end: {code: -1, output: ''}, ...timing},
      backups: {mariadb: {code: 0, output: '1700000000\nnodir\tmariadb\t/srv/backups/mariadb'}},
    })
  })

  it('reads the facts of this machine with the script as a host runs it (sh), clock first and last', () => {
    const local = {...inventory, limits: {...inventory.limits, diskPath: '/'}}
    const parts = hostFactParts(node('db1'), local, new Set(['clock', 'backups']))
    const sentAt = Date.now()
    const out = execFileSync('sh', ['-c', hostFactsScript(parts).script], {encoding: 'utf8'})
    const facts = parseHostFacts('db1', parts, out, {sentAt, receivedAt: Date.now()})
    expect(facts.uname).toMatchObject({code: 0, output: expect.stringMatching(/^Linux /)})
    expect(facts.df).toMatchObject({code: 0, output: expect.stringMatching(/^Filesystem/)})
    expect(facts.meminfo.output).toMatch(/^MemTotal:/)
    expect(facts.backups.mariadb).toMatchObject({code: 0, output: expect.stringMatching(/^\d+\nnodir\tmariadb\t\/srv\/backups\/mariadb$/)})
    const [start, end] = [facts.clock!.start.output, facts.clock!.end.output].map((ns) => Number(BigInt(ns) / 1_000_000n))
    expect(start).toBeGreaterThanOrEqual(sentAt - 5)
    expect(end).toBeGreaterThanOrEqual(start!)
  })
})
