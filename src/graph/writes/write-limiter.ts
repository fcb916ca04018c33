import { setTimeout as sleep } from 'node:timers/promises'

/**
 * Intune's write limit, kept exactly: at most `limit` writes start in any `windowMs` (a sliding
 * window over the send times of the last writes), less a margin for latency jitter (a write sent
 * just inside our window can arrive just inside the server's next one). Intune counts writes per
 * app per tenant (100 per 20 s) and per tenant for all apps (200 per 20 s): this process is one
 * app, so the per-app limit binds; writes of other apps show up as 429s with Retry-After, which
 * pause the limiter (TenantBudget.throttled).
 *
 * A sliding window, unlike the token bucket the reads use, sustains the full rate: over a long
 * restore it starts `limit·(1 − margin)` writes per window, whatever the server's window
 * boundaries, so a restore's wall time stays near the write floor (writes ÷ the allowed rate).
 *
 * The server counts arrivals, we count sends: a write that took longer to arrive (a new
 * connection) opens the server's window later than ours, and writes sent one window after it,
 * arriving faster, would land in it. A constant latency shifts both alike; what matters is its
 * spread, so the window is widened by the spread (slowest − fastest) of the latest writes' round
 * trips (`observe`), at most a quarter of the window.
 */
export class SlidingWindowLimiter {
  readonly limit: number
  readonly windowMs: number
  /** Send times of the writes in the current window, oldest first. */
  readonly #times: number[] = []
  #pausedUntil = 0
  /** Round trips of the latest writes (ms). */
  readonly #latencies: number[] = []
  #tail: Promise<void> = Promise.resolve()
  waitedMs = 0

  constructor(limit: number, windowMs: number, margin = 0.03) {
    this.limit = Math.max(1, Math.floor(limit - Math.max(limit >= 10 ? 1 : 0, limit * margin)))
    this.windowMs = windowMs
  }

  /** Writes started in the last window (for tests and figures). */
  inWindow(now = performance.now()): number {
    this.#expire(now)
    return this.#times.length
  }

  /** The window a send must leave before its slot is free again: the limit's window plus the spread of recent round trips. */
  get spanMs(): number {
    if (this.#latencies.length === 0) return this.windowMs
    return this.windowMs + Math.min(this.windowMs / 4, Math.max(...this.#latencies) - Math.min(...this.#latencies))
  }

  /** A write's round trip, as the client measured it. */
  observe(latencyMs: number) {
    this.#latencies.push(latencyMs)
    if (this.#latencies.length > 20) this.#latencies.shift()
  }

  #expire(now: number) {
    const span = this.spanMs
    while (this.#times.length > 0 && this.#times[0]! <= now - span) this.#times.shift()
  }

  /** Waits, first come first served, until `n` writes may start; resolves to the time they were admitted. */
  take(n = 1): Promise<number> {
    const turn = this.#tail.then(() => this.#acquire(Math.min(n, this.limit)))
    this.#tail = turn.then(
      () => undefined,
      () => undefined,
    )
    return turn
  }

  async #acquire(n: number): Promise<number> {
    const started = performance.now()
    for (;;) {
      const now = performance.now()
      if (now < this.#pausedUntil) {
        await sleep(this.#pausedUntil - now)
        continue
      }
      this.#expire(now)
      if (this.#times.length + n <= this.limit) {
        for (let i = 0; i < n; i++) this.#times.push(now)
        this.waitedMs += now - started
        return now
      }
      // The oldest write that must leave the window before n more fit.
      const oldest = this.#times[this.#times.length + n - this.limit - 1]!
      await sleep(Math.max(1, Math.ceil(oldest + this.spanMs - now)))
    }
  }

  /** After a 429 with Retry-After: no write starts for `ms`. */
  pause(ms: number) {
    const until = performance.now() + ms
    if (until > this.#pausedUntil) this.#pausedUntil = until
  }
}
