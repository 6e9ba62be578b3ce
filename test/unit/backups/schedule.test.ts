import {execFileSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {applyCronFileCommand, cronFileAction, parseCronFile, planCronFiles} from '../../../src/backups/schedule.js'
import {loadInventory} from '../../../src/inventory/load.js'
import {inventorySchema} from '../../../src/inventory/schema/index.js'
import {renderCommand} from '../../../src/lib/shell.js'

const loaded = loadInventory(join(import.meta.dirname, '..', '..', '..', 'inventories', 'lab.yml'))

describe('backup schedule', () => {
  it("renders the lab's schedule as one cron file on the backup host h4: pgBackRest as postgres, Redis and RabbitMQ as root", () => {
    const [plan] = planCronFiles(loaded.inventory, 'lab')
    expect(plan).toMatchObject({
      node: 'h4',
      path: '/var/lib/ctl-lab/h4/cron/cron.d/ctl-backups-lab',
      jobs: [
        '30 1 * * 0: pgbackrest full backup',
        '30 1 * * 1-6: pgbackrest diff backup',
        '40 2 * * *: Redis RDB snapshot',
        '45 2 * * *: RabbitMQ definitions',
      ],
    })
    expect(plan!.text!.split('\n')).toEqual([
      "# Written by `ctl backup schedule lab` from the inventory's backups.schedule: edit the inventory and run it again.",
      'SHELL=/bin/sh',
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      '30 1 * * 0 postgres pgbackrest --config=/var/lib/ctl-lab/h4/pgbackrest/pgbackrest.conf --stanza=ctl-lab --type=full --backup-standby backup >> /var/lib/ctl-lab/h4/pgbackrest/log/ctl-schedule.log 2>&1',
      '30 1 * * 1-6 postgres pgbackrest --config=/var/lib/ctl-lab/h4/pgbackrest/pgbackrest.conf --stanza=ctl-lab --type=diff --backup-standby backup >> /var/lib/ctl-lab/h4/pgbackrest/log/ctl-schedule.log 2>&1',
      '40 2 * * * root mkdir -p /var/lib/ctl-lab/h4/redis-backups && /var/lib/ctl-lab/h4/cron/ctl-backups/redis-backup-lab.sh >> /var/lib/ctl-lab/h4/redis-backups/ctl-schedule.log 2>&1',
      '45 2 * * * root mkdir -p /var/lib/ctl-lab/h4/rabbitmq-backups && /var/lib/ctl-lab/h4/cron/ctl-backups/rabbitmq-definitions-backup-lab.sh >> /var/lib/ctl-lab/h4/rabbitmq-backups/ctl-schedule.log 2>&1',
      '',
    ])
  })

  it('names the file as cron reads it (no dots) and escapes "%" (cron would end the command there)', () => {
    const inv = structuredClone(loaded.inventory)
    inv.databases.patroni!.pgbackrest!.logPath = '/var/log/pg%br'
    const [plan] = planCronFiles(inv, 'prod.eu')
    expect(plan!.path).toBe('/var/lib/ctl-lab/h4/cron/cron.d/ctl-backups-prod_eu')
    expect(plan!.text).toContain('>> /var/log/pg\\%br/ctl-schedule.log 2>&1')
  })

  it('plans to remove the file when the schedule is empty; knows what to do with what is there', () => {
    const inv = {...loaded.inventory, backups: {...loaded.inventory.backups, schedule: []}}
    const plans = planCronFiles(inv, 'lab')
    // One file per backup node: the repository's (h4) and the MariaDB backup node's (h3), whose job files go too.
    expect(plans.map((p) => p.node)).toEqual(['h4', 'h3'])
    // The Redis and RabbitMQ jobs' files on h4 go too.
    expect(plans[0]).toEqual({
      node: 'h4',
      path: '/var/lib/ctl-lab/h4/cron/cron.d/ctl-backups-lab',
      jobs: [],
      stale: [
        '/var/lib/ctl-lab/h4/cron/ctl-backups/redis-backup-lab.sh',
        '/var/lib/ctl-lab/h4/cron/ctl-backups/redis-backup-lab.secrets',
        '/var/lib/ctl-lab/h4/cron/ctl-backups/rabbitmq-definitions-backup-lab.sh',
      ],
    })
    const plan = plans[1]
    const stale = [
      '/var/lib/ctl-lab/h3/cron/ctl-backups/mariadb-backup-lab.sh',
      '/var/lib/ctl-lab/h3/cron/ctl-backups/mariadb-binlogs-lab.sh',
      '/var/lib/ctl-lab/h3/cron/ctl-backups/mariadb-backup-lab.secrets',
    ]
    expect(plan).toEqual({node: 'h3', path: '/var/lib/ctl-lab/h3/cron/cron.d/ctl-backups-lab', jobs: [], stale})
    expect(cronFileAction(plan!, 'old')).toBe('remove')
    expect(cronFileAction(plan!, undefined)).toBe('absent')
    // A MariaDB job's files left from an earlier schedule go as well.
    expect(cronFileAction(plan!, undefined, new Map([[stale[0]!, 'a'.repeat(64)]]))).toBe('remove')
    expect(renderCommand(applyCronFileCommand(plan!))).toBe(`rm -f /var/lib/ctl-lab/h3/cron/cron.d/ctl-backups-lab && rm -f ${stale.join(' ')}`)
    const [full] = planCronFiles(loaded.inventory, 'lab')
    expect(cronFileAction(full!, undefined)).toBe('install')
    // The job files there as planned (by hash): unchanged; one missing: replaced.
    const there = new Map((full!.support ?? []).map((f) => [f.path, createHash('sha256').update(f.text).digest('hex')] as const))
    expect(cronFileAction(full!, full!.text, there)).toBe('unchanged')
    expect(cronFileAction(full!, full!.text!.trimEnd(), there)).toBe('unchanged')
    expect(cronFileAction(full!, full!.text)).toBe('replace')
    expect(cronFileAction(full!, 'other')).toBe('replace')
    expect(parseCronFile('present\na\nb')).toBe('a\nb')
    expect(parseCronFile('absent\n')).toBeUndefined()
  })

  it('schedules a MariaDB backup on the Galera backup node through its script, the secrets in a 0600 file compared by hash only', () => {
    const inv = structuredClone(loaded.inventory)
    inv.backups.schedule = [{job: 'mariadb', type: 'full', repo: 'local', cron: '15 2 * * *'}]
    const plan = planCronFiles(inv, 'lab', {mariadb: 'pw\nAK\nSK\nkey\n'}).find((p) => p.node === 'h3')
    expect(plan!.jobs).toEqual(['15 2 * * *: mariabackup backup'])
    expect(plan!.text).toContain(
      '15 2 * * * root /var/lib/ctl-lab/h3/cron/ctl-backups/mariadb-backup-lab.sh >> /var/lib/ctl-lab/h3/galera-backups/ctl-schedule.log 2>&1',
    )
    const [script, secrets] = plan!.support!
    expect(script).toMatchObject({path: '/var/lib/ctl-lab/h3/cron/ctl-backups/mariadb-backup-lab.sh', mode: '700', secret: false})
    expect(secrets).toMatchObject({
      path: '/var/lib/ctl-lab/h3/cron/ctl-backups/mariadb-backup-lab.secrets',
      mode: '600',
      secret: true,
      text: 'pw\nAK\nSK\nkey\n',
    })
    // The script never holds a secret: it reads them from the secrets file, the password on mariabackup's stdin.
    expect(script!.text).not.toMatch(/\bpw\b|AK|SK/)
    const lines = script!.text.split('\n')
    const at = (text: string) => lines.findIndex((l) => l.includes(text))
    expect(at('flock -n 9')).toBeGreaterThan(0)
    expect(at('mariabackup --defaults-file=/var/lib/ctl-lab/h3/galera/my.cnf --backup --galera-info')).toBeLessThan(at('mariabackup --prepare'))
    expect(at('mariabackup --prepare')).toBeLessThan(at('ctl-rows.tsv'))
    expect(at('ctl-rows.tsv')).toBeLessThan(at('mv /var/lib/ctl-lab/h3/galera-backups/.ctl-scheduled "$target"'))
    expect(at('mv /var/lib/ctl-lab/h3/galera-backups/.ctl-scheduled')).toBeLessThan(at('rst backup --json'))
    expect(script!.text).toContain(`sed -n '2,4p' "$secrets" | sh -c 'IFS= read -r AWS_ACCESS_KEY_ID`)
    // sh reads it (syntax only: nothing runs).
    expect(() => execFileSync('sh', ['-n'], {input: script!.text})).not.toThrow()
    // Same inventory, same secrets: unchanged; another password: the secrets file is replaced.
    const hash = (text: string) => createHash('sha256').update(text).digest('hex')
    const there = new Map([
      [script!.path, hash(script!.text)],
      [secrets!.path, hash(secrets!.text)],
    ])
    expect(cronFileAction(plan!, plan!.text, there)).toBe('unchanged')
    expect(cronFileAction(plan!, plan!.text, new Map([...there, [secrets!.path, hash('old\n')]]))).toBe('replace')
  })

  it("archives MariaDB's binary logs on the backup node through its own script, sharing the backup job's secrets file", () => {
    const plan = planCronFiles(loaded.inventory, 'lab', {mariadb: 'pw\nAK\nSK\nkey\n'}).find((p) => p.node === 'h3')
    expect(plan!.jobs).toEqual(['*/5 * * * *: binary-log archive'])
    expect(plan!.text).toContain(
      '*/5 * * * * root /var/lib/ctl-lab/h3/cron/ctl-backups/mariadb-binlogs-lab.sh >> /var/lib/ctl-lab/h3/galera-backups/ctl-schedule.log 2>&1',
    )
    // Only the backup job's script is stale: the secrets stay for the binlog job.
    expect(plan!.stale).toEqual(['/var/lib/ctl-lab/h3/cron/ctl-backups/mariadb-backup-lab.sh'])
    const [script, secrets] = plan!.support!
    expect(script).toMatchObject({path: '/var/lib/ctl-lab/h3/cron/ctl-backups/mariadb-binlogs-lab.sh', mode: '700'})
    expect(secrets).toMatchObject({path: '/var/lib/ctl-lab/h3/cron/ctl-backups/mariadb-backup-lab.secrets', mode: '600', secret: true})
    expect(script!.text).not.toMatch(/\bpw\b|AK|SK/)
    const lines = script!.text.split('\n')
    const at = (text: string) => lines.findIndex((l) => l.includes(text))
    // One archiving run at a time on the node, whoever runs it (this job, the runbook, a restore).
    expect(at('flock -w 600 9')).toBeGreaterThan(0)
    expect(at('FLUSH BINARY LOGS')).toBeGreaterThan(at('flock -w 600 9'))
    // Its output file's directory exists before the first redirection into it (a node never archived before).
    expect(at('mkdir -p /var/lib/ctl-lab/h3/galera-backups/.ctl-binlogs')).toBeLessThan(at('/.ctl-binlogs/h3.out'))
    expect(at('mkdir -p /var/lib/ctl-lab/h3/galera-backups/.ctl-binlogs')).toBeGreaterThan(0)
    expect(at('rst backup --json --quiet --tag ctl-binlogs')).toBeGreaterThan(at('FLUSH BINARY LOGS'))
    expect(script!.text).toContain('sed -n 1p "$secrets" | sh -c \'umask 077')
    expect(script!.text).toContain(`sed -n '2,4p' "$secrets" | sh -c 'IFS= read -r AWS_ACCESS_KEY_ID`)
    expect(() => execFileSync('sh', ['-n'], {input: script!.text})).not.toThrow()
    // Both MariaDB jobs: both scripts, one secrets file, nothing stale.
    const inv = structuredClone(loaded.inventory)
    inv.backups.schedule.push({job: 'mariadb', type: 'full', repo: 'local', cron: '15 2 * * *'})
    const both = planCronFiles(inv, 'lab', {mariadb: 'x\n'}).find((p) => p.node === 'h3')
    expect(both!.support!.map((f) => f.path.split('/').at(-1))).toEqual(['mariadb-backup-lab.sh', 'mariadb-binlogs-lab.sh', 'mariadb-backup-lab.secrets'])
    expect(both!.stale).toBeUndefined()
  })

  it('refuses an offsite pgBackRest job without backups.offsite, and passes --repo=2 with one', () => {
    const inv = structuredClone(loaded.inventory)
    inv.backups.schedule = [{job: 'pgbackrest', type: 'full', repo: 'offsite', cron: '0 3 * * 0'}]
    expect(planCronFiles(inv, 'lab')[0]!.text).toContain('--stanza=ctl-lab --repo=2 --type=full --backup-standby backup')
    expect(() => planCronFiles({...inv, backups: {...inv.backups, offsite: undefined}}, 'lab')).toThrow(/no backups.offsite/)
  })

  it('refuses cron fields that are not cron fields (they end up in a file cron runs through sh)', () => {
    const parse = (cron: string) => inventorySchema.safeParse({...structuredCloneInput(), backups: {schedule: [{job: 'pgbackrest', cron}]}}).success
    expect(parse('0 1 * * 0')).toBe(true)
    expect(parse('*/5 * * * 1-5')).toBe(true)
    for (const bad of ['0 1 * *', '@daily', '0 1 * * * root rm -rf /', '0 1 * * 0; reboot', '$(id) * * * *']) expect(parse(bad), bad).toBe(false)
  })
})

function structuredCloneInput() {
  return {name: 'x', nodes: [{name: 'db1', address: '10.0.0.1'}]}
}
