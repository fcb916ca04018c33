import { setTimeout as sleep } from 'node:timers/promises'
import { SlidingWindowLimiter } from './writes/write-limiter.ts'

/**
 * The per-tenant throttle budget, shared by everything in the process that reads a tenant.
 *
 * Intune allows 1,000 requests per 20 s per app per tenant (writes: 100). A token bucket with
 * capacity C refilling at r admits at most C + r·W requests in any window W; we choose
 * r = (limit − C) / W so that even a window aligned with a full bucket stays within the
 * limit, whatever the server's window boundaries (less a 3 % margin for latency jitter). Adaptive concurrency (AIMD) bounds the
 * requests in flight, for the case where another process (or another tool) spends the same
 * tenant's budget.
 *
 * A 429 backs off what was throttled, not the whole tenant, unless the tenant as a whole is
 * throttled: Graph said so (a Retry-After, which Intune sends when the app's budget for the
 * tenant is spent), or many of the latest answers were 429s. A stray 429 without Retry-After
 * (Intune sends some under load) only delays the request it answered.
 */

export type BudgetLimits = { reads: number; writes: number; windowMs: number }

export const INTUNE_BUDGET: BudgetLimits = { reads: 1000, writes: 100, windowMs: 20_000 }

export class TokenBucket {
  readonly capacity: number
  readonly #perMs: number
  #tokens: number
  #last = performance.now()
  #pausedUntil = 0
  #tail: Promise<void> = Promise.resolve()
  waitedMs = 0

  constructor(limit: number, windowMs: number) {
    // A burst of one full $batch (20) when the limit allows it; 5 % of larger limits.
    this.capacity = Math.max(
      1,
      Math.min(limit, Math.max(Math.min(20, Math.floor(limit / 2)), Math.floor(limit * 0.05))),
    )
    // 3 % of the window's requests held back: requests reach Graph with jittered latency, so
    // some sent in one of our windows land in the same server window as the next burst.
    this.#perMs = Math.max(limit * 0.97 - this.capacity, 1) / windowMs
    this.#tokens = this.capacity
  }

  #refill(now: number) {
    this.#tokens = Math.min(this.capacity, this.#tokens + (now - this.#last) * this.#perMs)
    this.#last = now
  }

  /** Waits, first come first served, until `n` requests may start. */
  take(n: number): Promise<void> {
    const turn = this.#tail.then(() => this.#acquire(n))
    this.#tail = turn.catch(() => undefined)
    return turn
  }

  async #acquire(n: number) {
    const started = performance.now()
    // More than the capacity (a big batch against a tiny test limit) is taken as debt.
    const need = Math.min(n, this.capacity)
    for (;;) {
      const now = performance.now()
      if (now < this.#pausedUntil) {
        await sleep(this.#pausedUntil - now)
        continue
      }
      this.#refill(now)
      if (this.#tokens >= need) {
        this.#tokens -= n
        this.waitedMs += performance.now() - started
        return
      }
      await sleep(Math.max(1, Math.ceil((need - this.#tokens) / this.#perMs)))
    }
  }

  /** After a 429: nobody starts a request for this tenant before `ms` have passed, and the bucket restarts empty. */
  pause(ms: number) {
    const until = performance.now() + ms
    if (until > this.#pausedUntil) this.#pausedUntil = until
    this.#tokens = Math.min(this.#tokens, 0)
    this.#last = Math.max(this.#last, until)
  }
}

export class AdaptiveConcurrency {
  #limit: number
  readonly #min: number
  readonly #max: number
  #inFlight = 0
  readonly #waiting: (() => void)[] = []

  constructor(options: { initial: number; min?: number; max: number }) {
    this.#limit = options.initial
    this.#min = options.min ?? 1
    this.#max = options.max
  }

  get limit() {
    return Math.floor(this.#limit)
  }

  get inFlight() {
    return this.#inFlight
  }

  async acquire(): Promise<void> {
    if (this.#inFlight < this.limit && this.#waiting.length === 0) {
      this.#inFlight++
      return
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve))
  }

  /** Multiplicative decrease: the tenant is throttled. */
  backOff() {
    this.#limit = Math.max(this.#min, this.#limit / 2)
  }

  /** Additive increase per answered request. */
  release() {
    this.#inFlight--
    this.#limit = Math.min(this.#max, this.#limit + 1 / this.#limit)
    while (this.#waiting.length > 0 && this.#inFlight < this.limit) {
      this.#inFlight++
      this.#waiting.shift()!()
    }
  }
}

/**
 * The share of 429s among a tenant's latest answers (a $batch member counts as one). Above
 * `threshold` the throttling is taken as the tenant's, not the requests'.
 */
export class ThrottleMonitor {
  readonly #recent: boolean[]
  readonly threshold: number
  #next = 0
  #count = 0
  #throttled = 0

  constructor(size = 100, threshold = 0.2) {
    this.#recent = new Array<boolean>(size).fill(false)
    this.threshold = threshold
  }

  record(throttled: boolean) {
    if (this.#count === this.#recent.length && this.#recent[this.#next]) this.#throttled--
    this.#recent[this.#next] = throttled
    if (throttled) this.#throttled++
    this.#next = (this.#next + 1) % this.#recent.length
    this.#count = Math.min(this.#count + 1, this.#recent.length)
  }

  /** 429s / answers over the window (0 before any answer). */
  get ratio() {
    return this.#count === 0 ? 0 : this.#throttled / this.#count
  }

  /** Judged on at least half a window of answers: two 429s among the first five say nothing. */
  get widespread() {
    return this.#count >= this.#recent.length / 2 && this.ratio > this.threshold
  }
}

/** What a request waits on before it starts: reads a token bucket, writes a sliding window. */
export type RateGate = { take(n: number): Promise<unknown>; pause(ms: number): void; waitedMs: number }

export class TenantBudget {
  readonly reads: TokenBucket
  /** Writes: Intune's write limit per app per tenant, kept exactly (src/graph/writes/write-limiter.ts). */
  readonly writes: SlidingWindowLimiter
  readonly concurrency: AdaptiveConcurrency
  readonly throttling = new ThrottleMonitor()
  /** How often the whole tenant was paused after a 429 (the rest only delayed their request). */
  tenantPauses = 0

  constructor(limits: BudgetLimits, concurrency: { initial: number; max: number }) {
    this.reads = new TokenBucket(limits.reads, limits.windowMs)
    this.writes = new SlidingWindowLimiter(limits.writes, limits.windowMs)
    this.concurrency = new AdaptiveConcurrency(concurrency)
  }

  /**
   * After 429s: whether the tenant as a whole must wait (Graph sent Retry-After, or 429s are
   * widespread). Then nobody starts a request on `bucket` for `waitMs` and concurrency halves.
   */
  throttled(bucket: RateGate, options: { retryAfter: boolean; waitMs: number }): boolean {
    if (!options.retryAfter && !this.throttling.widespread) return false
    this.tenantPauses++
    bucket.pause(options.waitMs)
    this.concurrency.backOff()
    return true
  }
}

/** Budgets by tenant key. `sharedBudgets` is the process-wide one; tests make their own with small limits. */
export class BudgetRegistry {
  readonly limits: BudgetLimits
  readonly #concurrency: { initial: number; max: number }
  readonly #budgets = new Map<string, TenantBudget>()

  constructor(limits: BudgetLimits = INTUNE_BUDGET, concurrency = { initial: 8, max: 32 }) {
    this.limits = limits
    this.#concurrency = concurrency
  }

  for(tenantKey: string): TenantBudget {
    let budget = this.#budgets.get(tenantKey)
    if (!budget) this.#budgets.set(tenantKey, (budget = new TenantBudget(this.limits, this.#concurrency)))
    return budget
  }
}

export const sharedBudgets = new BudgetRegistry()
