/** One HTTP answer as a check sees it: status (null = no answer) and the whole body (JSON fields are read from it). */
export interface HttpAnswer {
  url: string
  status: number | null
  body: string
  /** The connection error when nothing answered. */
  error?: string
}

/** GET from the operator's machine; never throws (no answer is an answer too). */
export async function httpGet(url: string, timeoutMs: number): Promise<HttpAnswer> {
  try {
    const response = await fetch(url, {signal: AbortSignal.timeout(timeoutMs), headers: {connection: 'close'}})
    return {url, status: response.status, body: await response.text()}
  } catch (error) {
    const err = error as Error & {cause?: {code?: string}}
    return {url, status: null, body: '', error: err.cause?.code ?? err.name ?? String(error)}
  }
}

/** A short form for details: `HTTP 503 {"status":"failing"...}` or `no answer (ECONNREFUSED)`. */
export function describeAnswer(answer: HttpAnswer): string {
  if (answer.status === null) return `no answer (${answer.error ?? 'unknown error'})`
  const body = answer.body.replace(/\s+/g, ' ').trim().slice(0, 120)
  return `HTTP ${answer.status}${body ? ` ${body}` : ''}`
}
