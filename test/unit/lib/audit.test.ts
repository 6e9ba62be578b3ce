import {mkdtempSync, readFileSync, rmSync, statSync} from 'node:fs'
import {homedir, tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {appendAudit, auditLogPath, operatorName} from '../../../src/lib/audit.js'
import {clearSecrets, registerSecret} from '../../../src/lib/redact.js'

const saved = {CTL_AUDIT_LOG: process.env.CTL_AUDIT_LOG, CTL_OPERATOR: process.env.CTL_OPERATOR}

afterEach(() => {
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key]
    else process.env[key] = value
  }
  clearSecrets()
})

describe('auditLogPath', () => {
  it('prefers $CTL_AUDIT_LOG, then $XDG_STATE_HOME/ctl, then ~/.local/state/ctl', () => {
    expect(auditLogPath({CTL_AUDIT_LOG: '/x/a.log', XDG_STATE_HOME: '/s'})).toBe('/x/a.log')
    expect(auditLogPath({XDG_STATE_HOME: '/s'})).toBe('/s/ctl/audit.log')
    expect(auditLogPath({})).toBe(join(homedir(), '.local', 'state', 'ctl', 'audit.log'))
  })
})

describe('appendAudit', () => {
  it('appends one JSON line per entry to a 0600 file in a 0700 directory it creates, secrets redacted', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctl-audit-'))
    try {
      const path = join(dir, 'state', 'ctl', 'audit.log')
      process.env.CTL_AUDIT_LOG = path
      process.env.CTL_OPERATOR = 'alice'
      registerSecret('s3cr3t-root-token')
      appendAudit({command: 'vault init prod', env: 'prod', hosts: ['v1'], outcome: 'ok', detail: {token: 's3cr3t-root-token', note: 'password=hunter22'}})
      appendAudit({command: 'deploy prod', env: 'prod', outcome: 'refused'})
      const text = readFileSync(path, 'utf8')
      expect(text).not.toContain('s3cr3t-root-token')
      expect(text).not.toContain('hunter22')
      const lines = text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>)
      expect(lines).toHaveLength(2)
      expect(lines[0]).toMatchObject({
        operator: 'alice',
        command: 'vault init prod',
        env: 'prod',
        hosts: ['v1'],
        outcome: 'ok',
        detail: {token: '***', note: 'password=***'},
      })
      expect(Number.isNaN(Date.parse(String(lines[0]!.time)))).toBe(false)
      expect(lines[1]).toMatchObject({command: 'deploy prod', outcome: 'refused'})
      expect(statSync(path).mode & 0o777).toBe(0o600)
      expect(statSync(join(dir, 'state', 'ctl')).mode & 0o777).toBe(0o700)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('names the operator from $CTL_OPERATOR, else the login name', () => {
    process.env.CTL_OPERATOR = 'bob'
    expect(operatorName()).toBe('bob')
    delete process.env.CTL_OPERATOR
    expect(operatorName()).not.toBe('')
  })
})
