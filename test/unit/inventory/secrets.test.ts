import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {resolveSecret} from '../../../src/inventory/secrets.js'
import {clearSecrets, redact} from '../../../src/lib/redact.js'

const dir = mkdtempSync(join(tmpdir(), 'ctl-secrets-'))
const loaded = {file: join(dir, 'prod.yml')}

describe('secret references', () => {
  afterEach(() => {
    clearSecrets()
    delete process.env.CTL_TEST_MULTI
  })

  it('reads a file relative to the inventory, without its final newline', () => {
    writeFileSync(join(dir, 'pw'), 's3cret-value\n')
    expect(resolveSecret(loaded, 'file:pw')).toBe('s3cret-value')
  })

  it('refuses a secret with a line break inside (it travels as one line), and still redacts it', () => {
    writeFileSync(join(dir, 'two-lines'), 'first-half-xyz\nsecond-half-xyz\n')
    expect(() => resolveSecret(loaded, 'file:two-lines')).toThrow(/holds a line break/)
    process.env.CTL_TEST_MULTI = 'abc-secret-123\rdef'
    expect(() => resolveSecret(loaded, 'env:CTL_TEST_MULTI')).toThrow(expect.objectContaining({code: 'secret.multiline'}))
    expect(redact('echo first-half-xyz\nsecond-half-xyz')).not.toContain('second-half-xyz')
  })
})
