import type {LoadedInventory} from '../inventory/load.js'
import {findNode} from '../inventory/load.js'
import type {InventoryService} from '../inventory/schema/index.js'
import {toCtlError} from '../lib/errors.js'
import type {SshPool} from '../ssh/pool.js'
import {evaluateGate, lastAnswers, probeHealth, type GateVerdict, type Probe} from './gate.js'
import {healthUrl} from './health-url.js'

/**
 * The hosts strategy (seed 001: servers behind a load balancer, no Swarm): on each host in turn run
 * the inventory's reload command over SSH, then wait until that host's /health has passed the gate
 * before touching the next. The first host that fails stops the reload; the rest keep running.
 */

export interface HostReload {
  host: string
  outcome: 'reloaded' | 'failed' | 'not-started'
  durationMs?: number
  url?: string
  reason?: string
  lastAnswers?: string[]
}

/** Polls one URL until the gate decides. */
async function gateUrl(
  url: string,
  health: NonNullable<InventoryService['health']>,
): Promise<{verdict: Exclude<GateVerdict, {state: 'pending'}>; probes: Probe[]}> {
  const started = Date.now()
  const probes: Probe[] = []
  for (;;) {
    probes.push(await probeHealth(url, health.timeoutMs))
    const verdict = evaluateGate(probes, started, Date.now(), health)
    if (verdict.state !== 'pending') return {verdict, probes}
    await new Promise((resolve) => setTimeout(resolve, health.intervalMs))
  }
}

export async function reloadHosts(
  pool: SshPool,
  loaded: LoadedInventory,
  service: InventoryService,
  report: (text: string) => void = () => undefined,
): Promise<HostReload[]> {
  const results: HostReload[] = []
  const hosts = service.hosts ?? []
  for (const [i, name] of hosts.entries()) {
    const node = findNode(loaded, name)
    const url = healthUrl(loaded.inventory, service, node.address)
    const started = Date.now()
    report(`${service.name} on ${name}: ${service.reloadCommand!.join(' ')}`)
    try {
      await pool.run(node, service.reloadCommand!, {check: true, step: `reload ${service.name} on ${name}`, timeoutMs: 120_000})
    } catch (error) {
      results.push({host: name, outcome: 'failed', durationMs: Date.now() - started, reason: toCtlError(error).message})
      results.push(...hosts.slice(i + 1).map((h) => ({host: h, outcome: 'not-started' as const})))
      return results
    }
    if (url && service.health) {
      report(`${service.name} on ${name}: waiting for ${url} to stay healthy ${service.health.passForSeconds}s`)
      const {verdict, probes} = await gateUrl(url, service.health)
      if (verdict.state === 'failed') {
        results.push({host: name, outcome: 'failed', durationMs: Date.now() - started, url, reason: verdict.reason, lastAnswers: lastAnswers(probes)})
        results.push(...hosts.slice(i + 1).map((h) => ({host: h, outcome: 'not-started' as const})))
        return results
      }
    }
    results.push({host: name, outcome: 'reloaded', durationMs: Date.now() - started, url})
  }
  return results
}
