import {posix} from 'node:path'
import type {AuditEntry} from '../lib/audit.js'
import {quote, type RemoteCommand} from '../lib/shell.js'

/**
 * The shared history: every operator's command runs on an environment, appended on the platform
 * beside the deploy lock (`<deployLock.dir>/history-<env>.jsonl` on the first manager), so `ctl history`
 * shows what everyone did, whoever's machine ran it. The local audit log stays as it is. Pure.
 */

/**
 * The commands whose runs go into the shared history: those that act on an environment. Not checks,
 * listings, dry runs, nor refusals (nothing was done; most are refused before any host is reached).
 */
const SHARED = [
  /^deploy$/,
  /^rollback$/,
  /^reload$/,
  /^runbook:(?!list$|show$)/,
  /^vault:(init|unseal)$/,
  /^backup:(prune|schedule|verify|fetch)$/,
  /^node:/,
  /^exec$/,
]

export function isShared(commandId: string, outcome: string): boolean {
  return !['dry-run', 'refused', 'declined', 'no-changes'].includes(outcome) && SHARED.some((re) => re.test(commandId)) && commandId !== 'node:list'
}

export interface HistoryLine {
  time: string
  operator: string
  env: string
  command: string
  outcome: string
  durationMs?: number
  hosts?: string[]
  /** The error's message when it failed or was refused. */
  error?: string
}

export const historyPath = (lockDir: string, env: string) => posix.join(lockDir, `history-${env}.jsonl`)

/** The line the platform keeps: the audit entry without its detail (which may be large), but with the error. */
export function historyLine(
  entry: Required<Pick<AuditEntry, 'command' | 'outcome'>> & AuditEntry & {time: string; operator: string; env: string; durationMs?: number},
): HistoryLine {
  const detail = entry.detail as {error?: unknown} | undefined
  return {
    time: entry.time,
    operator: entry.operator,
    env: entry.env,
    command: entry.command,
    outcome: entry.outcome,
    ...(entry.durationMs !== undefined ? {durationMs: entry.durationMs} : {}),
    ...(entry.hosts?.length ? {hosts: entry.hosts} : {}),
    ...(typeof detail?.error === 'string' ? {error: detail.error.slice(0, 500)} : {}),
  }
}

/** Appends stdin (one JSON line) to the env's history, under a lock so two operators' lines never interleave. */
export function appendHistoryCommand(lockDir: string, env: string): RemoteCommand {
  const file = historyPath(lockDir, env)
  return {script: `mkdir -p ${quote(lockDir)} && umask 077 && exec 9>> ${quote(file)} && flock -w 10 9 && cat >&9`}
}

/** The newest `limit` lines of the env's history (nothing when there is none yet). */
export function readHistoryCommand(lockDir: string, env: string, limit: number): RemoteCommand {
  const file = quote(historyPath(lockDir, env))
  return {script: `if [ -f ${file} ]; then tail -n ${Math.max(1, Math.floor(limit))} ${file}; fi`}
}

/** The lines of the file, newest first, those of `operator` only and since `since` when given; a line that is not ours is skipped. */
export function parseHistory(text: string, filter: {since?: Date; operator?: string} = {}): HistoryLine[] {
  const lines: HistoryLine[] = []
  for (const raw of text.split('\n')) {
    if (!raw.trim()) continue
    try {
      const line = JSON.parse(raw) as HistoryLine
      if (typeof line.time !== 'string' || typeof line.command !== 'string' || typeof line.operator !== 'string') continue
      if (filter.operator !== undefined && line.operator !== filter.operator) continue
      if (filter.since && !(Date.parse(line.time) >= filter.since.getTime())) continue
      lines.push(line)
    } catch {
      // A torn or foreign line: skipped.
    }
  }
  return lines.sort((a, b) => b.time.localeCompare(a.time))
}

/** `--since 2h`, `30m`, `7d`, or a date: the moment it names, before `now`. */
export function parseSince(text: string, now = new Date()): Date | undefined {
  const m = /^(\d+)\s*(s|m|min|h|d)$/.exec(text.trim())
  if (m) return new Date(now.getTime() - Number(m[1]) * {s: 1, m: 60, min: 60, h: 3600, d: 86_400}[m[2] as 's' | 'm' | 'min' | 'h' | 'd'] * 1000)
  const at = Date.parse(text)
  return Number.isNaN(at) ? undefined : new Date(at)
}
