import {mkdirSync, rmSync, writeFileSync} from 'node:fs'
import {posix} from 'node:path'
import {forEachLimited} from 'ctl/lib/limit.js'
import {asHostDaemonWithBinds, processCommandLine, runningDaemon, startDetached, stopProcess, waitFor} from '../daemon.js'
import {isDefaultLab, sshHosts, type LabComponent, type LabContext, type LabHost} from '../types.js'

/**
 * Debian's cron on each lab host (the lab has no systemd: cron runs like the other daemons), so
 * `ctl backup schedule` installs a real schedule that really fires. Each host's cron runs in a mount
 * namespace of its own where /etc/cron.d is the host's directory (inventories/lab.yml:
 * backups.cronDir), /etc/crontab an empty file (not this machine's hourly jobs) and /run its own
 * (cron's pid file) but for the lab's run directory (the databases' sockets, which scheduled jobs
 * use), so the hosts' schedules never mix although they share one filesystem.
 */

function cronLabPaths(host: LabHost) {
  const dir = `${host.stateDir}/cron`
  const labRun = posix.dirname(host.runDir)
  return {
    dir,
    cronD: `${dir}/cron.d`,
    crontab: `${dir}/crontab`,
    log: `${dir}/cron.log`,
    run: `${host.runDir}/cron`,
    pidFile: `${host.runDir}/cron/crond.pid`,
    /** The lab's run directory (database sockets), held here while /run is replaced, then bound back at its path. */
    labRun,
    labRunHeld: `${dir}/lab-run`,
    labRunMountPoint: `${host.runDir}/cron/${posix.basename(labRun)}`,
  }
}

/** `cron -f` in the host's network namespace, with its own /etc/cron.d, /etc/crontab and /run. */
function cronCommand(host: LabHost): string[] {
  const p = cronLabPaths(host)
  return asHostDaemonWithBinds(
    host,
    [
      [p.cronD, '/etc/cron.d'],
      [p.crontab, '/etc/crontab'],
      // A job must still reach the host's daemons' sockets under the lab's run directory (/run/ctl-lab/...).
      [p.labRun, p.labRunHeld],
      [p.run, '/run'],
      [p.labRunHeld, p.labRun],
    ],
    ['cron', '-f'],
  )
}

const running = (host: LabHost) => runningDaemon(cronLabPaths(host).pidFile, 'cron', host.netns)

async function up(ctx: LabContext): Promise<void> {
  if (!isDefaultLab(ctx)) return
  // The backup host too: a schedule runs on the backup node, the replica's when backups come from it.
  await forEachLimited(sshHosts(ctx), 8, async (host) => {
    const p = cronLabPaths(host)
    for (const dir of [p.dir, p.cronD, p.run, p.labRunHeld, p.labRunMountPoint]) mkdirSync(dir, {recursive: true, mode: 0o755})
    writeFileSync(p.crontab, '# The lab host has no system crontab of its own; ctl writes to cron.d.\n', {mode: 0o644})
    const pid = running(host)
    // A cron started with other mounts (an older lab) is started again.
    if (pid !== undefined && processCommandLine(pid) === cronCommand(host).join(' ')) return
    if (pid !== undefined) await stopProcess(pid, 5000)
    startDetached(cronCommand(host), p.log)
    if (!(await waitFor(() => running(host) !== undefined, 10_000, 100))) throw new Error(`cron did not start on ${host.name}; see ${p.log}`)
    ctx.log(`${host.name}: cron started`)
  })
}

async function down(ctx: LabContext): Promise<void> {
  await forEachLimited(sshHosts(ctx), 8, async (host) => {
    const pid = running(host)
    if (pid !== undefined) await stopProcess(pid, 5000)
    rmSync(cronLabPaths(host).dir, {recursive: true, force: true})
    rmSync(cronLabPaths(host).run, {recursive: true, force: true})
  })
}

export const cronComponent: LabComponent = {
  name: 'cron',
  packages: ['cron', 'util-linux'],
  up,
  down,
  async status(ctx) {
    if (!isDefaultLab(ctx)) return []
    return sshHosts(ctx).map((host) => {
      const pid = running(host)
      return {
        component: 'cron',
        host: host.name,
        ok: pid !== undefined,
        detail: pid === undefined ? 'cron not running' : `cron ${pid}, schedules in ${cronLabPaths(host).cronD}`,
      }
    })
  },
}
