// The one concurrency limiter: checks, executors and the lab bound their parallel work with these.

/** A counting semaphore: at most `size` holders at once, the rest wait in order. */
export class Semaphore {
  private active = 0
  private readonly waiting: (() => void)[] = []

  constructor(readonly size: number) {}

  async use<T>(work: () => Promise<T>): Promise<T> {
    if (this.active >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve))
    else this.active++
    try {
      return await work()
    } finally {
      const next = this.waiting.shift()
      // The permit passes straight to the next waiter, so `active` stays the same.
      if (next) next()
      else this.active--
    }
  }
}

/** Maps `items` with at most `concurrency` calls of `work` in flight; results keep the input order. */
export async function mapLimit<I, T>(items: readonly I[], concurrency: number, work: (item: I) => Promise<T>): Promise<T[]> {
  const gate = new Semaphore(Math.max(1, concurrency))
  return Promise.all(items.map((item) => gate.use(() => work(item))))
}

/**
 * Runs `work` on every item with at most `concurrency` at once, letting every item finish even when
 * one fails (a half-started host is worse than a finished one); then rejects with the first error.
 */
export async function forEachLimited<I>(items: readonly I[], concurrency: number, work: (item: I) => Promise<void>): Promise<void> {
  const gate = new Semaphore(Math.max(1, concurrency))
  const settled = await Promise.allSettled(items.map((item) => gate.use(() => work(item))))
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected')
  if (failed) throw failed.reason
}

/** Resolves with `work`, or rejects with `onTimeout()` after `ms`; the timer never keeps the process alive. */
export async function withTimeout<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms)
    timer.unref()
  })
  try {
    return await Promise.race([work, guard])
  } finally {
    clearTimeout(timer)
  }
}
