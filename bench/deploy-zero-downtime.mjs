#!/usr/bin/env node
// Benchmark (not a test): zero-downtime rollouts under load. A constant, bounded stream of HTTP
// requests goes through the lab's HAProxy (lab addresses only) while ctl deploys each kind of release
// the lab can play over v1: a good one (v2), and the bad ones the /health gate must stop (broken:
// failing from the start; flaky: failing every other second; fail-after: failing 7 s after starting, after its gate passed;
// exit: the server exits 5 s after starting), and slow (good, healthy after 12 s). Then `ctl reload
// lab app` and `ctl reload lab legacy` (hosts strategy). For each: requests sent and failed, the
// outcome, the time to ctl's decision and to a clean rollback; for good releases the rollout time
// against its lower bound (replicas x the time one task took to start and pass its gate).
//
// Usage: npm run build && node bench/deploy-zero-downtime.mjs [rate=600 req/s] [phases=good,broken,flaky,fail-after,exit,slow,reload,legacy] [connections=12]
// Needs the lab (ctl lab up) with its swarm (ctl node bootstrap lab --yes). Leaves app on v1.
import {execFile} from 'node:child_process'
import {promisify} from 'node:util'

const run = promisify(execFile)
const RATE = Number(process.argv[2] ?? 600)
const PHASES = (process.argv[3] ?? 'good,broken,flaky,fail-after,exit,slow,reload,legacy').split(',')
const APP_LB = 'http://198.18.0.1:8080/'
const LEGACY_LB = 'http://198.18.0.1:5080/'
const WORKERS = Number(process.argv[4] ?? 12)

/** A constant, bounded request stream: RATE requests per second, at most WORKERS in flight. */
function startLoad(url) {
  if (!new URL(url).hostname.startsWith('198.18.')) throw new Error('the load goes to lab addresses only')
  const stats = {sent: 0, failed: 0, failures: [], startedAt: performance.now(), seconds: 0}
  let stopped = false
  let next = performance.now()
  let inFlight = 0
  const tick = async () => {
    while (!stopped) {
      next += 1000 / RATE
      const wait = next - performance.now()
      if (wait > 0) await new Promise((r) => setTimeout(r, wait))
      if (inFlight >= WORKERS) continue // bounded: never pile up more than WORKERS requests
      inFlight++
      stats.sent++
      const at = new Date().toISOString()
      fetch(url, {signal: AbortSignal.timeout(5000)})
        .then(async (res) => {
          await res.text()
          if (res.status !== 200) {
            stats.failed++
            stats.failures.push(`${at} HTTP ${res.status}`)
          }
        })
        .catch((error) => {
          stats.failed++
          stats.failures.push(`${at} ${error.cause?.code ?? error.name}`)
        })
        .finally(() => inFlight--)
    }
  }
  const done = tick()
  return {
    stats,
    async stop() {
      stopped = true
      await done
      while (inFlight > 0) await new Promise((r) => setTimeout(r, 50))
      stats.seconds = (performance.now() - stats.startedAt) / 1000
      return stats
    },
  }
}

async function ctl(args) {
  const started = performance.now()
  const {stdout} = await run('./bin/run.js', [...args, '--json'], {env: {...process.env, CTL_NONINTERACTIVE: '1'}, maxBuffer: 1 << 24}).catch((error) => {
    // A bad release ends with exit 1 and its result on stdout; anything else stops the bench.
    if (error.code === 1 && error.stdout) return error
    console.error(`ctl ${args.join(' ')} failed:\n${error.stdout}\n${error.stderr}`)
    process.exit(1)
  })
  return {result: JSON.parse(stdout), seconds: (performance.now() - started) / 1000}
}

const docker = (...args) => run('docker', ['-H', 'unix:///run/ctl-lab/h1/docker.sock', ...args]).then((r) => r.stdout.trim())

/** Where the app stands after a phase: its image, its running tasks, Swarm's update state. */
async function serviceState() {
  const [image, status] = (
    await docker('service', 'inspect', '--format', '{{.Spec.TaskTemplate.ContainerSpec.Image}} {{json .UpdateStatus}}', 'app_app')
  ).split(' ')
  const tasks = (await docker('service', 'ps', '--filter', 'desired-state=running', '--format', '{{.Image}} {{.CurrentState}}', 'app_app'))
    .split('\n')
    .filter(Boolean)
  const state = status === 'null' ? 'clean' : JSON.parse(status).State
  return {image, tasks, clean: state === 'clean' || state === 'completed', state}
}

function loadLine(load) {
  const pct = load.sent ? ((100 * load.failed) / load.sent).toFixed(3) : '0'
  return `  requests sent ${load.sent} (${(load.sent / load.seconds).toFixed(0)}/s, ${WORKERS} connections), failed ${load.failed} (${pct}%)${load.failures.length ? ` (${load.failures.slice(0, 5).join('; ')})` : ''}`
}

function report(name, load, seconds, rolloutMs, perTask) {
  const replicas = perTask.length
  const median = [...perTask].sort((a, b) => a - b)[Math.floor(replicas / 2)] ?? 0
  const bound = perTask.reduce((a, b) => a + b, 0)
  console.log(`${name}`)
  console.log(loadLine(load))
  console.log(
    `  duration: ctl ${seconds.toFixed(1)} s, rollout ${(rolloutMs / 1000).toFixed(1)} s; lower bound ${bound.toFixed(1)} s = ${replicas} x start+gate (${perTask.map((s) => s.toFixed(1)).join(' + ')} s; median ${median.toFixed(1)} s); ratio ${bound ? (rolloutMs / 1000 / bound).toFixed(2) : '-'}`,
  )
}

await ctl(['deploy', 'lab', '--image', 'app=v1', '--skip-preflight']) // baseline, not measured

const RELEASES = {good: 'v2', broken: 'broken', flaky: 'flaky', 'fail-after': 'fail-after', exit: 'exit', slow: 'slow'}
for (const [phase, tag] of Object.entries(RELEASES)) {
  if (!PHASES.includes(phase)) continue
  const load = startLoad(APP_LB)
  const deploy = await ctl(['deploy', 'lab', '--image', `app=${tag}`, '--skip-preflight'])
  const stats = await load.stop()
  const s = deploy.result.services[0]
  const after = await serviceState()
  console.log(`${phase}: ctl deploy lab --image app=${tag} → ${deploy.result.outcome}`)
  console.log(loadLine(stats))
  if (s.outcome === 'updated') {
    const perTask = s.gates.map((g) => g.secondsToPass ?? 0)
    const bound = perTask.reduce((a, b) => a + b, 0)
    console.log(
      `  rollout ${(s.durationMs / 1000).toFixed(1)} s; lower bound ${bound.toFixed(1)} s = ${perTask.length} x start+gate (${perTask.map((x) => x.toFixed(1)).join(' + ')} s); ratio ${(s.durationMs / 1000 / bound).toFixed(2)}`,
    )
  } else {
    console.log(
      `  decision after ${((s.decidedAfterMs ?? 0) / 1000).toFixed(1)} s (${s.reason}); clean rollback ${((s.durationMs - (s.decidedAfterMs ?? 0)) / 1000).toFixed(1)} s later`,
    )
  }
  console.log(`  after: ${after.image}, tasks [${after.tasks.join(', ')}], update state ${after.state}${after.clean ? ' (clean)' : ' (NOT clean)'}`)
  if (deploy.result.outcome === 'ok' && tag !== 'v1') await ctl(['deploy', 'lab', '--image', 'app=v1', '--skip-preflight']) // next phase starts from v1
}
if (PHASES.includes('reload')) {
  const load = startLoad(APP_LB)
  const reload = await ctl(['reload', 'lab', 'app'])
  const stats = await load.stop()
  report(
    'ctl reload lab app',
    stats,
    reload.seconds,
    reload.result.swarm.durationMs,
    reload.result.swarm.gates.map((g) => g.secondsToPass ?? 0),
  )
}
if (PHASES.includes('legacy')) {
  const load = startLoad(LEGACY_LB)
  const legacy = await ctl(['reload', 'lab', 'legacy'])
  const stats = await load.stop()
  report(
    'ctl reload lab legacy (hosts strategy)',
    stats,
    legacy.seconds,
    legacy.result.durationMs,
    legacy.result.hosts.map((h) => (h.durationMs ?? 0) / 1000),
  )
}

await ctl(['deploy', 'lab', '--image', 'app=v1', '--skip-preflight']) // leave the lab as found
