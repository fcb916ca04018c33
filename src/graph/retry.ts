/**
 * When to try a Graph request again, and how long to wait first.
 */

export type RetryPolicy = {
  /** Attempts in all, the first included. */
  maxAttempts: number
  /** First back-off when Graph gives no Retry-After; doubles per attempt, with jitter. */
  baseDelayMs: number
  maxDelayMs: number
  /** A Retry-After longer than this is cut to it (a stuck tenant must not stall a run for an hour). */
  maxRetryAfterMs: number
}

export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 6,
  baseDelayMs: 1000,
  maxDelayMs: 30_000,
  maxRetryAfterMs: 120_000,
}

/** 429 throttled, 503/504 (and 502) transient: the statuses Graph asks clients to retry. */
export const isRetryableStatus = (status: number) =>
  status === 429 || status === 502 || status === 503 || status === 504

/** Retry-After in seconds or as an HTTP date, in milliseconds; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined
  const seconds = Number(value)
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000)
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

/** Exponential back-off with "equal jitter": half fixed, half random, so retries of many callers spread out. */
export function backoffMs(policy: RetryPolicy, attempt: number, random = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1))
  return ceiling / 2 + random() * (ceiling / 2)
}

/** The wait before the next attempt: Retry-After when Graph sent one (capped), else back-off. */
export function retryDelayMs(policy: RetryPolicy, attempt: number, retryAfterMs: number | undefined): number {
  return retryAfterMs === undefined ? backoffMs(policy, attempt) : Math.min(retryAfterMs, policy.maxRetryAfterMs)
}
