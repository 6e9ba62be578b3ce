import {spawn} from 'node:child_process'
import {mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {delimiter, join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {Config} from '@oclif/core'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {projectRoot} from '../../support/cli.js'

/**
 * What `./bin/run.js` costs at start (needs `npm run build`): one Node process, and none of the heavy
 * modules that only some commands use. Figures: bench/startup.sh, docs/PERFORMANCE.md.
 */

/** Modules that only the commands using them may load: SSH, the Engine API, prompts, progress, local processes. */
const HEAVY = /\/node_modules\/(dockerode|docker-modem|ssh2|node-ssh|@inquirer\/[^/]+|inquirer|listr2|ora|execa)\//

// Preloaded into every Node process ctl starts (NODE_OPTIONS): on exit it writes which Node it was and
// every module it resolved. Plain JavaScript, so that an older Node (a re-exec's first process) records too.
const RECORDER = `import module from 'node:module'
import {writeFileSync} from 'node:fs'
const loaded = new Set()
module.registerHooks?.({resolve(specifier, context, next) { const found = next(specifier, context); loaded.add(found.url); return found }})
process.on('exit', () => writeFileSync(process.env.CTL_TEST_RECORDS + '/' + process.pid + '.json', JSON.stringify({pid: process.pid, version: process.version, modules: [...loaded]})))
`

interface Recorded {
  pid: number
  version: string
  modules: string[]
}

let work: string
let recorder: string

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'ctl-startup-'))
  recorder = join(work, 'recorder.mjs')
  writeFileSync(recorder, RECORDER)
})
afterAll(() => rmSync(work, {recursive: true, force: true}))

/**
 * Runs `./bin/run.js` as an operator's shell does: PATH without node_modules/.bin, so `node` is the
 * machine's own (Node 20 on some), and returns what every Node process it started recorded.
 */
async function runRecorded(
  args: string[],
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<{pid: number; code: number | null; stdout: string; stderr: string; processes: Recorded[]}> {
  const records = mkdtempSync(join(work, 'run-'))
  const path = (process.env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => !dir.includes('node_modules'))
    .join(delimiter)
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: path,
    NODE_OPTIONS: `--import=${pathToFileURL(recorder).href}`,
    CTL_TEST_RECORDS: records,
    CTL_NONINTERACTIVE: '1',
    ...extraEnv,
  }
  delete env.NODE_ENV
  const child = spawn(join(projectRoot, 'bin', 'run.js'), args, {cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe']})
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += String(d)))
  child.stderr.on('data', (d) => (stderr += String(d)))
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  const processes = readdirSync(records).map((file) => JSON.parse(readFileSync(join(records, file), 'utf8')) as Recorded)
  return {pid: child.pid!, code, stdout, stderr, processes}
}

describe('ctl start-up', () => {
  it('./bin/run.js is itself the one Node 22 process, whatever `node` comes first on PATH', async () => {
    const run = await runRecorded(['--version'])
    expect(run.code).toBe(0)
    expect(run.processes.map((p) => ({pid: p.pid, major: Number(p.version.slice(1).split('.')[0]) >= 22}))).toEqual([{pid: run.pid, major: true}])
  }, 30_000)

  // check list loads every check's module (the registry): dockerode too, were it imported at the top.
  it.each([[['--version']], [['--help']], [['inventory', 'validate', 'lab']], [['check', 'list']]])(
    'ctl %j loads none of the heavy modules',
    async (args) => {
      const run = await runRecorded(args)
      expect(run.code, run.stderr).toBe(0)
      const modules = run.processes.flatMap((p) => p.modules)
      // The recorder saw ctl start: an empty list would prove nothing.
      expect(modules.some((url) => url.endsWith('/bin/run.js'))).toBe(true)
      expect(modules.filter((url) => HEAVY.test(url))).toEqual([])
    },
    30_000,
  )

  it("prints oclif's own version line (its user agent) for --version, which bin/run.js answers without oclif", async () => {
    const run = await runRecorded(['--version'])
    const config = await Config.load(projectRoot)
    expect(run.stdout).toBe(`${config.userAgent}\n`)
    expect(run.processes.flatMap((p) => p.modules).filter((url) => url.includes('/@oclif/'))).toEqual([])
  }, 30_000)

  describe('light commands (src/lib/light.ts): run without oclif, print what oclif prints', () => {
    const isOclif = (url: string) => url.includes('/node_modules/@oclif/')
    let files: string
    beforeAll(() => {
      files = mkdtempSync(join(work, 'inventories-'))
      writeFileSync(join(files, 'invalid.yml'), 'name: broken\nnodes: []\nsshh: {}\n')
      writeFileSync(join(files, 'syntax.yml'), 'name: [unclosed\n')
    })

    // Valid, invalid (schema and YAML syntax), missing, not an env name; each plain and with --json.
    const cases = () => [
      ['inventory', 'validate', 'lab'],
      ['inventory', 'validate', join(files, 'invalid.yml')],
      ['inventory', 'validate', join(files, 'syntax.yml')],
      ['inventory', 'validate', 'no-such-env'],
      ['inventory', 'validate', 'bad..name'],
    ]

    it('inventory validate: the same stdout, stderr and exit code as under oclif (CTL_LIGHT=0), without loading oclif', async () => {
      const codes = new Set<number | null>()
      for (const base of cases()) {
        for (const args of [base, [...base, '--json']]) {
          const light = await runRecorded(args)
          const oclif = await runRecorded(args, {CTL_LIGHT: '0'})
          const lightModules = light.processes.flatMap((p) => p.modules)
          // The light path ran (its plan and no oclif), and the comparison is with oclif itself.
          expect(
            lightModules.some((url) => url.endsWith('/dist/light/plan.cjs')),
            args.join(' '),
          ).toBe(true)
          expect(
            lightModules.filter((url) => isOclif(url) || HEAVY.test(url)),
            args.join(' '),
          ).toEqual([])
          expect(oclif.processes.flatMap((p) => p.modules).some(isOclif)).toBe(true)
          expect({code: light.code, stdout: light.stdout, stderr: light.stderr}, args.join(' ')).toEqual({
            code: oclif.code,
            stdout: oclif.stdout,
            stderr: oclif.stderr,
          })
          codes.add(light.code)
        }
      }
      // The cases reach every exit code: valid 0, invalid 1, cannot run 2.
      expect([...codes].sort()).toEqual([0, 1, 2])
    }, 120_000)

    it.each([
      [['inventory', 'validate']],
      [['inventory', 'validate', 'lab', 'extra']],
      [['inventory', 'validate', 'lab', '--help']],
      [['inventory', 'validate', 'lab', '--nope']],
      [['inventory', 'validate', 'lab', '--json', '--json']],
      [['inventory', 'validate', '--', 'lab']],
    ])(
      'ctl %j is left to oclif (help, usage errors), with its output and exit code',
      async (args) => {
        const run = await runRecorded(args)
        const oclif = await runRecorded(args, {CTL_LIGHT: '0'})
        expect(run.processes.flatMap((p) => p.modules).some(isOclif)).toBe(true)
        expect({code: run.code, stdout: run.stdout, stderr: run.stderr}).toEqual({code: oclif.code, stdout: oclif.stdout, stderr: oclif.stderr})
      },
      30_000,
    )

    it("keeps a code cache of the light command after its first run, in the user's cache directory, and uses it", async () => {
      const cache = mkdtempSync(join(work, 'cache-'))
      const dir = join(cache, 'ctl', 'compile-cache', 'light')
      // An earlier build's cache, which the new one replaces.
      mkdirSync(dir, {recursive: true})
      writeFileSync(join(dir, 'inventory-validate.0000000000000000.cjs-v22.0.0-x64.v8'), 'stale')
      const first = await runRecorded(['inventory', 'validate', 'lab'], {XDG_CACHE_HOME: cache})
      const written = readdirSync(dir)
      expect(written).toEqual([expect.stringMatching(/^inventory-validate\.[0-9a-f]{16}\.cjs-v22\.[0-9.]+-[a-z0-9]+\.v8$/)])
      const before = statSync(join(dir, written[0])).mtimeMs
      const second = await runRecorded(['inventory', 'validate', 'lab'], {XDG_CACHE_HOME: cache})
      expect(second.stdout).toBe(first.stdout)
      // Accepted, so not written again.
      expect(statSync(join(dir, written[0])).mtimeMs).toBe(before)
      expect(readdirSync(dir)).toEqual(written)
    }, 30_000)
  })
})
