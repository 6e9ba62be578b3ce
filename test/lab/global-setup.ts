import {execa} from 'execa'
import {existsSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {withFileLock} from '../../packages/lab/src/lock.js'

// The lab tests' shared setup: builds ctl (and the lab package) when a build is older than its sources, then brings the default lab
// up once (`./bin/run.js lab up`, idempotent) for every lab test. The hosts and their engines must
// come up; another component failing is reported here and left to that component's own tests.

const projectRoot = join(import.meta.dirname, '..', '..')
/** The stage of `npm test` whose setup is done (see setup). */
const SETUP_DONE = '/run/ctl-lab-test-setup.done'

function newestMtime(dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, {withFileTypes: true})) {
    const path = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs)
  }
  return newest
}

function buildIsStale(): boolean {
  const manifest = join(projectRoot, 'oclif.manifest.json')
  const labManifest = join(projectRoot, 'packages', 'lab', 'oclif.manifest.json')
  if (!existsSync(join(projectRoot, 'packages', 'lab', 'dist', 'commands', 'lab', 'up.js')) || !existsSync(manifest) || !existsSync(labManifest)) return true
  const built = Math.min(statSync(manifest).mtimeMs, statSync(labManifest).mtimeMs)
  return Math.max(newestMtime(join(projectRoot, 'src')), newestMtime(join(projectRoot, 'packages', 'lab', 'src'))) > built
}

export default async function setup(): Promise<void> {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) {
    throw new Error('The lab tests need Linux and root (they run the lab: network namespaces, sshd, dockerd).')
  }
  // `npm test` runs the lab's sides as separate vitest processes (scripts/test.mjs), each with this
  // setup: one at a time, or two would build at once or both form the swarm. And once per stage
  // (CTL_LAB_TEST_STAGE, set by scripts/test.mjs): a second `ctl node label` while the other side's
  // tests already run would undo the label drift that test/lab/node-label-drain.test.ts makes.
  const stage = process.env.CTL_LAB_TEST_STAGE
  await withFileLock('/run/ctl-lab-test-setup.lock', "the lab tests' setup", 'lab test setup', async () => {
    if (stage && existsSync(SETUP_DONE) && readFileSync(SETUP_DONE, 'utf8') === stage) return
    await prepareLab()
    if (stage) writeFileSync(SETUP_DONE, stage)
  })
}

async function prepareLab(): Promise<void> {
  if (buildIsStale()) {
    const build = await execa('npm', ['run', 'build'], {cwd: projectRoot, reject: false, all: true})
    if (build.exitCode !== 0) throw new Error(`npm run build failed before the lab tests:\n${String(build.all).slice(-3000)}`)
  }
  const started = Date.now()
  const up = await execa(join(projectRoot, 'bin', 'run.js'), ['lab', 'up', '--json'], {
    cwd: projectRoot,
    reject: false,
    env: {CTL_NONINTERACTIVE: '1'},
    timeout: 15 * 60_000,
  })
  let result: {components?: Array<{component: string; ok: boolean; error?: string}>}
  try {
    result = JSON.parse(String(up.stdout))
  } catch {
    throw new Error(`ctl lab up did not answer with JSON (exit ${up.exitCode}):\n${String(up.stdout).slice(-2000)}\n${String(up.stderr).slice(-2000)}`)
  }
  const failed = (result.components ?? []).filter((c) => !c.ok)
  const essential = failed.filter((c) => c.component === 'hosts' || c.component === 'docker')
  if (essential.length > 0 || !result.components) {
    throw new Error(`ctl lab up failed, lab tests cannot run:\n${failed.map((c) => `${c.component}: ${c.error}`).join('\n') || String(up.stdout)}`)
  }
  for (const c of failed) process.stderr.write(`[lab setup] component ${c.component} failed: ${c.error}\n`)
  process.stderr.write(`[lab setup] lab up in ${((Date.now() - started) / 1000).toFixed(1)} s\n`)
  // The swarm as inventories/lab.yml says (formed and labelled; no-op when it already is), for the
  // deploy and preflight tests. A failure here is left to test/lab/node-*.test.ts to explain.
  for (const args of [
    ['node', 'bootstrap', 'lab', '--yes'],
    ['node', 'label', 'lab', '--yes'],
  ]) {
    const run = await execa(join(projectRoot, 'bin', 'run.js'), args, {
      cwd: projectRoot,
      reject: false,
      env: {CTL_NONINTERACTIVE: '1'},
      timeout: 5 * 60_000,
      all: true,
    })
    if (run.exitCode !== 0) process.stderr.write(`[lab setup] ctl ${args.join(' ')} failed (exit ${run.exitCode}):\n${String(run.all).slice(-1500)}\n`)
  }
}
