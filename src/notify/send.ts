import type {LoadedInventory} from '../inventory/load.js'
import type {NotifyEvent} from '../inventory/schema/notify.js'
import {resolveSecret} from '../inventory/secrets.js'
import {toCtlError} from '../lib/errors.js'
import {redact} from '../lib/redact.js'
import {notificationBody, type Notification} from './message.js'

/**
 * Sends notifications to the inventory's webhooks in the background: a call starts at once and is
 * never awaited by the work it reports on; `settle` waits for the calls still under way for a
 * bounded time at the end of the command, aborts the rest, and says which webhooks failed.
 */

/** How long the end of a command waits for the webhook calls still under way. */
const SETTLE_MS = 800

interface Sent {
  webhook: string
  event: NotifyEvent
  done: Promise<string | undefined>
  abort: AbortController
}

export class Notifier {
  private readonly sent: Sent[] = []

  constructor(private readonly loaded: LoadedInventory) {}

  get enabled(): boolean {
    return this.loaded.inventory.notify.webhooks.length > 0
  }

  send(n: Notification): void {
    const {webhooks, timeoutMs} = this.loaded.inventory.notify
    for (const hook of webhooks) {
      if (hook.events && !hook.events.includes(n.event)) continue
      const abort = new AbortController()
      const timer = setTimeout(() => abort.abort(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)
      const done = (async () => {
        try {
          const url = resolveSecret(this.loaded, hook.url)
          const response = await fetch(url, {
            method: 'POST',
            headers: {'content-type': 'application/json', 'user-agent': 'ctl'},
            body: redact(notificationBody(hook.format, n)),
            signal: abort.signal,
          })
          // The body is read (and dropped) so the connection is released.
          await response.arrayBuffer().catch(() => undefined)
          return response.ok ? undefined : `HTTP ${response.status}`
        } catch (error) {
          const reason = abort.signal.aborted ? abort.signal.reason : error
          // fetch's own errors name the URL, which carries the webhook's token: redacted.
          return redact(toCtlError((reason as Error)?.cause ?? reason).message)
        } finally {
          clearTimeout(timer)
        }
      })()
      this.sent.push({webhook: hook.name, event: n.event, done, abort})
    }
  }

  /** Waits at most `maxMs` for the calls under way, aborts the others; one line per call that failed. */
  async settle(maxMs = SETTLE_MS): Promise<string[]> {
    const pending = this.sent.splice(0)
    if (pending.length === 0) return []
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), maxMs)))
    const outcomes = await Promise.all(pending.map((s) => Promise.race([s.done, late])))
    clearTimeout(timer)
    const failures: string[] = []
    pending.forEach((s, i) => {
      const outcome = outcomes[i]
      if (outcome === 'late') {
        s.abort.abort(new Error('given up'))
        failures.push(`webhook ${s.webhook} (${s.event}): still no answer when ctl ended; given up`)
      } else if (outcome) failures.push(`webhook ${s.webhook} (${s.event}): ${outcome}`)
    })
    return failures
  }
}
