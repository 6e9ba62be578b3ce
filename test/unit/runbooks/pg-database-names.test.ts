import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {loadInventory} from '../../../src/inventory/load.js'
import {CtlError} from '../../../src/lib/errors.js'
import {pgBackup} from '../../../src/runbooks/pg-backup.js'
import {pgRestore} from '../../../src/runbooks/pg-restore.js'

// --db is refused in setup, before the run journal, the lock or any connection.
const loaded = loadInventory(join(import.meta.dirname, '..', '..', '..', 'inventories', 'lab.yml'))
const HOSTILE = ['host=198.18.0.1 dbname=app', 'dbname=app', 'postgresql://x/app', "app'; drop database app; --"]

function refusal(fn: () => unknown): CtlError {
  try {
    fn()
  } catch (error) {
    if (error instanceof CtlError) return error
    throw error
  }
  throw new Error('not refused')
}

describe('pg runbooks refuse database names that are connection settings', () => {
  it.each(HOSTILE)('pg-restore --db %j', (db) => {
    const e = refusal(() => pgRestore.setup({loaded, options: {from: 'x.dump', db, replace: true}}))
    expect([e.exitCode, e.code]).toEqual([2, 'pg.database-name'])
    expect(e.message).toContain(`${JSON.stringify(db)} (--db)`)
  })

  it.each(HOSTILE)('pg-backup --db %j', (db) => {
    const e = refusal(() => pgBackup.setup({loaded, options: {db}}))
    expect([e.exitCode, e.code]).toEqual([2, 'pg.database-name'])
  })

  it('keeps good names', () => {
    expect(pgRestore.setup({loaded, options: {from: 'x.dump', db: 'shop_copy', replace: false}}).requestedDb).toBe('shop_copy')
    expect(pgBackup.setup({loaded, options: {db: 'shop'}}).database).toBe('shop')
    expect(pgBackup.setup({loaded, options: {}}).database).toBe('postgres')
  })
})
