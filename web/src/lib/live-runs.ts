import { ApiError } from './api.ts'
import { sortActive } from './progress.ts'
import type { Run } from './types.ts'

/** The part of EventSource this module uses (so tests can hand in a fake). */
export type EventSourceLike = {
  readonly readyState: number
  onerror: ((event: Event) => void) | null
  addEventListener(type: 'snapshot' | 'run.updated', listener: (event: MessageEvent<string>) => void): void
  close(): void
}

export type LiveRunsDeps = {
  tenantId: string
  /** Opens the tenant's SSE stream; absent when the browser has no EventSource. */
  openEventSource?: (url: string) => EventSourceLike
  /** GET …/operation-runs/active (the polling fallback). */
  fetchActive: () => Promise<Run[]>
  isHidden: () => boolean
  onVisibilityChange: (listener: () => void) => () => void
  pollMs?: number
  /** After the stream closed for good, try it again this much later (polling meanwhile). */
  sseRetryMs?: number
}

export type LiveRunsEvents = {
  /** Every state of a run seen live (progress, status changes, completion). */
  onRunUpdated?: (run: Run) => void
  /** A run left the active set: it completed (a `run.updated` said so, or it vanished from a snapshot). */
  onRunCompleted?: (run: Run) => void
  onUnauthorized?: () => void
}

export type LiveMode = 'idle' | 'sse' | 'polling' | 'stopped'

const CLOSED = 2

/**
 * The tenant's active runs, kept live for the progress widget. Server-Sent Events first: a
 * `snapshot` on every (re)connect and `run.updated` for each change. When the stream is
 * unavailable it polls `/operation-runs/active`, but only while active runs exist and the tab
 * is visible; a 401 stops everything. A completed run leaves the set at once.
 */
export class LiveRuns {
  readonly #deps: LiveRunsDeps
  readonly #events: LiveRunsEvents
  readonly #runs = new Map<string, Run>()
  readonly #listeners = new Set<() => void>()
  #snapshot: Run[] = []
  #mode: LiveMode = 'idle'
  #source: EventSourceLike | undefined
  #pollTimer: ReturnType<typeof setTimeout> | undefined
  #retryTimer: ReturnType<typeof setTimeout> | undefined
  #polling = false
  #unsubscribeVisibility: (() => void) | undefined

  constructor(deps: LiveRunsDeps, events: LiveRunsEvents = {}) {
    this.#deps = deps
    this.#events = events
  }

  get mode(): LiveMode {
    return this.#mode
  }

  /** For useSyncExternalStore: the same array until something changes. */
  getSnapshot = (): Run[] => this.#snapshot

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  start() {
    if (this.#mode !== 'idle') return
    this.#unsubscribeVisibility = this.#deps.onVisibilityChange(() => this.#onVisibility())
    if (this.#deps.openEventSource) this.#openStream()
    else this.#fallBackToPolling()
  }

  stop() {
    this.#mode = 'stopped'
    this.#source?.close()
    this.#source = undefined
    clearTimeout(this.#pollTimer)
    clearTimeout(this.#retryTimer)
    this.#unsubscribeVisibility?.()
    this.#unsubscribeVisibility = undefined
  }

  /**
   * Something probably changed (e.g. this user just started a run). The stream reports it by
   * itself; while polling, look now — polling sleeps when nothing is active.
   */
  refresh() {
    if (this.#mode === 'polling') void this.#pollNow()
  }

  #openStream() {
    const source = this.#deps.openEventSource!(`/api/tenants/${encodeURIComponent(this.#deps.tenantId)}/events`)
    this.#source = source
    source.addEventListener('snapshot', (event) => {
      if (this.#source !== source) return
      const body = parse<{ active?: Run[] }>(event.data)
      if (!body || !Array.isArray(body.active)) return
      this.#mode = 'sse'
      clearTimeout(this.#pollTimer)
      this.#replaceAll(body.active)
    })
    source.addEventListener('run.updated', (event) => {
      if (this.#source !== source) return
      const run = parse<Run>(event.data)
      if (run && typeof run.id === 'string') this.#apply(run)
    })
    source.onerror = () => {
      if (this.#source !== source || this.#mode === 'stopped') return
      if (source.readyState === CLOSED) {
        // The browser gave up (a non-200 answer such as 401/403, or no SSE through a proxy).
        source.close()
        this.#source = undefined
        this.#retryTimer = setTimeout(() => {
          if (this.#mode === 'polling') this.#openStream()
        }, this.#deps.sseRetryMs ?? 30_000)
      }
      // Reconnecting or gone: poll meanwhile; the next snapshot switches back to the stream.
      this.#fallBackToPolling()
    }
  }

  #fallBackToPolling() {
    if (this.#mode === 'stopped' || this.#mode === 'polling') return
    this.#mode = 'polling'
    void this.#pollNow()
  }

  async #pollNow() {
    if (this.#mode !== 'polling' || this.#polling) return
    clearTimeout(this.#pollTimer)
    this.#polling = true
    try {
      const active = await this.#deps.fetchActive()
      if (this.#mode === 'polling') this.#replaceAll(active)
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        this.stop()
        this.#events.onUnauthorized?.()
        return
      }
      // Anything else (network, 5xx): try again at the next tick while runs are active.
    } finally {
      this.#polling = false
    }
    this.#scheduleNextPoll()
  }

  #scheduleNextPoll() {
    clearTimeout(this.#pollTimer)
    if (this.#mode !== 'polling' || this.#runs.size === 0 || this.#deps.isHidden()) return
    this.#pollTimer = setTimeout(() => void this.#pollNow(), this.#deps.pollMs ?? 2_000)
  }

  #onVisibility() {
    if (this.#mode !== 'polling') return
    if (this.#deps.isHidden()) clearTimeout(this.#pollTimer)
    else void this.#pollNow()
  }

  #replaceAll(active: Run[]) {
    const next = new Map(active.filter((run) => run.status !== 'completed').map((run) => [run.id, run]))
    const gone = [...this.#runs.values()].filter((run) => !next.has(run.id))
    this.#runs.clear()
    for (const [id, run] of next) this.#runs.set(id, run)
    this.#emit()
    for (const run of gone) this.#notify(this.#events.onRunCompleted, run)
  }

  #apply(run: Run) {
    if (run.status === 'completed') {
      this.#runs.delete(run.id)
      this.#emit()
      this.#notify(this.#events.onRunUpdated, run)
      this.#notify(this.#events.onRunCompleted, run)
      return
    }
    this.#runs.set(run.id, run)
    this.#emit()
    this.#notify(this.#events.onRunUpdated, run)
  }

  /** A failing consumer must not cost the others their events (nor the stream its state). */
  #notify(callback: ((run: Run) => void) | undefined, run: Run) {
    try {
      callback?.(run)
    } catch (error) {
      console.error('a live run consumer failed', error)
    }
  }

  #emit() {
    this.#snapshot = sortActive(this.#runs.values())
    for (const listener of this.#listeners) listener()
  }
}

function parse<T>(data: string): T | undefined {
  try {
    return JSON.parse(data) as T
  } catch {
    return undefined
  }
}
