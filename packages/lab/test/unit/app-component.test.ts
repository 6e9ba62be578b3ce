import {spawnSync} from 'node:child_process'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {parseHaproxyCsv, renderHaproxyConfig} from '../../src/components/app-haproxy.js'
import {importChanges} from '../../src/components/app-image.js'

describe('lab app tier', () => {
  const config = renderHaproxyConfig(
    [
      {
        name: 'app',
        bind: '198.18.0.1:8080',
        healthPath: '/health',
        servers: [
          {name: 'h1', address: '198.18.0.11', port: 8080},
          {name: 'h2', address: '198.18.0.12', port: 8080},
        ],
      },
    ],
    {statsBind: '198.18.0.1:8404', pidFile: '/run/ctl-lab/haproxy.pid'},
  )

  it('renders HAProxy with fast health checks, retries and redispatch', () => {
    for (const line of [
      '  retry-on all-retryable-errors',
      '  option redispatch 1',
      '  retries 3',
      '  option httpchk GET /health',
      '  http-check expect status 200',
      '  default-server inter 500ms fastinter 250ms downinter 500ms rise 2 fall 2',
      '  server h1 198.18.0.11:8080 check',
      '  server h2 198.18.0.12:8080 check',
      '  bind 198.18.0.1:8080',
    ]) {
      expect(config.split('\n')).toContain(line)
    }
  })

  it('is a configuration HAProxy itself accepts', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ctl-haproxy-')), 'haproxy.cfg')
    writeFileSync(file, config)
    const check = spawnSync('haproxy', ['-c', '-f', file], {encoding: 'utf8'})
    expect(check.status, check.stderr).toBe(0)
  })

  it('reads server states from the stats CSV', () => {
    const csv = '# pxname,svname,qcur,status\nstats,FRONTEND,,OPEN\napp,FRONTEND,,OPEN\napp,h1,0,UP\napp,h2,0,DOWN\napp,BACKEND,0,UP\n'
    expect(parseHaproxyCsv(csv)).toEqual([
      {backend: 'app', server: 'h1', status: 'UP'},
      {backend: 'app', server: 'h2', status: 'DOWN'},
    ])
  })

  it('imports each tag with its environment and build hash', () => {
    expect(importChanges({APP_VERSION: 'broken', APP_HEALTH: 'fail'}, 'abc')).toEqual([
      '--change',
      'ENV APP_VERSION=broken',
      '--change',
      'ENV APP_HEALTH=fail',
      '--change',
      'ENV APP_BUILD=abc',
      '--change',
      'EXPOSE 8080',
      '--change',
      'CMD ["/app/server"]',
    ])
  })
})
