/**
 * etcd's `endpoint status -w json`: one entry per endpoint. Member ids are 64-bit and etcd prints
 * them as JSON numbers, which JavaScript would round: they are read as text, before JSON.parse. Pure.
 */

export interface EtcdEndpointStatus {
  endpoint: string
  memberId: string
  leader: string
  raftTerm: number
  version: string
  dbSize: number
  dbSizeInUse?: number
}

export function parseEtcdStatuses(text: string): EtcdEndpointStatus[] {
  const start = text.indexOf('[')
  if (start < 0) return []
  // Quote the big integers: "member_id":123 → "member_id":"123" (and leader, cluster_id, revision).
  const exact = text.slice(start).replace(/"(member_id|leader|cluster_id)":(\d+)/g, '"$1":"$2"')
  let parsed: unknown
  try {
    parsed = JSON.parse(exact.slice(0, exact.lastIndexOf(']') + 1))
  } catch {
    return []
  }
  if (!Array.isArray(parsed)) return []
  return parsed.flatMap((entry: {Endpoint?: string; Status?: Record<string, unknown> & {header?: Record<string, unknown>}}) => {
    const s = entry.Status
    if (!entry.Endpoint || !s) return []
    return [
      {
        endpoint: entry.Endpoint,
        memberId: String(s.header?.member_id ?? ''),
        leader: String(s.leader ?? '0'),
        raftTerm: Number(s.raftTerm ?? 0),
        version: String(s.version ?? '?'),
        dbSize: Number(s.dbSize ?? 0),
        ...(typeof s.dbSizeInUse === 'number' ? {dbSizeInUse: s.dbSizeInUse} : {}),
      },
    ]
  })
}
