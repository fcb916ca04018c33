// @vitest-environment happy-dom
import { act, cleanup, screen, waitFor, within } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { LiveRunsProvider } from '../../components/live-runs.tsx'
import type { EventSourceLike } from '../../lib/live-runs.ts'
import type { Run } from '../../lib/types.ts'
import { mockFetch, renderWithProviders } from '../../test/render.tsx'
import { ProgressWidget } from './progress-widget.tsx'
import { makeRun } from '../../test/fixtures.ts'

const run = (id: string, patch: Partial<Run> = {}): Run =>
  makeRun(id, {
    initiator: { id: 'u1', name: 'Ada Admin' },
    created_at: new Date(Date.now() - 65_000).toISOString(),
    started_at: new Date(Date.now() - 65_000).toISOString(),
    ...patch,
  })

/** A stand-in for the browser's EventSource that the test drives. */
class TestEventSource implements EventSourceLike {
  static last: TestEventSource | undefined
  readyState = 1
  onerror: ((event: Event) => void) | null = null
  readonly listeners = new Map<string, (event: MessageEvent<string>) => void>()
  constructor() {
    TestEventSource.last = this
  }
  addEventListener(type: string, listener: (event: MessageEvent<string>) => void) {
    this.listeners.set(type, listener)
  }
  close() {}
  emit(type: string, body: unknown) {
    this.listeners.get(type)?.({ data: JSON.stringify(body) } as MessageEvent<string>)
  }
}

async function renderWidget(active: Run[]) {
  globalThis.EventSource = TestEventSource as unknown as typeof EventSource
  renderWithProviders(
    <LiveRunsProvider tenantId="t1" enabled>
      <ProgressWidget />
    </LiveRunsProvider>,
  )
  await waitFor(() => expect(TestEventSource.last).toBeDefined())
  act(() => TestEventSource.last!.emit('snapshot', { active }))
  return {
    emit: (type: string, body: unknown) => act(() => TestEventSource.last!.emit(type, body)),
  }
}

afterEach(() => {
  cleanup()
  vi.unstubAllGlobals()
  TestEventSource.last = undefined
})

describe('ProgressWidget', () => {
  it('shows a determinate bar with processed / total when the total is known', async () => {
    await renderWidget([run('a', { summary_counts: { total: 200, processed: 50 } })])
    const item = await screen.findByTestId('progress-widget-run')
    expect(within(item).getByTestId('progress-widget-bar').dataset.determinate).toBe('true')
    expect(within(item).getByTestId('progress-widget-counts').textContent).toBe('50 / 200 (25%)')
    expect(within(item).getByText('Running')).toBeTruthy()
    expect(within(item).getByText('Ada Admin')).toBeTruthy()
    expect(within(item).getByTestId('progress-widget-elapsed').textContent).toMatch(/^1 min 0\d s$/)
    expect(item.getAttribute('href')).toBe('/t/t1/operations/a')
  })

  it('shows an indeterminate bar and "System" for a system run without a total', async () => {
    await renderWidget([
      run('a', { initiator: null, status: 'queued', status_label: 'Queued', started_at: null, summary_counts: {} }),
    ])
    const item = await screen.findByTestId('progress-widget-run')
    expect(within(item).getByTestId('progress-widget-bar').dataset.determinate).toBe('false')
    expect(within(item).queryByTestId('progress-widget-counts')).toBeNull()
    expect(within(item).getByText('System')).toBeTruthy()
    expect(within(item).getByText('Queued')).toBeTruthy()
  })

  it('follows live updates; a completed run leaves the active list and says how it ended, with a link', async () => {
    // The completed run's page query is refreshed when it completes: the server's answer is its final state.
    mockFetch({
      'GET /api/tenants/t1/operation-runs/a': run('a', { status: 'completed', outcome: 'cancelled' }),
      'GET /api/tenants/t1/operation-runs/b': run('b', { status: 'completed', outcome: 'succeeded' }),
      'GET /api/tenants/t1/operation-runs': { data: [], next_cursor: null },
    })
    const live = await renderWidget([
      run('a', { summary_counts: { total: 6, processed: 2 } }),
      run('b', { created_at: new Date().toISOString(), summary_counts: { total: 6, processed: 2 } }),
    ])
    expect(await screen.findAllByTestId('progress-widget-run')).toHaveLength(2)
    live.emit('run.updated', run('a', { cancel_requested: true, status_label: 'Cancelling…' }))
    expect(within(screen.getAllByTestId('progress-widget-run')[0]!).getByText('Cancelling…')).toBeTruthy()
    live.emit('run.updated', run('a', { status: 'completed', status_label: 'Completed', outcome: 'cancelled' }))
    expect(screen.getAllByTestId('progress-widget-run')).toHaveLength(1)
    const finished = await screen.findByTestId('progress-widget-finished')
    expect(finished.getAttribute('href')).toBe('/t/t1/operations/a')
    expect(await within(finished).findByText('Cancelled')).toBeTruthy()
    live.emit('run.updated', run('b', { status: 'completed', status_label: 'Completed', outcome: 'succeeded' }))
    expect(screen.queryAllByTestId('progress-widget-run')).toHaveLength(0)
    expect(await screen.findAllByTestId('progress-widget-finished')).toHaveLength(2)
  })

  it('says "Starting…" before the first count and "finishing…" when all is counted, never 0 / 6 or 100 %', async () => {
    const live = await renderWidget([run('a', { summary_counts: { total: 6, processed: 0 } })])
    const item = await screen.findByTestId('progress-widget-run')
    expect(within(item).getByTestId('progress-widget-counts').textContent).toBe('Starting…')
    expect(within(item).getByTestId('progress-widget-bar').dataset.determinate).toBe('false')
    live.emit('run.updated', run('a', { summary_counts: { total: 6, processed: 6 } }))
    const counts = within(screen.getByTestId('progress-widget-run')).getByTestId('progress-widget-counts')
    expect(counts.textContent).toBe('6 / 6 · finishing…')
    expect(counts.textContent).not.toContain('%')
  })

  it('renders nothing while no run is active', async () => {
    await renderWidget([])
    expect(screen.queryByTestId('progress-widget')).toBeNull()
  })
})
