/** What one attempt of a delivery came to; `retry` is a timeout, a network error, 408, 429 or a 5xx. */
export type SendResult =
  | { outcome: 'sent'; response: string }
  | { outcome: 'retry'; response: string; retryAfterSeconds?: number }
  | { outcome: 'fail'; response: string }

const RESPONSE_CHARS = 300

/** The receiver's answer as the delivery log keeps it: status and the start of its body, never our request. */
const answer = (status: number, text: string) =>
  `${status} ${text.replace(/\s+/g, ' ').trim()}`.slice(0, RESPONSE_CHARS)

/** Retry-After in seconds or as an HTTP date; anything else is ignored. */
function retryAfter(value: string | null): number | undefined {
  if (!value) return undefined
  const seconds = Number(value)
  if (Number.isFinite(seconds) && seconds >= 0) return seconds
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.max(0, (at - Date.now()) / 1000)
}

/** POSTs JSON and classifies the answer. The URL is a secret: errors name the host at most. */
export async function postJson(
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<SendResult> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'TenantAtlas-Alerts/1', ...headers },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    })
    const text = await response.text().catch(() => '')
    const summary = answer(response.status, text)
    if (response.status >= 200 && response.status < 300) return { outcome: 'sent', response: summary }
    if (response.status === 408 || response.status === 429 || response.status >= 500) {
      const after = retryAfter(response.headers.get('retry-after'))
      return { outcome: 'retry', response: summary, ...(after === undefined ? {} : { retryAfterSeconds: after }) }
    }
    return { outcome: 'fail', response: summary }
  } catch (error) {
    const name = (error as { name?: string }).name
    if (name === 'TimeoutError' || name === 'AbortError')
      return { outcome: 'retry', response: `no answer within ${timeoutMs} ms` }
    const code = (error as { cause?: { code?: string } }).cause?.code
    return { outcome: 'retry', response: `could not reach ${new URL(url).host}${code ? ` (${code})` : ''}` }
  }
}
