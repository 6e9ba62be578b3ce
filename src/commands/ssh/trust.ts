import {Flags} from '@oclif/core'
import {CtlCommand, envArg} from '../../lib/command.js'
import {confirmAction} from '../../lib/prompt.js'
import {selectNodes} from '../../inventory/select.js'
import {planTrust, scanHostKeys, recordTrust, type TrustRow} from '../../ssh/trust.js'

/** A row as printed by `--json`: without the key bytes and the error object. */
const publicRow = ({key: _key, refusal: _refusal, ...row}: TrustRow) => row

export default class SshTrust extends CtlCommand {
  static override summary = "Record the nodes' SSH host keys in known_hosts after showing their fingerprints."
  static override description =
    "Connects to each node only far enough to read its host key, shows the SHA256 fingerprints, and after confirmation appends the unknown ones to the inventory's known_hosts file. A host that has a recorded key and presents another one (of any type) is refused as a possible man-in-the-middle, and then nothing is recorded: check the key out of band and remove the old line by hand (ctl never replaces it)."
  static override examples = ['<%= config.bin %> ssh trust lab', '<%= config.bin %> ssh trust prod --node db-1 --yes']
  static override args = {env: envArg}
  static override flags = {
    node: Flags.string({char: 'n', description: 'Only this node (repeatable)', multiple: true}),
    yes: Flags.boolean({char: 'y', description: 'Record without asking (for scripts).', default: false}),
    'dry-run': Flags.boolean({description: 'Show the fingerprints and change nothing.', default: false}),
  }

  async run(): Promise<{env: string; hosts: TrustRow[]; recorded: string[]}> {
    const {args, flags} = await this.parse(SshTrust)
    const loaded = this.loadEnv(args.env)
    const nodes = selectNodes(loaded.inventory, {node: flags.node})
    this.auditContext = {...this.auditContext, hosts: nodes.map((n) => n.name)}
    const scans = await scanHostKeys(loaded, nodes)
    const rows = planTrust(loaded, scans)
    if (!this.jsonEnabled()) {
      for (const r of rows) this.log(`${r.node.padEnd(16)} ${r.token.padEnd(24)} ${r.fingerprint ?? '-'}  ${r.status}${r.detail ? `: ${r.detail}` : ''}`)
    }
    // A possible man-in-the-middle stops the whole run, before any question: nothing is recorded.
    const refusal = rows.find((r) => r.refusal)?.refusal
    if (refusal) throw refusal
    const toRecord = rows.filter((r) => r.status === 'unknown')
    if (rows.some((r) => r.status === 'unreachable')) this.markFailed()
    if (toRecord.length === 0 || flags['dry-run']) {
      if (!this.jsonEnabled()) this.log(toRecord.length === 0 ? 'No new keys to record.' : `Dry run: ${toRecord.length} key(s) would be recorded.`)
      if (flags['dry-run']) this.auditContext.outcome = 'dry-run'
      return {env: loaded.env, hosts: rows.map(publicRow), recorded: []}
    }
    const ok = await confirmAction({message: `Record ${toRecord.length} host key(s) shown above in ${toRecord[0]!.knownHostsPath}?`, yes: flags.yes})
    if (!ok) {
      this.auditContext.outcome = 'declined'
      return {env: loaded.env, hosts: rows.map(publicRow), recorded: []}
    }
    recordTrust(toRecord)
    if (!this.jsonEnabled()) this.log(`Recorded ${toRecord.length} key(s).`)
    return {env: loaded.env, hosts: rows.map(publicRow), recorded: toRecord.map((r) => r.node)}
  }
}
