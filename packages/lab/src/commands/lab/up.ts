import {Flags} from '@oclif/core'
import {CtlCommand} from 'ctl/lib/command.js'
import {DEFAULT_LAB_HOSTS, labInstance, MAX_LAB_HOSTS} from '../../instance.js'
import {requireLabPlatform} from '../../platform.js'
import {upLab, type LabUpResult} from '../../runner.js'

export default class LabUp extends CtlCommand {
  static override summary = 'Create or repair the lab: network namespaces with sshd, dockerd and the lab components.'
  static override description = [
    'Idempotent: what already works is left alone, what is missing or broken (a stopped daemon, a link that is down, a stale pid file) is repaired, so running it again changes nothing.',
    'Missing Debian packages the components need are installed first. A failing component is reported and the next one still runs.',
    'Linux and root only. CTL_LAB_INSTANCE=<k> (1-250) works on a separate lab (ctl-lab<k>, 198.18.<k>.0/24) instead of the shared one.',
  ].join('\n')
  static override examples = [
    '<%= config.bin %> lab up',
    '<%= config.bin %> lab up --only galera',
    '<%= config.bin %> lab up --hosts 30 --no-docker',
    'CTL_LAB_INSTANCE=2 <%= config.bin %> lab up',
  ]
  static override flags = {
    hosts: Flags.integer({
      description: `Number of lab hosts (1-${MAX_LAB_HOSTS}); other than ${DEFAULT_LAB_HOSTS}, an inventory is written to .lab/`,
      default: DEFAULT_LAB_HOSTS,
      min: 1,
      max: MAX_LAB_HOSTS,
    }),
    docker: Flags.boolean({description: 'Start dockerd and the other components; --no-docker makes sshd-only hosts', default: true, allowNo: true}),
    only: Flags.string({description: 'Only this component (repeatable), e.g. galera', multiple: true}),
  }

  async run(): Promise<LabUpResult> {
    const {flags} = await this.parse(LabUp)
    requireLabPlatform()
    const instance = labInstance()
    this.auditContext = {env: instance.inventoryName, detail: {hosts: flags.hosts, docker: flags.docker, only: flags.only}}
    const result = await upLab(instance, {hosts: flags.hosts, docker: flags.docker, only: flags.only})
    const failed = result.components.filter((c) => !c.ok)
    if (!this.jsonEnabled()) {
      if (result.packagesInstalled.length > 0) this.log(`Installed: ${result.packagesInstalled.join(' ')}`)
      for (const c of result.components) this.log(`${c.ok ? 'ok    ' : c.skipped ? 'skip  ' : 'FAILED'} ${c.component}${c.error ? `: ${c.error}` : ''}`)
      this.log(`Lab ${result.instance}: ${result.hosts.map((h) => `${h.name} ${h.address}`).join(', ')}`)
      this.log(`Inventory: ${result.inventory}${result.inventoryGenerated ? ' (generated)' : ''}`)
      this.log(`${failed.length === 0 ? 'Lab is up' : `${failed.length} component(s) failed`} after ${(result.durationMs / 1000).toFixed(1)} s`)
    }
    if (failed.length > 0) this.markFailed()
    return result
  }
}
