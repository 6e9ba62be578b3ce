import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {parse, stringify} from 'yaml'
import {judgeReplica, parseReplicaStatus} from '../../../src/galera/replica.js'
import {backupCommand, parseSlaveInfoGtid} from '../../../src/galera/backup.js'
import {backupMember, galeraBackupNode, isBackupReplica} from '../../../src/galera/cluster.js'
import {parseInventory} from '../../../src/inventory/load.js'
import {backupLocations} from '../../../src/backups/locations.js'

// SHOW ALL SLAVES STATUS of MariaDB 10.11 (the lab's replica) in batch mode with column names, cut to the
// fields ctl reads and a few around them: one header line, one line of values, tab-separated.
const status = (fields: Record<string, string>) => {
  const all = {
    Slave_IO_State: 'Waiting for master to send event',
    Master_Host: '198.18.0.11',
    Master_User: 'ctl_repl',
    Master_Port: '3306',
    Slave_IO_Running: 'Yes',
    Slave_SQL_Running: 'Yes',
    Last_IO_Error: '',
    Last_SQL_Error: '',
    Seconds_Behind_Master: '0',
    Using_Gtid: 'Slave_Pos',
    Gtid_IO_Pos: '0-1-118',
    SQL_Delay: '0',
    Gtid_Slave_Pos: '0-1-118',
    ...fields,
  }
  return `${Object.keys(all).join('\t')}\n${Object.values(all).join('\t')}\n`
}

describe('the backup replica (seed 000)', () => {
  it('reads SHOW ALL SLAVES STATUS', () => {
    expect(parseReplicaStatus(status({}))).toEqual({
      configured: true,
      source: '198.18.0.11:3306',
      ioRunning: 'Yes',
      sqlRunning: 'Yes',
      secondsBehind: 0,
      lastIoError: undefined,
      lastSqlError: undefined,
      gtidSlavePos: '0-1-118',
      sqlDelaySeconds: 0,
    })
    expect(parseReplicaStatus('').configured).toBe(false)
    // As the lab's replica printed it (MariaDB 10.11, every column).
    const real = parseReplicaStatus(readFileSync(new URL('fixtures/show-all-slaves-status-10.11.tsv', import.meta.url), 'utf8'))
    expect(real).toMatchObject({configured: true, source: '198.18.0.11:3306', ioRunning: 'Yes', sqlRunning: 'Yes', secondsBehind: 0, sqlDelaySeconds: 0})
    expect(real.gtidSlavePos).toMatch(/^0-1-\d+$/)
    expect(parseReplicaStatus(status({Seconds_Behind_Master: 'NULL', Slave_SQL_Running: 'No'})).secondsBehind).toBeNull()
  })

  it('passes a replica that replicates within its limit, naming source, lag and GTID', () => {
    const v = judgeReplica('prod', 'backup1', parseReplicaStatus(status({Seconds_Behind_Master: '12'})), 60)
    expect(v).toEqual({ok: true, detail: 'replicating from 198.18.0.11:3306, 12 s behind (limit 60 s), GTID 0-1-118'})
  })

  it.each([
    ['no replication at all', '', /no replication configured/],
    [
      'the IO thread stopped, with its error',
      status({Slave_IO_Running: 'No', Last_IO_Error: 'error connecting to master'}),
      /stopped: IO No, SQL Yes; error connecting/,
    ],
    [
      'the SQL thread stopped, with its error',
      status({Slave_SQL_Running: 'No', Last_SQL_Error: 'Duplicate entry'}),
      /stopped: IO Yes, SQL No; Duplicate entry/,
    ],
    ['STOP SLAVE', status({Slave_IO_Running: 'No', Slave_SQL_Running: 'No', Seconds_Behind_Master: 'NULL'}), /stopped: IO No, SQL No/],
    ['lag over the limit', status({Seconds_Behind_Master: '61'}), /61 s behind \(limit 60 s\)/],
    ['a delay that holds it back', status({Seconds_Behind_Master: '900', SQL_Delay: '3600'}), /900 s behind.*MASTER_DELAY 3600 s/],
  ])('fails on %s', (_what, text, detail) => {
    const v = judgeReplica('prod', 'backup1', parseReplicaStatus(text), 60)
    expect(v.ok).toBe(false)
    expect(v.detail).toMatch(detail)
    expect(v.hint).toContain('backup1')
  })

  it("backs up the replica with its source's position, a member with its Galera position", () => {
    const member = {node: 'db1', datadir: '/d', socket: '/s', control: {kind: 'systemd' as const, unit: 'mariadb'}}
    const script = (fromReplica: boolean) => {
      const c = backupCommand(member, 'ctl', '/b/1', false, fromReplica)
      return 'script' in c ? c.script : ''
    }
    expect(script(true)).toContain('--slave-info --safe-slave-backup')
    expect(script(true)).not.toContain('--galera-info')
    expect(script(false)).toContain('--galera-info')
    expect(parseSlaveInfoGtid("SET GLOBAL gtid_slave_pos = '0-1-118';\nCHANGE MASTER TO master_use_gtid = slave_pos\n")).toBe('0-1-118')
    expect(parseSlaveInfoGtid('')).toBeUndefined()
  })
})

describe('inventory: databases.galera.backupReplica', () => {
  const lab = () => parse(readFileSync('inventories/lab.yml', 'utf8'))
  const problems = (edit: (inv: any) => void) => {
    const inv = lab()
    edit(inv)
    return parseInventory(stringify(inv), 'x.yml').problems.map((p) => `${p.field}: ${p.message}`)
  }

  it("the lab's replica is valid; backups stay on backupNode while it is set, and move to the replica without it", () => {
    const parsed = parseInventory(readFileSync('inventories/lab.yml', 'utf8'), 'lab.yml').inventory!
    const galera = parsed.databases.galera!
    expect(galera.backupReplica).toMatchObject({node: 'h4', source: 'h1', maxLagSeconds: 60})
    expect(galeraBackupNode(galera)).toBe('h3')
    const without = {...galera, backupNode: undefined}
    expect(galeraBackupNode(without)).toBe('h4')
    expect(backupMember(without)).toBe('h4')
    expect(isBackupReplica(without, 'h4')).toBe(true)
    expect(backupLocations({...parsed, databases: {...parsed.databases, galera: without}}).find((l) => l.database === 'mariadb')?.nodes).toEqual(['h4'])
    // --node names a member or the replica, nothing else.
    expect(() => backupMember(galera, 'h9')).toThrow(/h9 is not a Galera member/)
  })

  it.each([
    ['a replica on a member', (inv: any) => (inv.databases.galera.backupReplica.node = 'h2'), /backupReplica.node: "h2" is a Galera member/],
    ['a replica on an unknown node', (inv: any) => (inv.databases.galera.backupReplica.node = 'h9'), /backupReplica.node: no node named "h9"/],
    [
      'a source that is not a member',
      (inv: any) => (inv.databases.galera.backupReplica.source = 'h4'),
      /backupReplica.source: the source "h4" is not a Galera member/,
    ],
    ['a negative lag limit', (inv: any) => (inv.databases.galera.backupReplica.maxLagSeconds = -1), /maxLagSeconds/],
  ])('refuses %s', (_what, edit, message) => {
    expect(problems(edit).join('\n')).toMatch(message)
  })
})
