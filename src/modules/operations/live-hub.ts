import type { Database } from '../../db/engine.ts'
import type { Listener } from '../../db/listen.ts'
import type { Catalog } from './catalog.ts'
import { LIVE_CHANNEL, type RunUpdatedEvent } from './live.ts'
import { presentRun, type RunResponse } from './presenter.ts'
import { findRun, listActiveRuns, type RunWithNames } from './repository.ts'
import type { TenantAccess } from '../access/policy.ts'

export type LiveSubscriber = {
  /** Whose view: each subscriber gets the run with its own abilities. */
  access: TenantAccess
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

  /**
   * Adds a viewer: its snapshot is read and sent in the hub's queue, so no `run.updated` reaches it
   * before its snapshot (an event heard while the snapshot is read waits its turn and follows it).
   * The returned function removes the viewer, also when called before the snapshot was sent.
   */
  subscribe(tenantId: string, subscriber: LiveSubscriber): Promise<() => void> {
    let left = false
    const unsubscribe = () => {
      left = true
      const set = this.#byTenant.get(tenantId)
      if (!set) return
      set.delete(subscriber)
      if (set.size === 0) this.#byTenant.delete(tenantId)
    }
    return new Promise((resolve, reject) => {
      this.#enqueue(async () => {
        try {
          const active = await listActiveRuns(this.#db, tenantId)
          if (!left) {
            subscriber.snapshot(this.#present(subscriber, active))
            const set = this.#byTenant.get(tenantId) ?? new Set()
            set.add(subscriber)
            this.#byTenant.set(tenantId, set)
          }
          resolve(unsubscribe)
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)))
        }
      })
    })
  }

  #present(subscriber: LiveSubscriber, rows: RunWithNames[]) {
    return rows.map((row) => presentRun(this.#catalog, subscriber.access, row))
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
    for (const subscriber of subscribers) subscriber.runUpdated(presentRun(this.#catalog, subscriber.access, row))
  }

  async #resnapshotAll() {
    for (const [tenantId, subscribers] of this.#byTenant) {
      const active = await listActiveRuns(this.#db, tenantId)
      for (const subscriber of subscribers) subscriber.snapshot(this.#present(subscriber, active))
    }
  }
}
