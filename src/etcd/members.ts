/**
 * etcd's membership as `etcdctl member list` prints it (the simple format keeps ids in hex, exact):
 * `<hex id>, <started|unstarted>, <name>, <peer urls>, <client urls>, <is learner>`; and what
 * `member add` prints for the new member's start (ETCD_INITIAL_CLUSTER). Pure.
 */

export interface EtcdListedMember {
  id: string
  started: boolean
  /** Empty while unstarted. */
  name: string
  peerUrls: string[]
  clientUrls: string[]
}

export function parseMemberList(stdout: string): EtcdListedMember[] {
  return stdout
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => /^[0-9a-f]+, (started|unstarted),/.test(line))
    .map((line) => {
      const [id, status, name, peers, clients] = line.split(', ')
      const urls = (text: string | undefined) => (text ?? '').split(',').filter(Boolean)
      return {id: id!, started: status === 'started', name: name ?? '', peerUrls: urls(peers), clientUrls: urls(clients)}
    })
}

/** ETCD_INITIAL_CLUSTER="a=http://..,b=http://.." from `member add`. */
export function parseInitialCluster(stdout: string): string | undefined {
  return /^ETCD_INITIAL_CLUSTER="([^"]+)"$/m.exec(stdout)?.[1]
}
