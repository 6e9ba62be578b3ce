import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {applyCronFileCommand, cronFileAction, parseCronFile, planCronFiles} from '../../../src/backups/schedule.js'
import {loadInventory} from '../../../src/inventory/load.js'
import {inventorySchema} from '../../../src/inventory/schema/index.js'
import {renderCommand} from '../../../src/lib/shell.js'

const loaded = loadInventory(join(import.meta.dirname, '..', '..', '..', 'inventories', 'lab.yml'))

describe('backup schedule', () => {
  it("renders the lab's schedule as one cron file on the repository node, run as postgres", () => {
    const [plan] = planCronFiles(loaded.inventory, 'lab')
    expect(plan).toMatchObject({
      node: 'h3',
      path: '/var/lib/ctl-lab/h3/cron/cron.d/ctl-backups-lab',
      jobs: ['30 1 * * 0: pgbackrest full backup', '30 1 * * 1-6: pgbackrest diff backup'],
    })
    expect(plan!.text!.split('\n')).toEqual([
      "# Written by `ctl backup schedule lab` from the inventory's backups.schedule: edit the inventory and run it again.",
      'SHELL=/bin/sh',
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      '30 1 * * 0 postgres pgbackrest --config=/var/lib/ctl-lab/h3/pgbackrest/pgbackrest.conf --stanza=ctl-lab --type=full --backup-standby backup >> /var/lib/ctl-lab/h3/pgbackrest/log/ctl-schedule.log 2>&1',
      '30 1 * * 1-6 postgres pgbackrest --config=/var/lib/ctl-lab/h3/pgbackrest/pgbackrest.conf --stanza=ctl-lab --type=diff --backup-standby backup >> /var/lib/ctl-lab/h3/pgbackrest/log/ctl-schedule.log 2>&1',
      '',
    ])
  })

  it('names the file as cron reads it (no dots) and escapes "%" (cron would end the command there)', () => {
    const inv = structuredClone(loaded.inventory)
    inv.databases.patroni!.pgbackrest!.logPath = '/var/log/pg%br'
    const [plan] = planCronFiles(inv, 'prod.eu')
    expect(plan!.path).toBe('/var/lib/ctl-lab/h3/cron/cron.d/ctl-backups-prod_eu')
    expect(plan!.text).toContain('>> /var/log/pg\\%br/ctl-schedule.log 2>&1')
  })

  it('plans to remove the file when the schedule is empty; knows what to do with what is there', () => {
    const inv = {...loaded.inventory, backups: {...loaded.inventory.backups, schedule: []}}
    const [plan] = planCronFiles(inv, 'lab')
    expect(plan).toEqual({node: 'h3', path: '/var/lib/ctl-lab/h3/cron/cron.d/ctl-backups-lab', jobs: []})
    expect(cronFileAction(plan!, 'old')).toBe('remove')
    expect(cronFileAction(plan!, undefined)).toBe('absent')
    expect(renderCommand(applyCronFileCommand(plan!))).toBe('rm -f /var/lib/ctl-lab/h3/cron/cron.d/ctl-backups-lab')
    const [full] = planCronFiles(loaded.inventory, 'lab')
    expect(cronFileAction(full!, undefined)).toBe('install')
    expect(cronFileAction(full!, full!.text)).toBe('unchanged')
    expect(cronFileAction(full!, full!.text!.trimEnd())).toBe('unchanged')
    expect(cronFileAction(full!, 'other')).toBe('replace')
    expect(parseCronFile('present\na\nb')).toBe('a\nb')
    expect(parseCronFile('absent\n')).toBeUndefined()
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
