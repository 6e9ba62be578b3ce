import {isWrongResticKey, parseShipSummary, resticSecretsStdin, type ResticRepo} from '../backups/restic.js'
import {CtlError} from '../lib/errors.js'
import {lastLines} from '../lib/output.js'
import type {RemoteCommand} from '../lib/shell.js'
import type {StepContext} from './types.js'

/**
 * Runs a restic shipment on a node (the keys on stdin) and returns its snapshot id; a failure names a
 * wrong repository key as such. What was shipped is complete on the node either way (`kept` says where).
 */
export async function shipWithRestic(
  ctx: Pick<StepContext<unknown>, 'loaded' | 'run' | 'report'>,
  node: string,
  repo: ResticRepo,
  command: RemoteCommand,
  shipped: {what: string; kept: string; timeoutMs: number},
): Promise<{snapshot: string; where: string}> {
  const r = await ctx.run(node, command, {stdin: resticSecretsStdin(ctx.loaded), timeoutMs: shipped.timeoutMs})
  const snapshot = r.code === 0 ? parseShipSummary(r.stdout) : undefined
  if (!snapshot)
    throw new CtlError(`Shipping ${shipped.what} to ${repo.where} failed (exit ${r.code}): ${lastLines(r, 3, ' ')}`, {
      host: node,
      code: 'mariadb.offsite-failed',
      hint: isWrongResticKey(r.stderr)
        ? 'The offsite repository was made with another key: backups.offsite.encryptionKey must stay the same for its life.'
        : `${shipped.kept} Check backups.offsite (endpoint, caFile, keys) and that restic is installed on ${node}, then --resume.`,
    })
  ctx.report([`Offsite: restic snapshot ${snapshot} in ${repo.where} (encrypted)`])
  return {snapshot, where: repo.where}
}
