/** Runs `work` on every item with at most `limit` at once; rejects with the first error after all settle. */
export async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items]
  const errors: unknown[] = []
  const workers = Array.from({length: Math.min(limit, queue.length)}, async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
      try {
        await work(item)
      } catch (error) {
        errors.push(error)
      }
    }
  })
  await Promise.all(workers)
  if (errors.length > 0) throw errors[0]
}
