/**
 * HAProxy in front of the lab's app (the seeds put HAProxy/nginx before their servers). Health checks
 * every 500 ms take a draining or dead backend out within ~1 s; failed or cut requests are retried
 * on another server (`retry-on` + `redispatch`), so a rolling update loses no request.
 */

export interface HaproxyBackend {
  name: string
  /** Front address:port the load balancer listens on. */
  bind: string
  servers: {name: string; address: string; port: number}[]
  healthPath: string
}

export function renderHaproxyConfig(backends: readonly HaproxyBackend[], options: {statsBind: string; pidFile: string}): string {
  const lines = [
    '# Written by `ctl lab up` (lab app load balancer). Do not edit: it is rewritten.',
    'global',
    `  pidfile ${options.pidFile}`,
    '  maxconn 4096',
    'defaults',
    '  mode http',
    '  timeout connect 1s',
    '  timeout client 30s',
    '  timeout server 10s',
    '  timeout check 1s',
    // A request cut by a stopping task is sent again, to another server.
    '  retries 3',
    '  option redispatch 1',
    '  retry-on all-retryable-errors',
    'listen stats',
    `  bind ${options.statsBind}`,
    '  stats enable',
    '  stats uri /stats',
  ]
  for (const b of backends) {
    lines.push(
      `frontend ${b.name}`,
      `  bind ${b.bind}`,
      `  default_backend ${b.name}`,
      `backend ${b.name}`,
      '  balance roundrobin',
      `  option httpchk GET ${b.healthPath}`,
      '  http-check expect status 200',
      '  default-server inter 500ms fastinter 250ms downinter 500ms rise 2 fall 2',
      ...b.servers.map((s) => `  server ${s.name} ${s.address}:${s.port} check`),
    )
  }
  return lines.join('\n') + '\n'
}

export interface BackendServerState {
  backend: string
  server: string
  /** UP, DOWN, MAINT, ... */
  status: string
}

/** Parses HAProxy's `/stats;csv` into the state of each server. */
export function parseHaproxyCsv(csv: string): BackendServerState[] {
  const [header, ...rows] = csv.trim().split('\n')
  const columns = (header ?? '').replace(/^# /, '').split(',')
  const at = (name: string) => columns.indexOf(name)
  return rows
    .map((row) => row.split(','))
    .filter((cells) => cells[at('svname')] !== 'FRONTEND' && cells[at('svname')] !== 'BACKEND' && cells[at('pxname')] !== 'stats')
    .map((cells) => ({backend: cells[at('pxname')] ?? '', server: cells[at('svname')] ?? '', status: cells[at('status')] ?? ''}))
}
