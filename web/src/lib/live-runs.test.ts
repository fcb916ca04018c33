import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiError } from './api.ts'
import { type EventSourceLike, LiveRuns, type LiveRunsDeps } from './live-runs.ts'
import type { Run } from './types.ts'
import { makeRun } from '../test/fixtures.ts'

const run = (id: string, patch: Partial<Run> = {}): Run =>
  makeRun(id, { created_at: `2026-01-01T00:00:0${id.length}Z`, ...patch })

class FakeEventSource implements EventSourceLike {
  readyState = 0
  onerror: ((event: Event) => void) | null = null
  closed = false
  readonly listeners = new Map<string, (event: MessageEvent<string>) => void>()
  readonly url: string
  constructor(url: string) {
    this.url = url
  }
  addEventListener(type: string, listener: (event: MessageEvent<string>) => void) {
    this.listeners.set(type, listener)
  }
  close() {
    this.closed = true
    this.readyState = 2
  }
  emit(type: 'snapshot' | 'run.updated', body: unknown) {
    this.readyState = 1
    this.listeners.get(type)?.({ data: JSON.stringify(body) } as MessageEvent<string>)
  }
  fail(readyState: 0 | 2) {
    this.readyState = readyState
    this.onerror?.(new Event('error'))
  }
}

function setup(options: { sse?: boolean; active?: () => Promise<Run[]> } = {}) {
  const sources: FakeEventSource[] = []
  let hidden = false
  let visibilityListener: (() => void) | undefined
  const fetchActive = vi.fn(options.active ?? (() => Promise.resolve([] as Run[])))
  const events = { onRunCompleted: vi.fn(), onRunUpdated: vi.fn(), onUnauthorized: vi.fn() }
  const deps: LiveRunsDeps = {
    tenantId: 't1',
    openEventSource:
      options.sse === false
        ? undefined
        : (url) => {
            const source = new FakeEventSource(url)
            sources.push(source)
            return source
          },
    fetchActive,
    isHidden: () => hidden,
    onVisibilityChange: (listener) => {
      visibilityListener = listener
      return () => (visibilityListener = undefined)
    },
    pollMs: 1000,
    sseRetryMs: 30_000,
  }
  const live = new LiveRuns(deps, events)
  const setHidden = (value: boolean) => {
    hidden = value
    visibilityListener?.()
  }
  return { live, sources, fetchActive, events, setHidden }
}

const ids = (live: LiveRuns) => live.getSnapshot().map((r) => r.id)

beforeEach(() => vi.useFakeTimers())
afterEach(() => vi.useRealTimers())

describe('LiveRuns over Server-Sent Events', () => {
  it("opens the tenant's stream and shows the snapshot's active runs", () => {
    const { live, sources, fetchActive } = setup()
    live.start()
    expect(sources[0]!.url).toBe('/api/tenants/t1/events')
    sources[0]!.emit('snapshot', { active: [run('a'), run('bb')] })
    expect(ids(live)).toEqual(['a', 'bb'])
    expect(live.mode).toBe('sse')
    expect(fetchActive).not.toHaveBeenCalled()
  })

  it('updates a run in place and drops it when it completes, telling who cares', () => {
    const { live, sources, events } = setup()
    live.start()
    sources[0]!.emit('snapshot', { active: [run('a')] })
    const listener = vi.fn()
    live.subscribe(listener)
    sources[0]!.emit('run.updated', run('a', { summary_counts: { total: 10, processed: 4 } }))
    expect(live.getSnapshot()[0]!.summary_counts).toEqual({ total: 10, processed: 4 })
    expect(listener).toHaveBeenCalledTimes(1)
    sources[0]!.emit('run.updated', run('a', { status: 'completed', outcome: 'succeeded' }))
    expect(ids(live)).toEqual([])
    expect(events.onRunCompleted).toHaveBeenCalledWith(expect.objectContaining({ id: 'a', status: 'completed' }))
  })

  it('adds a run that starts while connected', () => {
    const { live, sources } = setup()
    live.start()
    sources[0]!.emit('snapshot', { active: [] })
    sources[0]!.emit('run.updated', run('new', { status: 'queued' }))
    expect(ids(live)).toEqual(['new'])
  })

  it('counts a run missing from a reconnect snapshot as completed', () => {
    const { live, sources, events } = setup()
    live.start()
    sources[0]!.emit('snapshot', { active: [run('a'), run('bb')] })
    sources[0]!.emit('snapshot', { active: [run('bb')] })
    expect(ids(live)).toEqual(['bb'])
    expect(events.onRunCompleted).toHaveBeenCalledWith(expect.objectContaining({ id: 'a' }))
  })

  it('keeps the snapshot array stable between changes (useSyncExternalStore)', () => {
    const { live, sources } = setup()
    live.start()
    sources[0]!.emit('snapshot', { active: [run('a')] })
    expect(live.getSnapshot()).toBe(live.getSnapshot())
  })
})

describe('LiveRuns polling fallback', () => {
  it('polls when the stream fails, only while runs are active', async () => {
    let active = [run('a')]
    const { live, sources, fetchActive } = setup({ active: () => Promise.resolve(active) })
    live.start()
    sources[0]!.fail(2) // the browser gave up on the stream
    expect(sources[0]!.closed).toBe(true)
    await vi.advanceTimersByTimeAsync(0)
    expect(live.mode).toBe('polling')
    expect(fetchActive).toHaveBeenCalledTimes(1)
    expect(ids(live)).toEqual(['a'])
    await vi.advanceTimersByTimeAsync(1000)
    expect(fetchActive).toHaveBeenCalledTimes(2)
    active = []
    await vi.advanceTimersByTimeAsync(1000)
    expect(fetchActive).toHaveBeenCalledTimes(3)
    expect(ids(live)).toEqual([])
    // Nothing active: no more requests until something happens.
    await vi.advanceTimersByTimeAsync(10_000)
    expect(fetchActive).toHaveBeenCalledTimes(3)
    active = [run('b')]
    live.refresh()
    await vi.advanceTimersByTimeAsync(0)
    expect(ids(live)).toEqual(['b'])
  })

  it('pauses while the tab is hidden and looks again when it is shown', async () => {
    const { live, fetchActive, setHidden } = setup({ sse: false, active: () => Promise.resolve([run('a')]) })
    live.start()
    await vi.advanceTimersByTimeAsync(0)
    expect(fetchActive).toHaveBeenCalledTimes(1)
    setHidden(true)
    await vi.advanceTimersByTimeAsync(10_000)
    expect(fetchActive).toHaveBeenCalledTimes(1)
    setHidden(false)
    await vi.advanceTimersByTimeAsync(0)
    expect(fetchActive).toHaveBeenCalledTimes(2)
    await vi.advanceTimersByTimeAsync(1000)
    expect(fetchActive).toHaveBeenCalledTimes(3)
  })

  it('stops on 401 and reports the lost session once', async () => {
    const { live, fetchActive, events } = setup({
      sse: false,
      active: () => Promise.reject(new ApiError(401, 'unauthenticated', 'Sign in')),
    })
    live.start()
    await vi.advanceTimersByTimeAsync(0)
    expect(events.onUnauthorized).toHaveBeenCalledTimes(1)
    expect(live.mode).toBe('stopped')
    await vi.advanceTimersByTimeAsync(60_000)
    expect(fetchActive).toHaveBeenCalledTimes(1)
  })

  it('keeps polling through a server error while runs are active', async () => {
    let fail = false
    const { live, fetchActive } = setup({
      sse: false,
      active: () => (fail ? Promise.reject(new ApiError(503, 'x', 'down')) : Promise.resolve([run('a')])),
    })
    live.start()
    await vi.advanceTimersByTimeAsync(0)
    fail = true
    await vi.advanceTimersByTimeAsync(1000)
    await vi.advanceTimersByTimeAsync(1000)
    expect(fetchActive).toHaveBeenCalledTimes(3)
    expect(ids(live)).toEqual(['a'])
  })

  it('goes back to the stream when it returns', async () => {
    const { live, sources, fetchActive } = setup({ active: () => Promise.resolve([run('a')]) })
    live.start()
    sources[0]!.fail(2)
    await vi.advanceTimersByTimeAsync(30_000)
    expect(sources).toHaveLength(2)
    const calls = fetchActive.mock.calls.length
    sources[1]!.emit('snapshot', { active: [run('a')] })
    expect(live.mode).toBe('sse')
    await vi.advanceTimersByTimeAsync(10_000)
    expect(fetchActive.mock.calls.length).toBe(calls)
  })

  it('does nothing after stop', async () => {
    const { live, sources, fetchActive } = setup({ active: () => Promise.resolve([run('a')]) })
    live.start()
    live.stop()
    expect(sources[0]!.closed).toBe(true)
    sources[0]!.emit('run.updated', run('x'))
    expect(ids(live)).toEqual([])
    await vi.advanceTimersByTimeAsync(60_000)
    expect(fetchActive).not.toHaveBeenCalled()
  })
})
