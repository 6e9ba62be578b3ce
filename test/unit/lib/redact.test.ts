import {afterEach, describe, expect, it} from 'vitest'
import {clearSecrets, redact, redactDeep, registerSecret} from '../../../src/lib/redact.js'

describe('redact', () => {
  afterEach(() => clearSecrets())

  it('removes registered secrets wherever they appear', () => {
    registerSecret('s3cr3t-value')
    expect(redact('mysql -ps3cr3t-value -e select')).toBe('mysql -p*** -e select')
    expect(redactDeep({cmd: ['x', 's3cr3t-value'], n: 1})).toEqual({cmd: ['x', '***'], n: 1})
  })

  it('removes password= and token: assignments even when not registered', () => {
    expect(redact('PGPASSWORD=hunter22 psql')).toBe('PGPASSWORD=*** psql')
    expect(redact('{"root_token": "hvs.abc"}')).toBe('{"root_token": "***"}')
  })
})
