#!/usr/bin/env node
// Benchmark: one Engine API read (GET /nodes) over the SSH-forwarded socket (src/docker engineApi,
// one SSH channel per request on one pooled connection) against the same read with the docker CLI
// over SSH (`docker -H unix://... node ls`, one exec channel per call). Sequential and 20 at once.
// Also proves channels are closed after each request: N sequential requests on one connection.
//
// Usage: npm run build && node bench/engine-api.mjs [N=200]     (needs the lab: ctl lab up + node bootstrap)
import {engineApi, engineCall, runDockerCli} from '../dist/docker/index.js'
import {findNode, loadInventory} from '../dist/inventory/load.js'
import {SshPool} from '../dist/ssh/pool.js'

const N = Number(process.argv[2] ?? 200)
const loaded = loadInventory('lab')
const pool = new SshPool(loaded)
const h1 = findNode(loaded, 'h1')
const docker = engineApi(pool, h1)

const stats = (ms) => {
  const s = [...ms].sort((a, b) => a - b)
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))].toFixed(1)
  return `median ${q(0.5)} ms, p95 ${q(0.95)} ms, max ${s.at(-1).toFixed(1)} ms (n=${s.length})`
}
async function time(fn) {
  const t = performance.now()
  await fn()
  return performance.now() - t
}
async function sequential(fn, n) {
  const out = []
  for (let i = 0; i < n; i++) out.push(await time(fn))
  return out
}
async function parallel(fn, n, width = 20) {
  const out = []
  for (let i = 0; i < n; i += width) out.push(...(await Promise.all(Array.from({length: Math.min(width, n - i)}, () => time(fn)))))
  return out
}

const api = () => engineCall(h1, 'list swarm nodes', () => docker.listNodes())
const cli = () => runDockerCli(pool, h1, ['node', 'ls', '--format', '{{json .}}'], {check: true})

await api() // connect once, outside the measurements
const wall = performance.now()
console.log(`Engine API over SSH channel, sequential: ${stats(await sequential(api, N))}`)
console.log(`docker CLI over SSH exec,    sequential: ${stats(await sequential(cli, Math.min(N, 50)))}`)
console.log(`Engine API over SSH channel, 20 at once: ${stats(await parallel(api, N))}`)
console.log(`docker CLI over SSH exec,    20 at once: ${stats(await parallel(cli, Math.min(N, 60)))}`)
console.log(`total ${((performance.now() - wall) / 1000).toFixed(1)} s on one SSH connection`)
pool.dispose()
