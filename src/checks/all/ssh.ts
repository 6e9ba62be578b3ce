import {isCtlError} from '../../lib/errors.js'
import {nodeTargets} from '../targets.js'
import type {CheckDefinition} from '../types.js'

/** SSH reachable with a known host key: the pool refuses unknown or changed keys before running anything. */
export const sshCheck: CheckDefinition = {
  id: 'ssh',
  title: 'SSH reachable with a known host key',
  needs: 'SSH key and known_hosts from the inventory',
  targets: (inventory) => nodeTargets(inventory),
  async run(ctx, target) {
    try {
      // The first command on the host: it also reads the facts disk-free and memory judge.
      const facts = await ctx.hostFacts(target.node!)
      return {status: 'pass', detail: `connected, host key verified (${facts.uname.output.split('\n')[0]})`}
    } catch (error) {
      // Unreachable or an unknown/changed host key is this check's finding, not a failure to run it.
      if (isCtlError(error) && error.code.startsWith('ssh.')) return {status: 'fail', detail: error.message, hint: error.hint}
      throw error
    }
  },
}
