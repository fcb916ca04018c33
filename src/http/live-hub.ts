import type { Database } from '../db/engine.ts'
import type { Listener } from '../db/listen.ts'
import type { Catalog } from '../modules/operations/catalog.ts'
import { LIVE_CHANNEL, type RunUpdatedEvent } from '../modules/operations/live.ts'
import { presentRun, type RunResponse } from '../modules/operations/presenter.ts'
import { findRun, listActiveRuns } from '../modules/operations/repository.ts'

export type LiveSubscriber = {
  runUpdated(run: RunResponse): void
  /** The active runs now: sent on connect and after the listener reconnected (events may be lost). */
  snapshot(active: RunResponse[]): void
}

/**
 * Fans the process's one LISTEN out to the SSE connections of each tenant. A run is loaded once
 * per event whatever the number of viewers, and events are delivered in the order they arrived.
 */
export class LiveHub {
  readonly #db: Database
  readonly #catalog: Catalog
  readonly #byTenant = new Map<string, Set<LiveSubscriber>>()
  #queue: Promise<void> = Promise.resolve()
  #unlisten: (() => void) | undefined

  constructor(db: Database, catalog: Catalog) {
    this.#db = db
    this.#catalog = catalog
  }

  async start(listener: Listener) {
    this.#unlisten = await listener.listen(
      LIVE_CHANNEL,
      (payload) => this.#enqueue(() => this.#onEvent(payload)),
      () => this.#enqueue(() => this.#resnapshotAll()),
    )
  }

  stop() {
    this.#unlisten?.()
  }

  async subscribe(tenantId: string, subscriber: LiveSubscriber): Promise<() => void> {
    const set = this.#byTenant.get(tenantId) ?? new Set()
    set.add(subscriber)
    this.#byTenant.set(tenantId, set)
    const unsubscribe = () => {
      set.delete(subscriber)
      if (set.size === 0 && this.#byTenant.get(tenantId) === set) this.#byTenant.delete(tenantId)
    }
    try {
      subscriber.snapshot(await this.activeRuns(tenantId))
    } catch (error) {
      unsubscribe()
      throw error
    }
    return unsubscribe
  }

  async activeRuns(tenantId: string) {
    return (await listActiveRuns(this.#db, tenantId)).map((row) => presentRun(this.#catalog, row))
  }

  #enqueue(work: () => Promise<void>) {
    this.#queue = this.#queue.then(work).catch(() => {})
  }

  async #onEvent(payload: string) {
    let event: RunUpdatedEvent
    try {
      event = JSON.parse(payload) as RunUpdatedEvent
    } catch {
      return
    }
    const subscribers = this.#byTenant.get(event.tenant_id)
    if (event.type !== 'run.updated' || !subscribers?.size) return
    const row = await findRun(this.#db, event.tenant_id, event.run_id)
    if (!row) return
    const run = presentRun(this.#catalog, row)
    for (const subscriber of subscribers) subscriber.runUpdated(run)
  }

  async #resnapshotAll() {
    for (const [tenantId, subscribers] of this.#byTenant) {
      const active = await this.activeRuns(tenantId)
      for (const subscriber of subscribers) subscriber.snapshot(active)
    }
  }
}
