import {execFileSync, spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {existsSync, mkdtempSync, writeFileSync} from 'node:fs'
import {createServer, type Server, type Socket} from 'node:net'
import {tmpdir} from 'node:os'
import {delimiter, join} from 'node:path'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import {projectRoot} from '../../support/cli.js'

/** A Node older than 22 on PATH (outside node_modules): under it, bin/run.js re-runs itself under Node 22. */
function findOlderNode(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const node = join(dir, 'node')
    if (!dir || dir.includes('node_modules') || !existsSync(node)) continue
    const major = Number(execFileSync(node, ['-p', 'process.versions.node'], {encoding: 'utf8'}).split('.')[0])
    if (major < 22) return node
  }
  return undefined
}

const olderNode = findOlderNode()
const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
const waitFor = async (what: string, condition: () => boolean, ms = 8000) => {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}
/** Runs `bin/run.js` with `node`; with the older Node, as `/usr/bin/env node bin/run.js` does on such a machine. */
const startCtl = (node: string, args: string[], env: Record<string, string> = {}) =>
  spawn(node, [join(projectRoot, 'bin', 'run.js'), ...args], {
    cwd: projectRoot,
    env: {...process.env, CTL_NONINTERACTIVE: '1', ...env},
    stdio: ['ignore', 'pipe', 'pipe'],
  })
const exited = (child: ChildProcess) =>
  new Promise<{code: number | null; signal: NodeJS.Signals | null; output: string}>((resolve) => {
    let output = ''
    child.stdout?.on('data', (d) => (output += String(d)))
    child.stderr?.on('data', (d) => (output += String(d)))
    child.on('exit', (code, signal) => resolve({code, signal, output}))
  })

// Where the system Node is older than 22, bin/run.js starts ctl again under node_modules/.bin/node:
// that second process is ctl, so signals sent to the wrapper must reach it and its outcome must be
// the wrapper's. Runs only where such an older Node exists (e.g. a distribution's Node 20).
describe.runIf(olderNode)('bin/run.js under an older Node', () => {
  let work: string
  let silent: Server
  const connections: Socket[] = []
  const started: number[] = []
  let hangingInventory: string

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'ctl-wrapper-'))
    // An "SSH server" that accepts and never speaks: `ctl exec` waits in the handshake until its connect timeout.
    silent = createServer((socket) => {
      connections.push(socket)
      // Reads and drops what ctl sends, so its closing the connection is seen.
      socket.resume().on('error', () => undefined)
    })
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const port = (silent.address() as {port: number}).port
    hangingInventory = join(work, 'hanging.yml')
    writeFileSync(
      hangingInventory,
      `name: hanging\nssh: {user: root, knownHosts: ${join(work, 'known_hosts')}, connectTimeoutMs: 60000}\nnodes:\n  - {name: one, address: 127.0.0.1, ssh: {port: ${port}}}\n`,
    )
  })
  afterAll(() => {
    for (const socket of connections) socket.destroy()
    silent?.close()
  })
  afterEach(() => {
    // The old wrapper left ctl running: do not leave it behind when this test fails.
    for (const pid of started.splice(0)) if (isAlive(pid)) process.kill(pid, 'SIGKILL')
  })

  /** Starts a hanging `ctl exec` with `node`, waits until it is connected, sends `signal`, and waits for the end. */
  const interrupt = async (node: string, signal: NodeJS.Signals) => {
    const before = connections.length
    const process_ = startCtl(node, ['exec', hangingInventory, '--', 'true'], {CTL_AUDIT_LOG: join(work, 'audit.log')})
    const outcome = exited(process_)
    started.push(process_.pid!)
    await waitFor('ctl to connect', () => connections.length > before)
    const socket = connections[before]!
    // pgrep exits 1 when there are none.
    const children = spawnSync('pgrep', ['-P', String(process_.pid)], {encoding: 'utf8'})
      .stdout.trim()
      .split('\n')
      .filter(Boolean)
      .map(Number)
    const commandLines = children.map((pid) => execFileSync('ps', ['-o', 'args=', '-p', String(pid)], {encoding: 'utf8'}).trim())
    process_.kill(signal)
    const {code, signal: endedBy} = await outcome
    return {code, endedBy, children, commandLines, socket}
  }
  const ctlNode = join(projectRoot, 'node_modules', '.bin', 'node')

  it.each(['SIGTERM', 'SIGHUP', 'SIGINT'] as const)(
    'passes %s on to ctl and ends as ctl itself does',
    async (signal) => {
      const wrapped = await interrupt(olderNode!, signal)
      // The wrapper had one child, ctl under Node 22, holding the connection; it is gone, and so is its connection.
      expect(wrapped.children).toHaveLength(1)
      expect(wrapped.commandLines[0]).toMatch(new RegExp(`^${ctlNode} \\S+bin/run\\.js exec `))
      const ctlPid = wrapped.children[0]!
      started.push(ctlPid)
      await waitFor('ctl to end', () => !isAlive(ctlPid), 5000)
      await waitFor('the connection to close', () => wrapped.socket.destroyed)
      // The wrapper's outcome is ctl's own, as when Node 22 runs ctl directly (no wrapper).
      const direct = await interrupt(ctlNode, signal)
      expect(direct.children).toEqual([])
      expect({code: wrapped.code, endedBy: wrapped.endedBy}).toEqual({code: direct.code, endedBy: direct.endedBy})
      // ctl dies of SIGTERM and SIGHUP, and so does the wrapper (on SIGINT ctl's progress display exits on its own).
      if (signal !== 'SIGINT') expect(wrapped.endedBy).toBe(signal)
    },
    30_000,
  )

  it("exits with ctl's exit code", async () => {
    const bad = join(work, 'bad.yml')
    writeFileSync(bad, 'name: bad\nnodes: not-a-list\n')
    const invalid = await exited(startCtl(olderNode!, ['inventory', 'validate', bad]))
    expect(invalid.code).toBe(1)
    expect(invalid.output).toMatch(/bad\.yml/)
    const refused = await exited(startCtl(olderNode!, ['exec', hangingInventory]))
    expect(refused.code).toBe(2)
    expect(refused.output).toMatch(/No command given/)
    const ok = await exited(startCtl(olderNode!, ['inventory', 'validate', hangingInventory]))
    expect(ok).toMatchObject({code: 0, signal: null})
  }, 30_000)
})
