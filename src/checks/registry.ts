import {CtlError, ExitCode} from '../lib/errors.js'
import {backupsCheck} from './all/backups.js'
import {backupsOffsiteCheck} from './all/backups-offsite.js'
import {clockSkewCheck} from './all/clock-skew.js'
import {diskFreeCheck} from './all/disk-free.js'
import {dockerEngineCheck} from './all/docker-engine.js'
import {etcdCheck} from './all/etcd.js'
import {rabbitmqCheck} from './all/rabbitmq.js'
import {galeraCheck} from './all/galera.js'
import {galeraReplicaCheck} from './all/galera-replica.js'
import {memoryCheck} from './all/memory.js'
import {nodeLabelsCheck} from './all/node-labels.js'
import {placementCheck} from './all/placement.js'
import {redisCheck} from './all/redis.js'
import {registryPullCheck} from './all/registry-pull.js'
import {patroniCheck} from './all/patroni.js'
import {serviceHealthCheck} from './all/service-health.js'
import {swarmCheck} from './all/swarm.js'
import {sshCheck} from './all/ssh.js'
import {swarmPortsCheck} from './all/swarm-ports.js'
import {tlsExpiryCheck} from './all/tls-expiry.js'
import {vaultCheck} from './all/vault.js'
import type {CheckDefinition} from './types.js'

/** Every preflight check, in report order: hosts first, then Swarm, services, data, certificates. */
export const allChecks: readonly CheckDefinition[] = [
  sshCheck,
  dockerEngineCheck,
  diskFreeCheck,
  memoryCheck,
  clockSkewCheck,
  swarmPortsCheck,
  swarmCheck,
  registryPullCheck,
  nodeLabelsCheck,
  placementCheck,
  serviceHealthCheck,
  galeraCheck,
  galeraReplicaCheck,
  patroniCheck,
  etcdCheck,
  rabbitmqCheck,
  redisCheck,
  vaultCheck,
  backupsCheck,
  backupsOffsiteCheck,
  tlsExpiryCheck,
]

/** The checks named by `ids` (all when none), in registry order; an unknown id is a usage error. */
export function selectChecks(ids: readonly string[] = []): CheckDefinition[] {
  const unknown = ids.filter((id) => !allChecks.some((c) => c.id === id))
  if (unknown.length > 0) {
    throw new CtlError(`Unknown check(s): ${unknown.join(', ')}`, {
      exitCode: ExitCode.cannotRun,
      code: 'check.unknown',
      hint: `Known checks: ${allChecks.map((c) => c.id).join(', ')} (ctl check list).`,
    })
  }
  return ids.length === 0 ? [...allChecks] : allChecks.filter((c) => ids.includes(c.id))
}
