import {CtlCommand} from 'ctl/lib/command.js'
import {labInstance} from '../../instance.js'
import {requireLabPlatform} from '../../platform.js'
import {statusLab} from '../../runner.js'
import type {LabStatusRow} from '../../types.js'

export default class LabStatus extends CtlCommand {
  static override summary = 'Show each lab component per host: running, answering, and what is wrong.'
  static override examples = ['<%= config.bin %> lab status', '<%= config.bin %> lab status --json']

  async run(): Promise<{instance: string; ok: boolean; rows: LabStatusRow[]}> {
    await this.parse(LabStatus)
    requireLabPlatform()
    const {instance, rows} = await statusLab(labInstance())
    const ok = rows.every((r) => r.ok)
    if (!this.jsonEnabled()) {
      const width = Math.max(9, ...rows.map((r) => r.component.length))
      this.log(`${'COMPONENT'.padEnd(width)}  HOST  STATE   DETAIL`)
      for (const r of rows) this.log(`${r.component.padEnd(width)}  ${(r.host ?? '-').padEnd(4)}  ${(r.ok ? 'ok' : 'FAILED').padEnd(6)}  ${r.detail}`)
      this.log(ok ? `Lab ${instance}: all ok` : `Lab ${instance}: ${rows.filter((r) => !r.ok).length} problem(s); \`ctl lab up\` repairs what it can`)
    }
    if (!ok) this.markFailed()
    return {instance, ok, rows}
  }
}
