import type {NotifyEvent} from '../inventory/schema/notify.js'

/** What a webhook is told, and the two bodies it can be told in. Pure. */

export type NotifyKind = 'deploy' | 'rollback' | 'reload' | 'runbook'

export interface Notification {
  event: NotifyEvent
  env: string
  operator: string
  /** The operator's machine. */
  from: string
  /** The command as run, e.g. `deploy lab --image app=v2 --yes` (redacted). */
  command: string
  /** What it works on: the images a deploy puts on, the runbook's name. */
  what: string
  at: string
  /** End events: ok, failed, rolled-back, refused, stopped... */
  outcome?: string
  durationMs?: number
  error?: string
}

/** The event that ends a run: a refusal, a deploy that rolled back, or the plain end. */
export function endEvent(kind: NotifyKind, outcome: string): NotifyEvent {
  if (outcome === 'refused') return `${kind}.refused`
  if (kind === 'deploy' && outcome === 'rolled-back') return 'deploy.rollback'
  return `${kind}.end`
}

const seconds = (ms?: number) => (ms === undefined ? '' : ` in ${ms < 10_000 ? (ms / 1000).toFixed(1) : Math.round(ms / 1000)} s`)

/** One line a person reads in a chat channel. */
export function notificationText(full: Notification): string {
  // Image digests are for machines (the JSON body keeps them); a chat line names the tag.
  const n = {...full, what: full.what.replace(/@sha256:[0-9a-f]{64}/g, '')}
  const who = `on ${n.env} by ${n.operator}`
  const kind = n.event.split('.')[0]
  switch (n.event) {
    case 'deploy.start':
    case 'rollback.start':
    case 'reload.start':
    case 'runbook.start':
      return `▶ ${kind} ${n.what} started ${who}`
    case 'deploy.rollback':
      return `↩ deploy ${n.what} ROLLED BACK ${who}${seconds(n.durationMs)}${n.error ? `: ${n.error}` : ''}`
    case 'deploy.refused':
    case 'rollback.refused':
    case 'reload.refused':
    case 'runbook.refused':
      return `⛔ ${kind} ${n.what} refused ${who}${n.error ? `: ${n.error}` : ''}`
    default:
      return `${['ok', 'no-changes', 'repaired'].includes(n.outcome ?? '') ? '✔' : '✖'} ${kind} ${n.what} ${n.outcome ?? 'ended'} ${who}${seconds(n.durationMs)}${n.error ? `: ${n.error}` : ''}`
  }
}

/** The request body: Slack's incoming-webhook `{text}`, or ctl's fields as they are. */
export function notificationBody(format: 'slack' | 'json', n: Notification): string {
  return JSON.stringify(format === 'slack' ? {text: notificationText(n)} : n)
}
