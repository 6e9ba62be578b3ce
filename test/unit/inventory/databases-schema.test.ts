import {describe, expect, it} from 'vitest'
import {patroni} from '../../../src/inventory/schema/databases.js'

// databases.patroni.database reaches psql/pg_dump as -d: the same rule as --db and backup records.
const section = (database?: string) => ({scope: 'pg', members: [{node: 'a', name: 'pg1'}], ...(database === undefined ? {} : {database})})

describe('databases.patroni.database', () => {
  it.each(['host=10.0.0.9 port=5432 dbname=app', 'dbname=app', 'postgresql://x/app', 'a b', 'a.b', '1app', 'a'.repeat(64)])(
    'refuses %j with the rule',
    (database) => {
      const parsed = patroni.safeParse(section(database))
      expect(parsed.success).toBe(false)
      expect(parsed.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([['database', expect.stringContaining('a letter or "_" first')]])
    },
  )

  it.each(['app', 'ctl_lab_shop', 'a$b-c'])('accepts %j', (database) => {
    expect(patroni.parse(section(database)).database).toBe(database)
  })

  it('defaults to postgres', () => expect(patroni.parse(section()).database).toBe('postgres'))
})
