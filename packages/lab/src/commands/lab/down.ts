import {rmSync} from 'node:fs'
import {Flags} from '@oclif/core'
import {CtlCommand, changeFlags} from 'ctl/lib/command.js'
import {requireConfirmation} from 'ctl/lib/prompt.js'
import {offsitePaths} from '../../components/offsite.js'
import {labInstance} from '../../instance.js'
import {requireLabPlatform} from '../../platform.js'
import {findLeftovers, leftoversCount, type LabLeftovers} from '../../leftovers.js'
import {downLab, PROJECT_ROOT, type LabDownResult} from '../../runner.js'

export default class LabDown extends CtlCommand {
  static override summary = 'Remove the lab: stop every component, then delete its namespaces, links, mounts and directories.'
  static override description =
    'Only things carrying the lab prefix are touched (namespaces ctl-lab-h<i>, bridge ctllab0 and its veths, /var/lib/ctl-lab, /run/ctl-lab). The lab key pair in .lab/ is kept; the offsite S3 storage (.lab/offsite-s3) too with --keep-offsite, to rehearse a restore after losing the whole cluster (bench/offsite-recovery.sh). Afterwards it checks that nothing is left and fails if something is.'
  static override examples = ['<%= config.bin %> lab down --yes', 'CTL_LAB_INSTANCE=2 <%= config.bin %> lab down --yes', '<%= config.bin %> lab down --dry-run']
  static override flags = {
    ...changeFlags,
    'keep-offsite': Flags.boolean({
      description:
        'Keep the offsite S3 storage (.lab/offsite-s3): the next `lab up` finds the backups, as after losing a cluster. Without it, they go too (a new cluster cannot share the old one’s pgBackRest stanza).',
      default: false,
    }),
  }

  async run(): Promise<LabDownResult | {instance: string; dryRun: true; present: LabLeftovers}> {
    const {flags} = await this.parse(LabDown)
    requireLabPlatform()
    const instance = labInstance()
    this.auditContext = {env: instance.inventoryName}
    const present = await findLeftovers(instance)
    if (flags['dry-run']) {
      if (!this.jsonEnabled()) this.log(describe('Would remove', present))
      this.auditContext.outcome = 'dry-run'
      return {instance: instance.prefix, dryRun: true, present}
    }
    if (leftoversCount(present) > 0) {
      await requireConfirmation({
        message: `Remove the lab ${instance.prefix} (${present.namespaces.length} host(s), ${instance.stateDir}, ${instance.runDir}${flags['keep-offsite'] ? '' : `, and every offsite backup in ${offsitePaths(PROJECT_ROOT, instance).storage}`})?`,
        yes: flags.yes,
      })
    }
    const result = await downLab(instance)
    if (!flags['keep-offsite']) rmSync(offsitePaths(PROJECT_ROOT, instance).storage, {recursive: true, force: true})
    const clean = leftoversCount(result.leftovers) === 0
    if (!this.jsonEnabled()) {
      for (const c of result.components) if (!c.ok) this.log(`FAILED ${c.component}: ${c.error}`)
      this.log(
        clean ? `Lab ${instance.prefix} removed in ${(result.durationMs / 1000).toFixed(1)} s; nothing left.` : describe('Still present', result.leftovers),
      )
    }
    if (!clean) this.markFailed()
    return result
  }
}

function describe(title: string, l: LabLeftovers): string {
  const lines = [
    l.namespaces.length && `namespaces: ${l.namespaces.join(' ')}`,
    l.links.length && `links: ${l.links.join(' ')}`,
    l.processes.length && `processes: ${l.processes.map((p) => `${p.pid} (${p.command.slice(0, 60)})`).join(', ')}`,
    l.mounts.length && `mounts: ${l.mounts.join(' ')}`,
    l.dirs.length && `directories: ${l.dirs.join(' ')}`,
  ].filter(Boolean)
  return lines.length === 0 ? `${title}: nothing` : `${title}:\n  ${lines.join('\n  ')}`
}
