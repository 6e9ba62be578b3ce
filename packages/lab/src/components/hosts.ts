import {CtlError, ExitCode} from 'ctl/lib/errors.js'
import {runLocal} from 'ctl/lib/local.js'
import {forEachLimited} from 'ctl/lib/limit.js'
import {labHost, sshHosts, DEFAULT_LAB_INSTANCE, type LabComponent, type LabContext, type LabHost, type LabStatusRow} from '../types.js'
import {ensureNetwork, listNetns, readNetworkFacts} from '../network.js'
import {ensureLabKey, writeKnownHosts} from '../keys.js'
import {hostIndexOfNetns} from '../instance.js'
import {ensureSshd, probeSsh, sharesMachineHome, sshdPaths, sshdPid} from '../sshd.js'
import {cgroupPids, deleteLink, deleteNetns, killAll, netnsPids, removeCgroups, unmountUnder} from '../teardown.js'

/**
 * The lab hosts themselves: bridge, namespaces, veth pairs, addresses and one sshd per host, plus
 * the lab key pair and known_hosts. Every other component runs on top of these.
 */

function instanceOf(ctx: LabContext) {
  return ctx.instance ?? DEFAULT_LAB_INSTANCE
}

/** Hosts of this instance whose namespace exists now (also those beyond ctx.hosts). */
export async function existingLabHosts(ctx: LabContext): Promise<LabHost[]> {
  const instance = instanceOf(ctx)
  const indexes = (await listNetns()).map((ns) => hostIndexOfNetns(ns, instance)).filter((i): i is number => i !== undefined)
  return indexes.sort((a, b) => a - b).map((i) => labHost(i, instance))
}

/** Stops everything in a host's namespace and cgroups, unmounts its dirs, removes namespace and veth. */
export async function removeHost(host: LabHost): Promise<string[]> {
  const leftovers: string[] = []
  const pids = [...new Set([...(await netnsPids(host.netns)), ...cgroupPids(host.netns)])]
  const alive = await killAll(pids)
  if (alive.length > 0) leftovers.push(`${host.name}: processes still alive: ${alive.join(' ')}`)
  removeCgroups(host.netns)
  await unmountUnder([host.stateDir, host.runDir, `/run/netns/${host.netns}`])
  await deleteNetns(host.netns)
  await deleteLink(host.veth)
  return leftovers
}

async function nodeDown(ctx: LabContext, argument?: string): Promise<string> {
  const instance = instanceOf(ctx)
  const host = sshHosts(ctx).find((h) => h.name === argument)
  if (!host) {
    throw new CtlError(`node-down needs a lab host name, not "${argument ?? ''}"`, {
      exitCode: ExitCode.cannotRun,
      hint: `Lab hosts: ${sshHosts(ctx)
        .map((h) => h.name)
        .join(', ')}`,
    })
  }
  // The host keeps running but drops off the network, as if its switch port died.
  await runLocal(['ip', 'link', 'set', host.veth, 'down'], {timeoutMs: 10_000})
  return `${host.name} (${host.address}) is cut off: link ${host.veth} on ${instance.bridge} is down. \`ctl lab up\` repairs it.`
}

export const hostsComponent: LabComponent = {
  name: 'hosts',
  packages: ['iproute2', 'openssh-server', 'openssh-client'],

  async up(ctx) {
    const instance = instanceOf(ctx)
    const hosts = sshHosts(ctx)
    const actions = await ensureNetwork(instance, hosts, ctx.log)
    if (actions.length === 0) ctx.log('network: no changes')
    const publicKey = await ensureLabKey(ctx.projectRoot)
    await forEachLimited(hosts, 8, async (host) => {
      const outcome = await ensureSshd(host, publicKey, ctx.log)
      if (outcome !== 'running') ctx.log(`${host.name}: sshd ${outcome}`)
    })
    const known = new Map([...(await existingLabHosts(ctx)), ...hosts].map((h) => [h.name, h]))
    writeKnownHosts(
      ctx.projectRoot,
      instance,
      [...known.values()].sort((a, b) => a.index - b.index),
    )
  },

  async down(ctx) {
    const instance = instanceOf(ctx)
    const hosts = new Map([...ctx.hosts, ...(await existingLabHosts(ctx))].map((h) => [h.name, h]))
    const leftovers: string[] = []
    await forEachLimited([...hosts.values()], 8, async (host) => {
      ctx.log(`${host.name}: removing ${host.netns}`)
      leftovers.push(...(await removeHost(host)))
    })
    await deleteLink(instance.bridge)
    if (leftovers.length > 0)
      throw new CtlError(`Some lab processes did not stop:\n${leftovers.join('\n')}`, {
        step: 'down',
        hint: 'Look at them with ps -o pid,cmd -p <pid>, then run `ctl lab down` again.',
      })
  },

  async status(ctx) {
    const instance = instanceOf(ctx)
    const hosts = sshHosts(ctx)
    const facts = await readNetworkFacts(instance, hosts)
    const rows: LabStatusRow[] = [
      {
        component: 'hosts',
        ok: facts.bridge.exists && facts.bridge.up,
        detail: facts.bridge.exists
          ? `bridge ${instance.bridge} ${facts.bridge.up ? 'up' : 'DOWN'} ${facts.bridge.addresses.join(' ')}`
          : `bridge ${instance.bridge} missing`,
      },
    ]
    await Promise.all(
      hosts.map(async (host) => {
        const f = facts.hosts[host.name]
        const problems: string[] = []
        if (!f?.netnsExists) problems.push(`namespace ${host.netns} missing`)
        else {
          if (!f.veth.exists) problems.push(`link ${host.veth} missing`)
          else if (!f.veth.up) problems.push(`link ${host.veth} down`)
          if (!f.eth0.addresses.includes(`${host.address}/24`)) problems.push(`eth0 has no ${host.address}`)
        }
        const pid = sshdPid(host)
        if (pid === undefined) problems.push(`sshd not running (pid file ${sshdPaths(host).pidFile})`)
        else if (sharesMachineHome(pid)) problems.push("sshd gives root this machine's home (started by an older ctl; `ctl lab up` restarts it)")
        const answers = problems.length === 0 && (await probeSsh(host.address, 1500))
        if (problems.length === 0 && !answers) problems.push(`no SSH banner on ${host.address}:22`)
        rows.push({
          component: 'hosts',
          host: host.name,
          ok: problems.length === 0,
          detail: problems.length === 0 ? `${host.address} ${host.netns}, sshd ${pid}` : problems.join('; '),
        })
      }),
    )
    return rows.sort((a, b) => (a.host ?? '').localeCompare(b.host ?? '', undefined, {numeric: true}))
  },

  breaks: [
    {
      name: 'node-down',
      summary: 'Cut a host off the lab network (its veth link goes down); it keeps running, `up` reconnects it.',
      argument: 'host name, e.g. h2',
      run: nodeDown,
    },
  ],
}
