import {identifier, secretRef} from './common.js'
import {z} from './zod.js'

/** What ctl tells webhooks about: a deploy, rollback or reload and a runbook, as each starts and ends. */
const NOTIFY_EVENTS = [
  'deploy.start',
  'deploy.end',
  'deploy.rollback',
  'deploy.refused',
  'rollback.start',
  'rollback.end',
  'rollback.refused',
  'reload.start',
  'reload.end',
  'reload.refused',
  'runbook.start',
  'runbook.end',
  'runbook.refused',
] as const
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number]

export const notify = z.strictObject({
  webhooks: z
    .array(
      z.strictObject({
        /** Named in ctl's messages instead of the URL (which is a secret: it carries the webhook's token). */
        name: identifier,
        url: secretRef,
        /** `slack`: Slack's incoming-webhook body ({text}), which Mattermost, Rocket.Chat and Teams' Slack connectors take; `json`: ctl's own fields. */
        format: z.enum(['slack', 'json']).default('json'),
        /** The events sent (default: all). */
        events: z.array(z.enum(NOTIFY_EVENTS)).min(1).optional(),
      }),
    )
    .default([]),
  /** How long one webhook call may take; a deploy waits at most 1 s at its end for the calls still under way. */
  timeoutMs: z.number().int().positive().max(30_000).default(5000),
})
