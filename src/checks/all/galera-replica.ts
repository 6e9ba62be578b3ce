import {judgeReplica, parseReplicaStatus, REPLICA_STATUS_SQL} from '../../galera/replica.js'
import type {CheckDefinition} from '../types.js'
import {galeraAccess} from './galera.js'

/** Seed 000's backup replica: both replication threads running and no further behind than its limit. */
export const galeraReplicaCheck: CheckDefinition = {
  id: 'galera-replica',
  title: 'Galera backup replica: replicating, lag within backupReplica.maxLagSeconds',
  needs: 'SSH, mariadb client and socket on the replica node; databases.galera.backupReplica',
  targets: (inventory) => {
    const replica = inventory.databases.galera?.backupReplica
    return replica ? [{name: replica.node, node: inventory.nodes.find((n) => n.name === replica.node)}] : []
  },
  skipReason: 'no databases.galera.backupReplica in the inventory',
  async run(ctx, target) {
    const access = galeraAccess(ctx)
    const r = await access.replicaStatus(target.name, ctx.timeoutMs)
    if (r.code !== 0) {
      const running = await access.isRunning(target.name)
      return {
        status: 'fail',
        detail: running ? `mariadbd runs but ${REPLICA_STATUS_SQL} failed: ${r.stderr.trim().split('\n').at(-1)}` : 'mariadbd is not running',
        hint: running
          ? 'Check the SQL credentials (databases.galera.user/password) and the socket.'
          : `Start it (its control: start) on ${target.name}; it resumes replication.`,
      }
    }
    const verdict = judgeReplica(ctx.inventory.name, target.name, parseReplicaStatus(r.stdout), access.cluster.backupReplica!.maxLagSeconds)
    return verdict.ok ? {status: 'pass', detail: verdict.detail} : {status: 'fail', detail: verdict.detail, hint: verdict.hint}
  },
}
