import type { Logger } from 'pino'
import type { Database } from '../../db/engine.ts'
import type { SecretBox } from '../../lib/crypto.ts'
import { loggableError } from '../../lib/unexpected-error.ts'
import { type DeliveryOptions, deliverDue } from './deliver.ts'
import { routeAndSeal } from './route.ts'
import { type WatchOptions, watchTenants } from './watch.ts'

export type DispatcherOptions = DeliveryOptions &
  WatchOptions & {
    /** How often events are routed and due deliveries sent. */
    intervalMs: number
    /** How often the watch looks for stale syncs and expiring credentials. */
    watchIntervalMs: number
    /** Events routed per statement. */
    batch: number
    /** A delivery not sent after this long is failed. */
    giveUpSeconds: number
  }

export const DISPATCHER_DEFAULTS: Omit<DispatcherOptions, 'consoleUrl' | 'mail'> = {
  intervalMs: 1_000,
  watchIntervalMs: 15 * 60 * 1000,
  batch: 5_000,
  giveUpSeconds: 24 * 60 * 60,
  concurrency: 16,
  timeoutMs: 10_000,
  backoffBaseSeconds: 5,
  backoffMaxSeconds: 15 * 60,
  staleSyncHours: 24,
  credentialDays: 30,
}

/**
 * The alert dispatcher every worker runs (ADR 030): a pass routes ready events into messages, seals
 * the due ones into deliveries and sends due deliveries; passes of several workers share the work
 * through row locks, never sending one delivery twice at once. A pass still running is joined.
 */
export class AlertDispatcher {
  readonly #db: Database
  readonly #secrets: SecretBox
  readonly #log: Logger
  readonly options: DispatcherOptions
  #timer: NodeJS.Timeout | undefined
  #watchTimer: NodeJS.Timeout | undefined
  #ticking: Promise<{ routed: number; sealed: number; attempts: number }> | undefined

  constructor(db: Database, secrets: SecretBox, logger: Logger, options: DispatcherOptions) {
    this.#db = db
    this.#secrets = secrets
    this.#log = logger.child({ component: 'alerts' })
    this.options = options
  }

  start() {
    const fail = (what: string) => (error: unknown) => this.#log.error({ err: loggableError(error) }, what)
    this.#timer = setInterval(() => void this.tick().catch(fail('alert dispatch failed')), this.options.intervalMs)
    this.#timer.unref()
    this.#watchTimer = setInterval(
      () => void this.watch().catch(fail('alert watch failed')),
      this.options.watchIntervalMs,
    )
    this.#watchTimer.unref()
  }

  async stop() {
    clearInterval(this.#timer)
    clearInterval(this.#watchTimer)
    await this.#ticking?.catch(() => {})
  }

  tick() {
    this.#ticking ??= this.#pass().finally(() => (this.#ticking = undefined))
    return this.#ticking
  }

  watch() {
    return watchTenants(this.#db, this.options)
  }

  async #pass() {
    const { routed, sealed } = await routeAndSeal(this.#db, this.options)
    let attempts = 0
    // A backlog is worked off in this pass, a batch of `concurrency` at a time.
    for (;;) {
      const made = await deliverDue(this.#db, this.#secrets, this.options)
      attempts += made
      if (made === 0 || made < this.options.concurrency) break
    }
    return { routed, sealed, attempts }
  }
}
