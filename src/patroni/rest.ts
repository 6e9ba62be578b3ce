import type {PatroniMemberAddress, RunOn} from './topology.js'

/**
 * Patroni's REST API, called with curl on the member's own node (the API is rarely reachable from
 * the operator's machine). Patroni answers some requests in JSON (/cluster, /patroni) and others in
 * plain text (POST /switchover: `Successfully switched over to "pg2"`, `leader name does not match`),
 * and unknown paths with 503: the reply keeps the status and both readings of the body.
 */

/** What curl prints right after the body: a marker and the HTTP status (000 when nothing answered). */
const STATUS_MARK = '__ctl_http_status='

export interface RestRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE'
  path: string
  /** Sent as JSON on stdin. */
  body?: unknown
  timeoutSeconds?: number
}

function restUrl(member: PatroniMemberAddress, path: string): string {
  const host = member.address.includes(':') ? `[${member.address}]` : member.address
  return `http://${host}:${member.restPort}${path}`
}

/** The curl argv for one request; a body travels on stdin (`--data-binary @-`). */
export function buildRestRequest(member: PatroniMemberAddress, request: RestRequest): string[] {
  const argv = ['curl', '-sS', '--max-time', String(request.timeoutSeconds ?? 10), '-X', request.method, '-w', `${STATUS_MARK}%{http_code}`]
  if (request.body !== undefined) argv.push('-H', 'Content-Type: application/json', '--data-binary', '@-')
  argv.push(restUrl(member, request.path))
  return argv
}

export interface RestReply {
  /** HTTP status; 0 when the API did not answer (connection refused, timeout). */
  status: number
  /** The body as text (Patroni's plain-text replies are read here). */
  text: string
  /** The body parsed as JSON, when it is JSON. */
  json?: unknown
  /** Why nothing answered (curl's message), when status is 0. */
  transportError?: string
}

/** Reads curl's output (body + status mark) and exit code into a reply. */
export function parseRestReply(stdout: string, stderr: string, code: number): RestReply {
  const at = stdout.lastIndexOf(STATUS_MARK)
  const text = (at >= 0 ? stdout.slice(0, at) : stdout).trim()
  const status = at >= 0 ? Number(stdout.slice(at + STATUS_MARK.length).trim()) || 0 : 0
  if (code !== 0 || status === 0) {
    return {status: 0, text, transportError: stderr.trim() || `curl exited with ${code}`}
  }
  let json: unknown
  if (text.startsWith('{') || text.startsWith('[')) {
    try {
      json = JSON.parse(text)
    } catch {
      json = undefined
    }
  }
  return {status, text, json}
}

export async function restCall(runOn: RunOn, member: PatroniMemberAddress, request: RestRequest): Promise<RestReply> {
  const argv = buildRestRequest(member, request)
  const stdin = request.body === undefined ? undefined : JSON.stringify(request.body)
  try {
    const r = await runOn(member.node, argv, {stdin, timeoutMs: ((request.timeoutSeconds ?? 10) + 10) * 1000})
    return parseRestReply(r.stdout, r.stderr, r.code)
  } catch (error) {
    // The node itself is unreachable (SSH): the member's API cannot be reached either.
    return {status: 0, text: '', transportError: (error as Error).message}
  }
}
