import {execFileSync} from 'node:child_process'
import {describe, expect, it} from 'vitest'
import {buildPsql, sqlIdent, sqlLiteral, withPasswordFromStdin} from '../../../src/patroni/sql.js'

describe('buildPsql', () => {
  it('reads the password from the first stdin line and never puts it in the command', () => {
    expect(buildPsql({node: 'h1', host: '198.18.0.11', port: 5432, user: 'postgres', database: 'app'}).script).toBe(
      'IFS= read -r p; if [ -n "$p" ]; then PGPASSWORD=$p; export PGPASSWORD; fi; PGCONNECT_TIMEOUT=5; export PGCONNECT_TIMEOUT; exec psql -X -A -t -q -v ON_ERROR_STOP=1 -h 198.18.0.11 -p 5432 -U postgres -d dbname=app',
    )
  })

  it('refuses a database name that libpq would read as where to connect', () => {
    expect(() => buildPsql({node: 'h1', host: '198.18.0.11', port: 5432, user: 'postgres', database: 'host=10.0.0.9 dbname=app'})).toThrow(/refused/)
  })

  it('hands the password to the program and the rest of stdin to it, in a real shell', () => {
    const {script} = withPasswordFromStdin(['sh', '-c', 'printf "%s|" "$PGPASSWORD"; cat'])
    const out = execFileSync('sh', ['-c', script], {input: "s3cr'et $x\nselect 1;\nselect 2;\n", env: {PATH: process.env.PATH}}).toString()
    expect(out).toBe("s3cr'et $x|select 1;\nselect 2;\n")
  })

  it('leaves PGPASSWORD unset when there is no password', () => {
    const {script} = withPasswordFromStdin(['sh', '-c', 'echo "${PGPASSWORD-unset}"'])
    expect(execFileSync('sh', ['-c', script], {input: '\n', env: {PATH: process.env.PATH}}).toString()).toBe('unset\n')
  })
})

describe('SQL quoting', () => {
  it.each([
    ['app', '"app"'],
    ['we"ird', '"we""ird"'],
  ])('identifier %s', (name, quoted) => expect(sqlIdent(name)).toBe(quoted))

  it.each([
    ['plain', "'plain'"],
    ["o'brien", "'o''brien'"],
  ])('literal %s', (value, quoted) => expect(sqlLiteral(value)).toBe(quoted))
})
