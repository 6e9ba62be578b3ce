import {execFileSync} from 'node:child_process'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {etcdScript, patroniScript, renderEtcdConfig, renderHaproxyConfig, renderPatroniConfig} from '../../../packages/lab/src/components/patroni-files.js'
import {labHosts} from '../../../packages/lab/src/instance.js'

const hosts = labHosts(3)
const [h1, h2] = hosts as [(typeof hosts)[0], (typeof hosts)[0]]
const passwords = {superuser: 'su"per\'pw', replication: 'repl:pw'}

describe('lab etcd config', () => {
  it('names all three members and enables the gateway Patroni needs', () => {
    const text = renderEtcdConfig(h2, hosts)
    expect(text).toContain('name: etcd-h2\n')
    expect(text).toContain('initial-cluster: etcd-h1=http://198.18.0.11:2380,etcd-h2=http://198.18.0.12:2380,etcd-h3=http://198.18.0.13:2380\n')
    expect(text).toContain('listen-client-urls: http://198.18.0.12:2379,http://127.0.0.1:2379\n')
    expect(text).toContain('enable-grpc-gateway: true\n')
  })
})

describe('lab Patroni config', () => {
  const config = JSON.parse(renderPatroniConfig(h2, hosts, passwords).split('\n').slice(1).join('\n'))
  it('listens on the host address, with its own socket directory and data under the host state dir', () => {
    expect(config.name).toBe('pg-h2')
    expect(config.restapi.listen).toBe('198.18.0.12:8008')
    expect(config.postgresql.listen).toBe('198.18.0.12:5432')
    expect(config.postgresql.data_dir).toBe('/var/lib/ctl-lab/h2/patroni/data')
    expect(config.postgresql.parameters.unix_socket_directories).toBe('/run/ctl-lab/h2/postgresql')
    expect(config.etcd3.hosts).toEqual(['198.18.0.11:2379', '198.18.0.12:2379', '198.18.0.13:2379'])
  })
  it('uses the fast lab timings and keeps the passwords as data', () => {
    expect(config.bootstrap.dcs).toMatchObject({ttl: 10, loop_wait: 1, retry_timeout: 3})
    expect(config.postgresql.authentication.superuser.password).toBe('su"per\'pw')
    expect(config.postgresql.pg_hba).toContain('host replication replicator 198.18.0.0/24 scram-sha-256')
  })
})

describe('lab HAProxy write endpoint', () => {
  it('routes to the member answering /primary', () => {
    const text = renderHaproxyConfig(h1, hosts)
    expect(text).toContain('  bind 198.18.0.11:5000\n  option httpchk GET /primary\n')
    expect(text).toContain('  server pg-h3 198.18.0.13:5432 check port 8008\n')
  })
})

describe('lab control scripts', () => {
  it('start Patroni as postgres with a clean environment (no PG* variables; its pgBackRest config named)', () => {
    const text = patroniScript(h1)
    expect(text).toContain(
      'setsid setpriv --reuid=postgres --regid=postgres --init-groups env -i PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/var/lib/postgresql LANG=C.UTF-8 PGBACKREST_CONFIG=/var/lib/ctl-lab/h1/pgbackrest/pgbackrest.conf patroni /var/lib/ctl-lab/h1/patroni/patroni.yml >>"$LOG" 2>&1 </dev/null &',
    )
    expect(text).toContain('pm=$(head -n 1 /var/lib/ctl-lab/h1/patroni/data/postmaster.pid 2>/dev/null || true)')
  })

  it('are valid sh, and status says stopped (exit 3) without a pid file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctl-patroni-script-'))
    const file = join(dir, 'ctl-lab-etcd')
    writeFileSync(file, etcdScript({...h1, runDir: dir, stateDir: dir}), {mode: 0o755})
    execFileSync('sh', ['-n', file])
    let code = 0
    let out: string
    try {
      out = execFileSync(file, ['status']).toString()
    } catch (error) {
      code = (error as {status: number}).status
      out = String((error as {stdout: Buffer}).stdout)
    }
    expect([code, out]).toEqual([3, 'stopped\n'])
  })
})
