import {randomBytes} from 'node:crypto'
import {CtlError} from '../lib/errors.js'
import type {GaleraAccess} from './cluster.js'
import {probeReadSql, probeWriteSql} from './commands.js'

/** What a verified cluster looks like: every member Primary and Synced, full size, one uuid, writes replicate. */
export interface GaleraVerification {
  members: {node: string; clusterStatus: string; size: number; state: string; uuid: string}[]
  primary: boolean
  size: number
  expectedSize: number
  allSynced: boolean
  /** Every member reports `expectedUuid` (true when none was expected). */
  uuidUnchanged: boolean
  probe: {token: string; writtenOn: string; readOn: string; found: boolean}
}

/** Reads every member's wsrep status, then writes a probe row on the first and reads it on the second. */
export async function verifyGalera(a: GaleraAccess, nodes: readonly string[], expectedUuid?: string): Promise<GaleraVerification> {
  const members = await Promise.all(
    nodes.map(async (node) => {
      const {status, error} = await a.status(node)
      return {
        node,
        clusterStatus: status?.clusterStatus ?? `? (${error})`,
        size: status?.clusterSize ?? 0,
        state: status?.localState ?? '?',
        uuid: status?.clusterUuid ?? '?',
      }
    }),
  )
  const token = `verify-${Date.now()}-${randomBytes(3).toString('hex')}`
  const db = a.cluster.verifyDatabase
  const [writer, reader] = [nodes[0]!, nodes[1] ?? nodes[0]!]
  await a.sql(writer, probeWriteSql(db, token), {check: true})
  const read = await a.sql(reader, probeReadSql(db, token), {check: true})
  return {
    members,
    primary: members.every((m) => m.clusterStatus === 'Primary'),
    size: Math.min(...members.map((m) => m.size)),
    expectedSize: nodes.length,
    allSynced: members.every((m) => m.state === 'Synced'),
    uuidUnchanged: expectedUuid === undefined || members.every((m) => m.uuid === expectedUuid),
    probe: {token, writtenOn: writer, readOn: reader, found: read.stdout.split('\n').some((l) => l.trim() === token)},
  }
}

/** The problems a verification found, in words (empty when the cluster is verified). */
function verificationProblems(v: GaleraVerification, expectedUuid?: string): string[] {
  return [
    !v.primary && 'not every member is in a Primary component',
    v.size !== v.expectedSize && `cluster size ${v.size}, expected ${v.expectedSize}`,
    !v.allSynced && 'not every member is Synced',
    !v.uuidUnchanged && `cluster uuid is not ${expectedUuid}`,
    !v.probe.found && `the probe written on ${v.probe.writtenOn} was not read on ${v.probe.readOn}`,
  ].filter((p): p is string => Boolean(p))
}

/** Throws when the verification found a problem: the runbook that ran it failed its last step. */
export function requireVerified(v: GaleraVerification, expectedUuid?: string): void {
  const problems = verificationProblems(v, expectedUuid)
  if (problems.length > 0) {
    throw new CtlError(`Verification failed: ${problems.join('; ')}`, {
      code: 'galera.verify-failed',
      hint: "Look at the members' status above and their error logs.",
    })
  }
}

export function verificationReport(v: GaleraVerification): string[] {
  return [
    `${'NODE'.padEnd(6)}${'CLUSTER'.padEnd(13)}${'SIZE'.padEnd(6)}${'STATE'.padEnd(10)}UUID`,
    ...v.members.map((m) => `${m.node.padEnd(6)}${m.clusterStatus.padEnd(13)}${String(m.size).padEnd(6)}${m.state.padEnd(10)}${m.uuid}`),
    `Probe ${v.probe.token}: written on ${v.probe.writtenOn}, ${v.probe.found ? 'read' : 'NOT FOUND'} on ${v.probe.readOn}`,
  ]
}
