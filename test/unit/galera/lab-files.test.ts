import {execFileSync} from 'node:child_process'
import {chmodSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {controlScript, galeraPaths, myCnf} from '../../../packages/lab/src/components/galera-files.js'
import {labHost} from '../../../packages/lab/src/types.js'
import {parseBinlogInfoGtid, replicaCnf, replicaPaths, sqlString} from '../../../packages/lab/src/components/backup-replica-files.js'

const hosts = [1, 2, 3].map((i) => labHost(i))

describe('lab Galera files', () => {
  it('puts every listener of a member on its own host address (IST would collide on base_port+1)', () => {
    const cnf = myCnf(hosts[1]!, hosts)
    expect(cnf).toContain('user=root')
    expect(cnf).toContain('bind-address=198.18.0.12')
    expect(cnf).toContain('wsrep_cluster_address=gcomm://198.18.0.11:4567,198.18.0.12:4567,198.18.0.13:4567')
    expect(cnf).toContain('wsrep_provider_options="gmcast.listen_addr=tcp://198.18.0.12:4567;ist.recv_addr=198.18.0.12:4568;gcache.size=64M"')
    expect(cnf).toContain('wsrep_sst_method=mariabackup')
    expect(cnf).toContain('wsrep_sst_receive_address=198.18.0.12:4444')
    expect(cnf).toContain(`sst-log-archive-dir=${galeraPaths(hosts[1]!).sstLogs}`)
    expect(cnf).toContain('datadir=/var/lib/ctl-lab/h2/galera/data')
    expect(cnf).toContain('socket=/run/ctl-lab/h2/galera/mysqld.sock')
  })

  it('the control script is valid sh, reports a stopped member with exit 3 and refuses to start outside its namespace', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctl-galera-script-'))
    const script = join(dir, 'galera-ctl')
    // A host whose address is not on this machine: start must refuse before running mariadbd.
    const elsewhere = {...hosts[0]!, address: '203.0.113.77', runDir: join(dir, 'run'), stateDir: join(dir, 'state')}
    writeFileSync(script, controlScript(elsewhere))
    chmodSync(script, 0o755)
    execFileSync('sh', ['-n', script])
    const run = (arg: string) => {
      try {
        return {code: 0, out: execFileSync(script, [arg], {encoding: 'utf8', stdio: 'pipe'})}
      } catch (error) {
        const e = error as {status: number; stderr: string; stdout: string}
        return {code: e.status, out: `${e.stdout}${e.stderr}`}
      }
    }
    expect(run('status')).toEqual({code: 3, out: 'stopped\n'})
    expect(run('stop')).toEqual({code: 0, out: 'mariadbd is not running\n'})
    const start = run('start')
    expect(start.code).toBe(2)
    expect(start.out).toContain('203.0.113.77 is not an address of this host')
  })
})

describe("lab backup host's MariaDB replica files", () => {
  it('a read-only replica with its own server_id, binary logs and relay logs, and the paths lab.yml names', () => {
    const h4 = labHost(4)
    const cnf = replicaCnf(h4)
    expect(cnf).toContain('server_id=104')
    expect(cnf).toContain('read_only=ON')
    expect(cnf).toContain('log_slave_updates=ON')
    expect(cnf).toContain('bind-address=198.18.0.14')
    expect(cnf).not.toContain('wsrep')
    const p = replicaPaths(h4)
    const lab = readFileSync('inventories/lab.yml', 'utf8')
    for (const path of [p.cnf, p.datadir, p.socket, p.script]) expect(lab).toContain(path)
    expect(controlScript(h4, p)).toContain(`CNF=${p.cnf}`)
  })

  it("reads the GTID of a member's backup (xtrabackup_binlog_info), the replica's starting point", () => {
    expect(parseBinlogInfoGtid('mariadb-bin.000003\t1771\t0-1-118\n')).toBe('0-1-118')
    expect(parseBinlogInfoGtid('mariadb-bin.000003\t1771\t0-1-118,1-2-7\n')).toBe('0-1-118,1-2-7')
    expect(parseBinlogInfoGtid('mariadb-bin.000003\t1771\n')).toBeUndefined()
    expect(parseBinlogInfoGtid("0-1-1'; DROP")).toBeUndefined()
  })

  it('quotes SQL string literals', () => {
    expect(sqlString("a'b\\c")).toBe("'a\\'b\\\\c'")
  })
})
