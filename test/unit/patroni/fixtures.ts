import {combineFacts, parseClusterView, parseMemberStatus, parseReplicationRows, type ClusterFacts} from '../../../src/patroni/facts.js'
import type {PatroniTopology} from '../../../src/patroni/topology.js'

/** Replies captured from the lab's Patroni 3.0.2 (names shortened), used to build fact sheets. */
const topology: PatroniTopology = {
  scope: 'ctl-lab',
  user: 'postgres',
  database: 'postgres',
  maxLagBytes: 1048576,
  members: [1, 2, 3].map((i) => ({name: `pg-h${i}`, node: `h${i}`, address: `198.18.0.${10 + i}`, restPort: 8008, pgPort: 5432})),
}

export const clusterJson = {
  members: [
    {name: 'pg-h1', role: 'leader', state: 'running', api_url: 'http://198.18.0.11:8008/patroni', host: '198.18.0.11', port: 5432, timeline: 1},
    {name: 'pg-h2', role: 'replica', state: 'running', api_url: 'http://198.18.0.12:8008/patroni', host: '198.18.0.12', port: 5432, timeline: 1, lag: 0},
    {name: 'pg-h3', role: 'replica', state: 'running', api_url: 'http://198.18.0.13:8008/patroni', host: '198.18.0.13', port: 5432, timeline: 1, lag: 0},
  ],
}

const leaderStatusJson = {
  state: 'running',
  role: 'master',
  server_version: 150020,
  xlog: {location: 67108864},
  timeline: 1,
  patroni: {version: '3.0.2', scope: 'ctl-lab'},
}
const replicaStatusJson = {
  state: 'running',
  role: 'replica',
  xlog: {received_location: 67108864, replayed_location: 67108864, replayed_timestamp: null, paused: false},
  timeline: 1,
}

export const replicationJson = [
  {application_name: 'pg-h2', state: 'streaming', client_addr: '198.18.0.12', sync_state: 'async', flush_lag_bytes: 0, replay_lag_bytes: 0},
  {application_name: 'pg-h3', state: 'streaming', client_addr: '198.18.0.13', sync_state: 'async', flush_lag_bytes: 0, replay_lag_bytes: 0},
]

type Json = Record<string, any>

/** A fact sheet from (possibly edited) replies: `statuses[name] = null` means that API did not answer. */
export function factsFrom(
  options: {cluster?: Json; statuses?: Record<string, Json | null>; replication?: Json[] | null; replicationError?: string} = {},
): ClusterFacts {
  const statuses = new Map(
    topology.members.map((m) => {
      const json = options.statuses && m.name in options.statuses ? options.statuses[m.name] : m.name === 'pg-h1' ? leaderStatusJson : replicaStatusJson
      return [m.name, json === null ? {reachable: false} : parseMemberStatus(json)] as const
    }),
  )
  const replication = options.replication === null ? undefined : parseReplicationRows(options.replication ?? replicationJson)
  return combineFacts(topology, parseClusterView(options.cluster ?? clusterJson), statuses, replication, {replicationError: options.replicationError})
}

export function withMember(name: string, change: Json): Json {
  return {...clusterJson, members: clusterJson.members.map((m) => (m.name === name ? {...m, ...change} : m))}
}
