import type {EtcdCluster} from '../inventory/schema/databases.js'
import type {InventoryNode} from '../inventory/schema/index.js'

/** How ctl talks to etcd: etcdctl (v3 API) on a node, against client URLs; every value an argv entry. Pure. */

type EtcdMember = EtcdCluster['members'][number]

const hostPart = (address: string) => (address.includes(':') ? `[${address}]` : address)

export const clientUrl = (member: Pick<EtcdMember, 'clientPort'>, node: Pick<InventoryNode, 'address'>) =>
  `http://${hostPart(node.address)}:${member.clientPort}`
export const peerUrl = (member: Pick<EtcdMember, 'peerPort'>, node: Pick<InventoryNode, 'address'>) => `http://${hostPart(node.address)}:${member.peerPort}`

/** `etcdctl` with the endpoints and timeouts: `ETCDCTL_API=3` (etcd 3.4 needs it for some commands). */
export function etcdctl(endpoints: readonly string[], args: readonly string[], commandTimeout = '10s', dialTimeout = '3s'): string[] {
  return [
    'env',
    'ETCDCTL_API=3',
    'etcdctl',
    `--endpoints=${endpoints.join(',')}`,
    `--dial-timeout=${dialTimeout}`,
    `--command-timeout=${commandTimeout}`,
    ...args,
  ]
}
