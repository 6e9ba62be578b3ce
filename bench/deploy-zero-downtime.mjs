#!/usr/bin/env node
// Benchmark (not a test): zero-downtime rollouts under load. A constant, bounded stream of HTTP
// requests goes through the lab's HAProxy (lab addresses only) while `ctl deploy lab --image app=v2`
// and then `ctl reload lab app` run; then `ctl reload lab legacy` (hosts strategy) under a stream to
// the legacy front. Prints requests sent and failed, and each operation's duration against its lower
// bound: replicas x the time one task took to start and pass its gate (measured by ctl's gate).
//
// Usage: npm run build && node bench/deploy-zero-downtime.mjs [rate=40 req/s] [phases=deploy,reload,legacy]
// Needs the lab (ctl lab up) with its swarm (ctl node bootstrap lab --yes). Leaves app on v1.
import {execFile} from 'node:child_process'
import {promisify} from 'node:util'

const run = promisify(execFile)
const RATE = Number(process.argv[2] ?? 40)
const PHASES = (process.argv[3] ?? 'deploy,reload,legacy').split(',')
const APP_LB = 'http://198.18.0.1:8080/'
const LEGACY_LB = 'http://198.18.0.1:5080/'
const WORKERS = 8

/** A constant, bounded request stream: RATE requests per second, at most WORKERS in flight. */
function startLoad(url) {
  if (!new URL(url).hostname.startsWith('198.18.')) throw new Error('the load goes to lab addresses only')
  const stats = {sent: 0, failed: 0, failures: []}
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
      return stats
    },
  }
}

async function ctl(args) {
  const started = performance.now()
  const {stdout} = await run('./bin/run.js', [...args, '--json'], {env: {...process.env, CTL_NONINTERACTIVE: '1'}, maxBuffer: 1 << 24}).catch((error) => {
    console.error(`ctl ${args.join(' ')} failed:\n${error.stdout}\n${error.stderr}`)
    process.exit(1)
  })
  return {result: JSON.parse(stdout), seconds: (performance.now() - started) / 1000}
}

function report(name, load, seconds, rolloutMs, perTask) {
  const replicas = perTask.length
  const median = [...perTask].sort((a, b) => a - b)[Math.floor(replicas / 2)] ?? 0
  const bound = perTask.reduce((a, b) => a + b, 0)
  console.log(`${name}`)
  console.log(`  requests sent ${load.sent}, failed ${load.failed}${load.failures.length ? ` (${load.failures.slice(0, 5).join('; ')})` : ''}`)
  console.log(`  duration: ctl ${seconds.toFixed(1)} s, rollout ${(rolloutMs / 1000).toFixed(1)} s; lower bound ${bound.toFixed(1)} s = ${replicas} x start+gate (${perTask.map((s) => s.toFixed(1)).join(' + ')} s; median ${median.toFixed(1)} s)`)
}

await ctl(['deploy', 'lab', '--image', 'app=v1', '--skip-preflight']) // baseline, not measured

if (PHASES.includes('deploy')) {
  const load = startLoad(APP_LB)
  const deploy = await ctl(['deploy', 'lab', '--image', 'app=v2', '--skip-preflight'])
  const stats = await load.stop()
  const deployed = deploy.result.services[0]
  report('ctl deploy lab --image app=v2', stats, deploy.seconds, deployed.durationMs, deployed.gates.map((g) => g.secondsToPass ?? 0))
}
if (PHASES.includes('reload')) {
  const load = startLoad(APP_LB)
  const reload = await ctl(['reload', 'lab', 'app'])
  const stats = await load.stop()
  report('ctl reload lab app', stats, reload.seconds, reload.result.swarm.durationMs, reload.result.swarm.gates.map((g) => g.secondsToPass ?? 0))
}
if (PHASES.includes('legacy')) {
  const load = startLoad(LEGACY_LB)
  const legacy = await ctl(['reload', 'lab', 'legacy'])
  const stats = await load.stop()
  report('ctl reload lab legacy (hosts strategy)', stats, legacy.seconds, legacy.result.durationMs, legacy.result.hosts.map((h) => (h.durationMs ?? 0) / 1000))
}

await ctl(['deploy', 'lab', '--image', 'app=v1', '--skip-preflight']) // leave the lab as found
