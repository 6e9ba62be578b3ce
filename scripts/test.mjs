// `npm test`: the test projects of vitest.config.ts in separate vitest processes, so the lab's two
// sides really run side by side. One vitest process runs its files on availableParallelism - 1
// workers: one on a 2-core machine, where projects of one run can never overlap.
// Stage 1: `lab-swarm` in one process, `unit` then `lab-data` in another (the lab sides use parts of the
// shared lab that do not touch each other). Stage 2: `lab-whole` (it breaks what both sides use) alone.
// Every stage runs even when one before it failed; the exit code is the first failure's.
// With arguments (`npm test -- test/unit/foo.test.ts`) it is one plain `vitest run` with them.
import {spawn} from 'node:child_process'
import {createInterface} from 'node:readline'

const STAGES = [[['lab-swarm'], ['unit', 'lab-data']], [['lab-whole']]]
const vitest = new URL('../node_modules/vitest/vitest.mjs', import.meta.url).pathname

/** One vitest process; with a label, each line of its output is prefixed with it. */
function run(args, label, env = process.env) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [vitest, 'run', ...args], {stdio: label ? ['ignore', 'pipe', 'pipe'] : 'inherit', env})
    if (label) {
      for (const [stream, out] of [
        [child.stdout, process.stdout],
        [child.stderr, process.stderr],
      ])
        createInterface({input: stream}).on('line', (line) => out.write(`[${label}] ${line}\n`))
    }
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)))
  })
}

const extra = process.argv.slice(2)
if (extra.length > 0) process.exit(await run(extra))

let exitCode = 0
for (const [index, stage] of STAGES.entries()) {
  const started = Date.now()
  // The processes of one stage share the lab's setup: the first one does it (test/lab/global-setup.ts).
  const env = {...process.env, CTL_LAB_TEST_STAGE: `${process.pid}-${started}-${index}`}
  const codes = await Promise.all(
    stage.map((projects) =>
      run(
        projects.flatMap((p) => ['--project', p]),
        projects.join('+'),
        env,
      ),
    ),
  )
  const seconds = ((Date.now() - started) / 1000).toFixed(0)
  process.stdout.write(`[test] ${stage.map((p) => p.join('+')).join(' | ')}: exit ${codes.join(', ')} in ${seconds} s\n`)
  exitCode ||= codes.find((code) => code !== 0) ?? 0
}
process.exit(exitCode)
