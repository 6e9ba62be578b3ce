import {appendFileSync, mkdirSync} from 'node:fs'
import {homedir, userInfo} from 'node:os'
import {dirname, join} from 'node:path'
import {redactDeep} from './redact.js'

/**
 * The audit log: append-only JSON lines, one per command run (and per runbook step), secrets redacted.
 * Location: $CTL_AUDIT_LOG, else $XDG_STATE_HOME/ctl/audit.log, else ~/.local/state/ctl/audit.log.
 */
export function auditLogPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CTL_AUDIT_LOG) return env.CTL_AUDIT_LOG
  const stateHome = env.XDG_STATE_HOME || join(homedir(), '.local', 'state')
  return join(stateHome, 'ctl', 'audit.log')
}

export interface AuditEntry {
  command: string
  env?: string
  hosts?: string[]
  outcome: 'ok' | 'failed' | 'refused' | 'dry-run' | 'started' | string
  detail?: unknown
}

export function operatorName(): string {
  try {
    return process.env.CTL_OPERATOR || userInfo().username
  } catch {
    return 'unknown'
  }
}

export function appendAudit(entry: AuditEntry): void {
  const line = redactDeep({time: new Date().toISOString(), operator: operatorName(), ...entry})
  const path = auditLogPath()
  mkdirSync(dirname(path), {recursive: true, mode: 0o700})
  appendFileSync(path, JSON.stringify(line) + '\n', {mode: 0o600})
}
