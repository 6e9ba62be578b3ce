import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {runRunbook} from '../../../src/runbooks/engine.js'
import {galeraRecover} from '../../../src/runbooks/galera-recover.js'
import {parseInventory, type LoadedInventory} from '../../../src/inventory/load.js'
import {renderCommand, type RemoteCommand} from '../../../src/lib/shell.js'
import type {InventoryNode} from '../../../src/inventory/schema/index.js'
import {CtlError} from '../../../src/lib/errors.js'
import type {RemoteResult, RemoteRunner} from '../../../src/ssh/pool.js'

// galera-recover driven through the engine against a small model of three mariadbd members: the
// exact commands it sends, in order, for each kind of breakage (the lab tests run the real thing).

const U = '5f2b7c3e-1a2b-11ef-9a6e-8f1c2d3e4f50'

interface Member {
  running: boolean
  /** Running but outside any Primary component; ignores SIGTERM. */
  stuck?: boolean
  seqno: number
  grastateSeqno: number
  safe: boolean
  /** SSH cannot reach its host. */
  unreachable?: boolean
  /** The next start command fails (then it works). */
  failStart?: boolean
}

/** Answers the commands galera-recover sends the way mariadbd, the control script and the shell would. */
class ModelCluster implements RemoteRunner {
  log: string[] = []
  probes = new Set<string>()
  constructor(public members: Record<string, Member>) {}

  private primarySize(): number {
    return Object.values(this.members).filter((m) => m.running && !m.stuck).length
  }

  async run(node: InventoryNode, command: RemoteCommand): Promise<RemoteResult> {
    const text = renderCommand(command)
    const m = this.members[node.name]!
    if (m.unreachable) throw new CtlError(`ssh: connect to ${node.name}: connection refused`, {code: 'ssh.connect', host: node.name})
    const answer = (code: number, stdout = '', stderr = ''): RemoteResult => ({node: node.name, command: text, code, stdout, stderr, durationMs: 1})
    if (!text.includes('SHOW GLOBAL STATUS') && !text.endsWith(' status')) this.log.push(`${node.name}: ${text}`)
    if (text.endsWith('galera-ctl status')) return answer(m.running ? 0 : 3)
    if (text.includes('SHOW GLOBAL STATUS')) {
      if (!m.running) return answer(1, '', "ERROR 2002 (HY000): Can't connect")
      const primary = !m.stuck
      const rows = [
        `wsrep_cluster_status\t${primary ? 'Primary' : 'non-Primary'}`,
        `wsrep_cluster_size\t${primary ? this.primarySize() : 1}`,
        `wsrep_local_state_comment\t${primary ? 'Synced' : 'Initialized'}`,
        `wsrep_cluster_state_uuid\t${U}`,
        `wsrep_last_committed\t${m.seqno}`,
        'wsrep_ready\tON',
      ]
      return answer(0, rows.join('\n'))
    }
    if (text.includes('grastate.dat 2>/dev/null')) return answer(0, `uuid: ${U}\nseqno: ${m.grastateSeqno}\nsafe_to_bootstrap: ${m.safe ? 1 : 0}\n`)
    if (text.includes('--wsrep-recover')) return answer(0, '', `[Note] WSREP: Recovered position: ${U}:${m.seqno}\n`)
    if (text.startsWith('sed -i')) {
      m.safe = true
      return answer(0)
    }
    if (text.includes('galera-ctl start')) {
      if (m.failStart) {
        m.failStart = false
        return answer(1, '', 'mariadbd exited at once')
      }
      m.running = true
      m.stuck = false
      return answer(0, 'started')
    }
    if (text.endsWith('galera-ctl stop')) {
      if (m.stuck) return answer(1, '', 'still runs after SIGTERM')
      m.running = false
      return answer(0)
    }
    if (text.endsWith('galera-ctl kill')) {
      m.running = false
      m.stuck = false
      return answer(0)
    }
    const token = /verify-[0-9]+-[0-9a-f]+/.exec(text)?.[0]
    if (text.includes('INSERT INTO') && token) {
      this.probes.add(token)
      return answer(0)
    }
    if (text.includes('SELECT id FROM') && token) return answer(0, this.probes.has(token) ? token : '')
    return answer(127, '', `model: unknown command ${text}`)
  }
}

function labInventory(): LoadedInventory {
  const members = ['h1', 'h2', 'h3']
    .map(
      (h) =>
        `      - node: ${h}\n        defaultsFile: /g/${h}/my.cnf\n        datadir: /g/${h}/data\n        socket: /g/${h}/sock\n        control: {kind: commands, start: [/g/${h}/galera-ctl, start], stop: [/g/${h}/galera-ctl, stop], kill: [/g/${h}/galera-ctl, kill], status: [/g/${h}/galera-ctl, status]}`,
    )
    .join('\n')
  const text = `name: model\nnodes:\n  - {name: h1, address: 10.0.0.1}\n  - {name: h2, address: 10.0.0.2}\n  - {name: h3, address: 10.0.0.3}\ndatabases:\n  galera:\n    user: ctl\n    password: file:pw\n    members:\n${members}\n`
  const dir = mkdtempSync(join(tmpdir(), 'ctl-model-'))
  writeFileSync(join(dir, 'pw'), 's3cret-pw\n')
  const {inventory, problems} = parseInventory(text, join(dir, 'model.yml'))
  if (!inventory) throw new Error(JSON.stringify(problems))
  return {env: 'model', file: join(dir, 'model.yml'), inventory}
}

describe('galera-recover against a model cluster', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ctl-galera-run-'))
    process.env.CTL_AUDIT_LOG = join(dir, 'audit.log')
  })
  afterEach(() => {
    delete process.env.CTL_AUDIT_LOG
  })
  const run = (cluster: ModelCluster) =>
    runRunbook(galeraRecover, {loaded: labInventory(), remote: cluster, options: {allowUnreachable: false}, yes: true, journalDir: dir})

  it('after a crash: recovers positions, marks and bootstraps only the most advanced, starts the others with their positions', async () => {
    const crashed = (seqno: number): Member => ({running: false, seqno, grastateSeqno: -1, safe: false})
    const cluster = new ModelCluster({h1: crashed(10), h2: crashed(12), h3: crashed(11)})
    const result = await run(cluster)
    expect(result.outcome, JSON.stringify(result.error)).toBe('ok')
    expect(cluster.log.filter((l) => !l.includes('grastate.dat 2>') && !l.includes('MYSQL_PWD'))).toEqual([
      'h1: mariadbd --defaults-file=/g/h1/my.cnf --wsrep-recover --disable-log-error',
      'h2: mariadbd --defaults-file=/g/h2/my.cnf --wsrep-recover --disable-log-error',
      'h3: mariadbd --defaults-file=/g/h3/my.cnf --wsrep-recover --disable-log-error',
      "h2: sed -i 's/^safe_to_bootstrap:.*$/safe_to_bootstrap: 1/' /g/h2/data/grastate.dat",
      `h2: /g/h2/galera-ctl start --wsrep-new-cluster --wsrep_start_position=${U}:12`,
      `h1: /g/h1/galera-ctl start --wsrep_start_position=${U}:10`,
      `h3: /g/h3/galera-ctl start --wsrep_start_position=${U}:11`,
    ])
    expect(cluster.members.h1!.safe || cluster.members.h3!.safe).toBe(false)
  })

  it('with two members Primary: never bootstraps, only starts the lost one', async () => {
    const cluster = new ModelCluster({
      h1: {running: true, seqno: 40, grastateSeqno: -1, safe: false},
      h2: {running: true, seqno: 40, grastateSeqno: -1, safe: false},
      h3: {running: false, seqno: 35, grastateSeqno: -1, safe: false},
    })
    const result = await run(cluster)
    expect(result.outcome, JSON.stringify(result.error)).toBe('ok')
    expect(result.steps.find((s) => s.id === 'bootstrap')!.status).toBe('skipped')
    const actions = cluster.log.filter((l) => /galera-ctl|sed -i/.test(l))
    expect(actions).toEqual([`h3: /g/h3/galera-ctl start --wsrep_start_position=${U}:35`])
  })

  it('never starts a member ahead of the Primary component, even with --yes, and writes no probe', async () => {
    const cluster = new ModelCluster({
      h1: {running: false, seqno: 45, grastateSeqno: -1, safe: false},
      h2: {running: true, seqno: 40, grastateSeqno: -1, safe: false},
      h3: {running: true, seqno: 40, grastateSeqno: -1, safe: false},
    })
    const result = await run(cluster)
    expect(result.outcome).toBe('refused')
    expect(result.error).toMatchObject({code: 'galera.member-ahead', step: 'decide', exitCode: 2})
    expect(result.error!.message).toContain(`h1 at ${U}:45, the Primary at ${U}:40`)
    expect(cluster.log.filter((l) => /galera-ctl (start|stop|kill)|sed -i/.test(l))).toEqual([])
    expect(cluster.probes.size).toBe(0)
  })

  it('with --allow-unreachable, a resumed run asks again before going on without the unreachable member', async () => {
    const cluster = new ModelCluster({
      h1: {running: false, seqno: 10, grastateSeqno: -1, safe: false, failStart: true},
      h2: {running: false, seqno: 12, grastateSeqno: -1, safe: false},
      h3: {running: false, seqno: 0, grastateSeqno: -1, safe: false, unreachable: true},
    })
    const options = {allowUnreachable: true}
    const first = await runRunbook(galeraRecover, {loaded: labInventory(), remote: cluster, options, yes: true, journalDir: dir})
    expect(first.error).toMatchObject({step: 'rejoin', code: 'galera.start-failed'})
    const logged = cluster.log.length
    process.env.CTL_NONINTERACTIVE = '1'
    try {
      const resumed = await runRunbook(galeraRecover, {loaded: labInventory(), remote: cluster, options, resume: true, journalDir: dir})
      expect(resumed.outcome).toBe('stopped')
      expect(resumed.error).toMatchObject({code: 'prompt.no-terminal', exitCode: 2})
      expect(resumed.error!.message).toContain('Go on WITHOUT h3 (unreachable)?')
      expect(cluster.log.slice(logged).filter((l) => /galera-ctl (start|stop|kill)|sed -i/.test(l))).toEqual([])
    } finally {
      delete process.env.CTL_NONINTERACTIVE
    }
  })

  it('kills a member stuck in non-Primary only after it ignored the stop, then bootstraps', async () => {
    const cluster = new ModelCluster({
      h1: {running: false, seqno: 20, grastateSeqno: -1, safe: false},
      h2: {running: false, seqno: 30, grastateSeqno: -1, safe: false},
      h3: {running: true, stuck: true, seqno: 30, grastateSeqno: -1, safe: false},
    })
    const result = await run(cluster)
    expect(result.outcome, JSON.stringify(result.error)).toBe('ok')
    const actions = cluster.log.filter((l) => /galera-ctl|sed -i/.test(l))
    expect(actions).toEqual([
      'h3: /g/h3/galera-ctl stop',
      'h3: /g/h3/galera-ctl kill',
      "h2: sed -i 's/^safe_to_bootstrap:.*$/safe_to_bootstrap: 1/' /g/h2/data/grastate.dat",
      `h2: /g/h2/galera-ctl start --wsrep-new-cluster --wsrep_start_position=${U}:30`,
      `h1: /g/h1/galera-ctl start --wsrep_start_position=${U}:20`,
      `h3: /g/h3/galera-ctl start --wsrep_start_position=${U}:30`,
    ])
  })

  it('never puts the SQL password in a command, and a dry run starts nothing', async () => {
    const cluster = new ModelCluster({
      h1: {running: false, seqno: 5, grastateSeqno: 5, safe: true},
      h2: {running: false, seqno: 4, grastateSeqno: 4, safe: false},
      h3: {running: false, seqno: 4, grastateSeqno: 4, safe: false},
    })
    const result = await runRunbook(galeraRecover, {loaded: labInventory(), remote: cluster, options: {allowUnreachable: false}, dryRun: true, journalDir: dir})
    expect(result.outcome).toBe('dry-run')
    expect(result.steps.find((s) => s.id === 'bootstrap')!.plan.commands.map((c) => c.command)).toEqual([
      "sed -i 's/^safe_to_bootstrap:.*$/safe_to_bootstrap: 1/' /g/h1/data/grastate.dat",
      `/g/h1/galera-ctl start --wsrep-new-cluster --wsrep_start_position=${U}:5`,
    ])
    expect(cluster.log.some((l) => /galera-ctl (start|stop|kill)|sed -i/.test(l))).toBe(false)
    expect(JSON.stringify(result)).not.toContain('s3cret-pw')
    expect(cluster.log.join('\n')).not.toContain('s3cret-pw')
  })
})
