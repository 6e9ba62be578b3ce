import {existsSync, mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {dirname} from 'node:path'
import {fileURLToPath} from 'node:url'
import {CtlError, ExitCode, toCtlError} from 'ctl/lib/errors.js'
import {runTasks, withSpinner} from 'ctl/lib/progress.js'
import {labComponents} from './components/index.js'
import {existingLabHosts, removeHost} from './components/hosts.js'
import {registryPaths} from './components/registry-files.js'
import {findMissingPackages, installPackages} from './packages.js'
import {DEFAULT_LAB_HOSTS, knownHostsFile, labHosts, labInventoryPath, labKeyFile, labLinkPattern} from './instance.js'
import {labInventoryYaml} from './lab-inventory.js'
import {withLabLock} from './lock.js'
import {findLeftovers, type LabLeftovers} from './leftovers.js'
import {deleteLink, killAll, linksMatching, removeDir, unmountUnder} from './teardown.js'
import {labBackupHost, type LabComponent, type LabContext, type LabHost, type LabInstance, type LabStatusRow} from './types.js'

/** The checkout the lab runs from (packages/lab/dist/runner.js → ../../..): where inventories/ and .lab/ live. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../..', import.meta.url)).replace(/\/$/, '')

interface ComponentOutcome {
  component: string
  ok: boolean
  skipped?: boolean
  error?: string
  hint?: string
}

/**
 * The components one `up` works on: all of them in start order, only those named by `--only`, and
 * for sshd-only hosts (`--no-docker`) just the hosts themselves.
 */
export function selectComponents(all: readonly LabComponent[], options: {only?: readonly string[]; docker: boolean}): LabComponent[] {
  const unknown = (options.only ?? []).filter((name) => !all.some((c) => c.name === name))
  if (unknown.length > 0) {
    throw new CtlError(`No lab component named ${unknown.join(', ')}`, {
      exitCode: ExitCode.cannotRun,
      code: 'lab.component',
      hint: `Components: ${all.map((c) => c.name).join(', ')}`,
    })
  }
  let chosen = options.only && options.only.length > 0 ? all.filter((c) => options.only!.includes(c.name)) : [...all]
  if (!options.docker) chosen = chosen.filter((c) => c.name === 'hosts')
  return chosen
}

export function labContext(instance: LabInstance, hosts: LabHost[], log: (text: string) => void = () => undefined): LabContext {
  return {hosts, projectRoot: PROJECT_ROOT, log, instance}
}

/** Runs one step per component, in order; a failure is recorded and the next component still runs. */
async function runComponents(
  components: readonly LabComponent[],
  step: (component: LabComponent, ctx: LabContext) => Promise<void>,
  base: LabContext,
  options: {stopAfterHostsFail: boolean},
): Promise<ComponentOutcome[]> {
  let hostsFailed = false
  const outcomes = await runTasks(
    components.map((c) => ({key: c.name, title: c.name, component: c})),
    async (item, report) => {
      if (hostsFailed && options.stopAfterHostsFail) throw new CtlError('skipped: the lab hosts are not up', {code: 'lab.skipped'})
      try {
        await step(item.component, {...base, log: (text) => report.status(text)})
      } catch (error) {
        if (item.component.name === 'hosts') hostsFailed = true
        throw error
      }
    },
    {concurrency: 1},
  )
  return components.map((c) => {
    const outcome = outcomes.get(c.name)
    if (!outcome || outcome.ok) return {component: c.name, ok: true}
    return {component: c.name, ok: false, skipped: outcome.error.code === 'lab.skipped' || undefined, error: outcome.error.describe(), hint: outcome.error.hint}
  })
}

export interface LabUpResult {
  instance: string
  hosts: Array<{name: string; address: string; netns: string}>
  inventory: string
  inventoryGenerated: boolean
  packagesInstalled: string[]
  components: ComponentOutcome[]
  durationMs: number
}

export async function upLab(instance: LabInstance, options: {hosts: number; docker: boolean; only?: string[]}): Promise<LabUpResult> {
  return withLabLock(instance, 'lab up', () => upLabLocked(instance, options))
}

async function upLabLocked(instance: LabInstance, options: {hosts: number; docker: boolean; only?: string[]}): Promise<LabUpResult> {
  const started = Date.now()
  const hosts = labHosts(options.hosts, instance)
  const components = selectComponents(labComponents, options)
  const missing = await findMissingPackages(components.flatMap((c) => c.packages))
  if (missing.length > 0) await withSpinner(`Installing Debian packages: ${missing.join(' ')}`, () => installPackages(missing))
  const ctx = labContext(instance, hosts)
  const outcomes = await runComponents(components, (c, stepCtx) => c.up(stepCtx), ctx, {stopAfterHostsFail: true})
  if (existsSync(instance.stateDir)) writeFileSync(labRecordFile(instance), `${JSON.stringify({hosts: options.hosts, docker: options.docker})}\n`)
  const inventory = labInventoryPath(PROJECT_ROOT, instance, options.hosts)
  if (inventory.generated) {
    mkdirSync(dirname(inventory.path), {recursive: true})
    writeFileSync(
      inventory.path,
      labInventoryYaml({
        name: instance.inventoryName,
        file: inventory.path,
        keyFile: labKeyFile(PROJECT_ROOT),
        knownHostsFile: knownHostsFile(PROJECT_ROOT, instance),
        hosts,
        docker: options.docker,
      }),
    )
  }
  return {
    instance: instance.prefix,
    hosts: hosts.map((h) => ({name: h.name, address: h.address, netns: h.netns})),
    inventory: inventory.path,
    inventoryGenerated: inventory.generated,
    packagesInstalled: missing,
    components: outcomes,
    durationMs: Date.now() - started,
  }
}

/** Where `up` records how many hosts the lab should have, so status sees a host that vanished. */
function labRecordFile(instance: LabInstance): string {
  return `${instance.stateDir}/lab.json`
}

function recordedHostCount(instance: LabInstance): number | undefined {
  try {
    const count = (JSON.parse(readFileSync(labRecordFile(instance), 'utf8')) as {hosts?: number}).hosts
    return typeof count === 'number' ? count : undefined
  } catch {
    return undefined
  }
}

/** Hosts the lab should have (from the last `up`) plus any that exist now; the default count when unknown. */
async function currentLabHosts(instance: LabInstance): Promise<LabHost[]> {
  const existing = await existingLabHosts(labContext(instance, []))
  const expected = labHosts(recordedHostCount(instance) ?? (existing.length > 0 ? 1 : DEFAULT_LAB_HOSTS), instance)
  const byName = new Map([...expected, ...existing].map((h) => [h.name, h]))
  // The shared lab's backup host is not one of its hosts: the components that use it add it.
  const backup = labBackupHost({instance, hosts: expected})
  return [...byName.values()].filter((h) => h.name !== backup?.name).sort((a, b) => a.index - b.index)
}

export interface LabDownResult {
  instance: string
  components: ComponentOutcome[]
  leftovers: LabLeftovers
  durationMs: number
}

/** Stops every component in reverse order, then removes whatever of the instance is left. */
export async function downLab(instance: LabInstance): Promise<LabDownResult> {
  return withLabLock(instance, 'lab down', () => downLabLocked(instance))
}

async function downLabLocked(instance: LabInstance): Promise<LabDownResult> {
  const started = Date.now()
  const hosts = await currentLabHosts(instance)
  const ctx = labContext(instance, hosts)
  const outcomes = await runComponents([...labComponents].reverse(), (c, stepCtx) => c.down(stepCtx), ctx, {stopAfterHostsFail: false})
  // The hosts component removed namespaces and links; this sweeps what a failing component left.
  await withSpinner(`Removing what is left of ${instance.prefix}`, async () => {
    for (const host of await existingLabHosts(ctx)) await removeHost(host)
    // Daemons of the lab that live outside its namespaces (e.g. one left in a namespace whose name
    // was deleted) are found by their command lines, which name the lab's directories.
    await killAll((await findLeftovers(instance)).processes.map((p) => p.pid))
    for (const link of await linksMatching(labLinkPattern(instance))) await deleteLink(link)
    await unmountUnder([instance.stateDir, instance.runDir])
    removeDir(instance.stateDir)
    removeDir(instance.runDir)
    removeDir(registryPaths(instance).trustDir)
    rmSync(knownHostsFile(PROJECT_ROOT, instance), {force: true})
  })
  return {instance: instance.prefix, components: outcomes, leftovers: await findLeftovers(instance), durationMs: Date.now() - started}
}

export async function statusLab(instance: LabInstance): Promise<{instance: string; rows: LabStatusRow[]}> {
  const ctx = labContext(instance, await currentLabHosts(instance))
  // Components are asked at once (each only reads); rows keep the components' order.
  const perComponent = await Promise.all(
    labComponents.map(async (component): Promise<LabStatusRow[]> => {
      try {
        return await component.status(ctx)
      } catch (error) {
        return [{component: component.name, ok: false, detail: `status failed: ${toCtlError(error).message}`}]
      }
    }),
  )
  return {instance: instance.prefix, rows: perComponent.flat()}
}

/** Every break scenario the components offer, with the component that owns it. */
export function labBreaks(components: readonly LabComponent[] = labComponents) {
  return components.flatMap((c) => (c.breaks ?? []).map((b) => ({component: c.name, scenario: b})))
}

export async function breakLab(
  instance: LabInstance,
  name: string,
  argument?: string,
): Promise<{instance: string; scenario: string; component: string; message: string}> {
  const found = labBreaks().find((b) => b.scenario.name === name)
  if (!found) {
    throw new CtlError(`No break scenario named "${name}"`, {
      exitCode: ExitCode.cannotRun,
      code: 'lab.break',
      hint: `Scenarios: ${labBreaks()
        .map((b) => b.scenario.name)
        .join(', ')}`,
    })
  }
  if (found.scenario.argument && !argument) {
    throw new CtlError(`${name} needs an argument: ${found.scenario.argument}`, {exitCode: ExitCode.cannotRun, code: 'lab.break'})
  }
  const ctx = labContext(instance, await currentLabHosts(instance))
  const message = await found.scenario.run(ctx, argument)
  return {instance: instance.prefix, scenario: name, component: found.component, message}
}
