import {describe, expect, it} from 'vitest'
import {
  controlCommand,
  probeReadSql,
  probeWriteSql,
  readGrastateCommand,
  setSafeToBootstrapCommand,
  sqlCommand,
  startPositionFlag,
  wsrepRecoverCommand,
} from '../../../src/galera/commands.js'
import {renderCommand} from '../../../src/lib/shell.js'
import type {GaleraMember} from '../../../src/inventory/schema/databases.js'
import type {InventoryNode} from '../../../src/inventory/schema/index.js'

const node = {name: 'db-1', address: '10.0.0.1', role: 'none', labels: {}, docker: {socket: '/run/docker.sock'}} as InventoryNode
const lab: GaleraMember = {
  node: 'db-1',
  defaultsFile: '/var/lib/ctl-lab/h1/galera/my.cnf',
  datadir: '/var/lib/ctl-lab/h1/galera/data',
  socket: '/run/ctl-lab/h1/galera/mysqld.sock',
  control: {
    kind: 'commands',
    start: ['/var/lib/ctl-lab/h1/galera/galera-ctl', 'start'],
    stop: ['/x/galera-ctl', 'stop'],
    kill: ['/x/galera-ctl', 'kill'],
    status: ['/x/galera-ctl', 'status'],
  },
}
const systemd: GaleraMember = {node: 'db-1', datadir: '/var/lib/mysql', socket: '/run/mysqld/mysqld.sock', control: {kind: 'systemd', unit: 'mariadb'}}
const docker: GaleraMember = {node: 'db-1', datadir: '/var/lib/mysql', socket: '/run/mysqld/mysqld.sock', control: {kind: 'docker', container: 'galera1'}}
const U = '5f2b7c3e-1a2b-11ef-9a6e-8f1c2d3e4f50'

describe('controlCommand', () => {
  it('appends bootstrap and start-position arguments to explicit commands', () => {
    expect(controlCommand(lab, node, 'start', ['--wsrep-new-cluster', startPositionFlag({uuid: U, seqno: 42})])).toEqual([
      '/var/lib/ctl-lab/h1/galera/galera-ctl',
      'start',
      '--wsrep-new-cluster',
      `--wsrep_start_position=${U}:42`,
    ])
    expect(controlCommand(lab, node, 'kill')).toEqual(['/x/galera-ctl', 'kill'])
  })
  it('uses the unit (and galera_new_cluster to bootstrap) under systemd', () => {
    expect(controlCommand(systemd, node, 'start')).toEqual(['systemctl', 'start', 'mariadb'])
    expect(controlCommand(systemd, node, 'start', ['--wsrep-new-cluster'])).toEqual(['galera_new_cluster'])
    expect(controlCommand(systemd, node, 'kill')).toEqual(['systemctl', 'kill', '--signal=KILL', 'mariadb'])
    expect(controlCommand(systemd, node, 'status')).toEqual(['systemctl', 'is-active', '--quiet', 'mariadb'])
  })
  it("drives a container through the node's engine and refuses to bootstrap it", () => {
    expect(controlCommand(docker, node, 'stop')).toEqual(['docker', '-H', 'unix:///run/docker.sock', 'stop', '--time', '60', 'galera1'])
    expect(() => controlCommand(docker, node, 'start', ['--wsrep-new-cluster'])).toThrow(/cannot bootstrap|Cannot bootstrap/)
  })
})

describe('member commands', () => {
  it('keeps the SQL password off the command line (stdin → MYSQL_PWD)', () => {
    expect(renderCommand(sqlCommand(lab, node, 'ctl', 'SELECT 1', true))).toBe(
      "IFS= read -r MYSQL_PWD && export MYSQL_PWD && exec mariadb --socket=/run/ctl-lab/h1/galera/mysqld.sock --user=ctl --batch --skip-column-names --connect-timeout=5 -e 'SELECT 1'",
    )
    expect(renderCommand(sqlCommand(docker, node, 'root', 'SELECT 1', true))).toBe(
      "IFS= read -r MYSQL_PWD && export MYSQL_PWD && exec docker -H unix:///run/docker.sock exec -i -e MYSQL_PWD galera1 mariadb --socket=/run/mysqld/mysqld.sock --user=root --batch --skip-column-names --connect-timeout=5 -e 'SELECT 1'",
    )
  })
  it('reads and edits grastate.dat in the datadir', () => {
    expect(renderCommand(readGrastateCommand(lab, node))).toBe("sh -c 'cat /var/lib/ctl-lab/h1/galera/data/grastate.dat 2>/dev/null || true'")
    expect(renderCommand(setSafeToBootstrapCommand(lab, node))).toBe(
      "sed -i 's/^safe_to_bootstrap:.*$/safe_to_bootstrap: 1/' /var/lib/ctl-lab/h1/galera/data/grastate.dat",
    )
  })
  it("recovers the position with the member's defaults file", () => {
    expect(wsrepRecoverCommand(lab)).toEqual(['mariadbd', '--defaults-file=/var/lib/ctl-lab/h1/galera/my.cnf', '--wsrep-recover', '--disable-log-error'])
    expect(wsrepRecoverCommand(systemd)).toEqual(['mariadbd', '--wsrep-recover', '--disable-log-error'])
  })
  it('builds the probe SQL and rejects tokens that are not plain words', () => {
    expect(probeWriteSql('ctl_verify', 'abc-1')).toBe(
      "CREATE DATABASE IF NOT EXISTS `ctl_verify`; CREATE TABLE IF NOT EXISTS `ctl_verify`.probe (id VARCHAR(64) PRIMARY KEY, written_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP) ENGINE=InnoDB; INSERT INTO `ctl_verify`.probe (id) VALUES ('abc-1')",
    )
    expect(probeReadSql('ctl_verify', 'abc-1')).toBe("SET SESSION wsrep_sync_wait = 1; SELECT id FROM `ctl_verify`.probe WHERE id = 'abc-1'")
    expect(() => probeReadSql('ctl_verify', "x'; DROP TABLE t; --")).toThrow()
  })
})
