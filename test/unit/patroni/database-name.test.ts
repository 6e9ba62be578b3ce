import {describe, expect, it} from 'vitest'
import {CtlError, ExitCode} from '../../../src/lib/errors.js'
import {checkDatabaseName, conninfoValue, databaseNameProblem, dbnameArgs} from '../../../src/patroni/database-name.js'

describe('database names', () => {
  it.each([
    ['host=10.0.0.9 port=5432 dbname=app', 'connection settings ("="), not a name'],
    ['dbname=app', 'connection settings ("="), not a name'],
    ['postgresql://x/app', 'a connection URI, not a name'],
    ['postgres://x/app', 'a connection URI, not a name'],
    ['a b', 'it contains " "'],
    ["a'b", `it contains "'"`],
    ['"app"', 'it must start with a letter or "_"'],
    ['app;', 'it contains ";"'],
    ['app\nx', 'it contains "\\n"'],
    ['..', 'it must start with a letter or "_"'],
    ['a..b', 'it contains "."'],
    ['a'.repeat(64), 'longer than 63 bytes'],
    ['', 'empty'],
    ['-d', 'it must start with a letter or "_"'],
    ['1app', 'it must start with a letter or "_"'],
    ['app\\x', 'it contains "\\\\"'],
    ['äpp', 'it must start with a letter or "_"'],
  ])('refuses %j', (name, problem) => {
    expect(databaseNameProblem(name)).toBe(problem)
    expect(() => dbnameArgs(name)).toThrow(CtlError)
  })

  it.each(['app', 'postgres', '_x', 'ctl_lab_shop', 'shop-2', 'a$b', 'App_Restored_20261126t123355', 'a'.repeat(63)])('accepts %j', (name) => {
    expect(databaseNameProblem(name)).toBeUndefined()
    expect(checkDatabaseName(name, '--db')).toBe(name)
  })

  it('refuses with exit 2, naming the value, where it came from and the rule', () => {
    let error: unknown
    try {
      checkDatabaseName('host=198.18.0.1 dbname=app', '--db')
    } catch (thrown) {
      error = thrown
    }
    expect(error).toBeInstanceOf(CtlError)
    const e = error as CtlError
    expect(e.exitCode).toBe(ExitCode.cannotRun)
    expect(e.code).toBe('pg.database-name')
    expect(e.message).toBe('Database name "host=198.18.0.1 dbname=app" (--db) is refused: connection settings ("="), not a name')
    expect(e.hint).toContain('a letter or "_" first, then letters, digits, "_", "$" or "-", at most 63 bytes')
  })

  it('hands libpq a connection string that only sets dbname', () => {
    expect(dbnameArgs('app')).toEqual(['-d', 'dbname=app'])
    expect(dbnameArgs('a$b-c')).toEqual(['-d', 'dbname=a$b-c'])
  })

  it.each([
    ['app', 'app'],
    ['a b', "'a b'"],
    ["o'x", "'o\\'x'"],
    ['a\\b', "'a\\\\b'"],
    ['', "''"],
  ])('quotes a conninfo value %j as %s', (value, quoted) => expect(conninfoValue(value)).toBe(quoted))
})
