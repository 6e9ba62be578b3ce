import {isCtlError} from '../../lib/errors.js'
import {nodeTargets} from '../targets.js'
import type {CheckDefinition, Finding} from '../types.js'

/** The ssh row of a host that could not be reached: unreachable or an unknown/changed host key is this check's finding, not a failure to run it. */
function connectFailure(error: unknown): Finding {
  if (isCtlError(error) && error.code.startsWith('ssh.')) return {status: 'fail', detail: error.message, hint: error.hint}
  throw error
}

/** SSH reachable with a known host key: the pool refuses unknown or changed keys before running anything. */
export const sshCheck: CheckDefinition = {
  id: 'ssh',
  title: 'SSH reachable with a known host key',
  needs: 'SSH key and known_hosts from the inventory',
  readsHostFacts: 'target',
  targets: (inventory) => nodeTargets(inventory),
  async run(ctx, target) {
    try {
      // The one command on the host: it also reads the facts the other host-level checks judge.
      const facts = await ctx.hostFacts(target.node!)
      return {status: 'pass', detail: `connected, host key verified (${facts.uname.output.split('\n')[0]})`}
    } catch (error) {
      return connectFailure(error)
    }
  },
}

/** The first step of a run: only the connection (handshake, host key), so a down host is known before any other check asks it. */
export const connectStep: CheckDefinition = {
  ...sshCheck,
  async run(ctx, target) {
    try {
      await ctx.pool.connect(target.node!)
      return {status: 'pass', detail: 'connected'}
    } catch (error) {
      return connectFailure(error)
    }
  },
}
