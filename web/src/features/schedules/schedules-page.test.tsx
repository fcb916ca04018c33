// @vitest-environment happy-dom
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Capability, MeTenant, Schedule } from '../../lib/types.ts'
import { makeRun, operationTypes } from '../../test/fixtures.ts'
import { mockFetch, renderWithProviders } from '../../test/render.tsx'
import { SchedulesPage } from './schedules-page.tsx'

const tenant = (capabilities: Capability[]): MeTenant => ({ id: 't1', name: 'Contoso', role: 'owner', capabilities })
const schedule: Schedule = {
  id: 's1',
  name: 'Nightly sync',
  operation_type: 'inventory.sync',
  operation_label: 'Inventory sync',
  input: { selection: {} },
  cron: '0 2 * * *',
  timezone: 'Europe/Berlin',
  enabled: true,
  next_run_at: '2030-01-02T01:00:00.000Z',
  blocked_reason: null,
  last_run: {
    id: 'r1',
    status: 'completed',
    outcome: 'succeeded',
    created_at: '2030-01-01T01:00:00.000Z',
    links: { self: '/api/tenants/t1/operation-runs/r1', view: '/t/t1/operations/r1' },
  },
}

afterEach(() => {
  cleanup()
  vi.unstubAllGlobals()
})

describe('SchedulesPage', () => {
  it("lists schedules with the next run in the viewer's time zone and the last run", async () => {
    mockFetch({
      'GET /api/tenants/t1/schedules': { data: [schedule], next_cursor: null },
      'GET /api/operation-types': operationTypes,
    })
    renderWithProviders(<SchedulesPage tenant={tenant(['tenant.view', 'operations.view'])} />)
    const row = await screen.findByTestId('schedule-row')
    expect(within(row).getByText('Inventory sync')).toBeTruthy()
    // 01:00 UTC is 02:00 in Berlin: the next run reads in the schedule's zone, beside its cadence in words.
    expect(within(row).getByTestId('schedule-next-run').textContent).toBe('2 Jan 2030, 02:00 Europe/Berlin')
    expect(within(row).getByTestId('schedule-cadence').textContent).toContain('Every day at 02:00 (Europe/Berlin)')
    expect(within(row).getByRole('link').getAttribute('href')).toBe('/t/t1/operations/r1')
    // Viewers without schedules.manage change nothing.
    expect(screen.queryByTestId('create-schedule')).toBeNull()
    expect(screen.queryByTestId('schedule-edit')).toBeNull()
    expect(screen.queryByTestId('schedule-run-now')).toBeNull()
  })

  it("creates a schedule of a schedulable type, and shows the server's 422 naming the field", async () => {
    const fetchMock = vi.fn((input: RequestInfo | URL, init?: RequestInit) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url
      if (init?.method === 'POST') {
        const body = {
          error: {
            code: 'validation_failed',
            message: 'cron: "61 * * * *" is not a valid cron expression',
            details: { fields: [{ field: 'cron', message: 'x' }] },
          },
        }
        return Promise.resolve(
          new Response(JSON.stringify(body), { status: 422, headers: { 'content-type': 'application/json' } }),
        )
      }
      const data = url.includes('operation-types') ? operationTypes : { data: [], next_cursor: null }
      return Promise.resolve(
        new Response(JSON.stringify(data), { status: 200, headers: { 'content-type': 'application/json' } }),
      )
    })
    vi.stubGlobal('fetch', fetchMock)
    renderWithProviders(<SchedulesPage tenant={tenant(['tenant.view', 'operations.view', 'schedules.manage'])} />)
    fireEvent.click(await screen.findByTestId('create-schedule'))
    fireEvent.change(await screen.findByLabelText(/Name/), { target: { value: 'Broken' } })
    fireEvent.click(screen.getByText('Advanced (cron)'))
    fireEvent.change(screen.getByLabelText(/Cron expression/), { target: { value: '61 * * * *' } })
    fireEvent.click(screen.getByRole('button', { name: 'Create' }))
    expect((await screen.findByRole('alert')).textContent).toContain('is not a valid cron expression')
    await waitFor(() =>
      expect(fetchMock).toHaveBeenCalledWith('/api/tenants/t1/schedules', expect.objectContaining({ method: 'POST' })),
    )
  })

  it('edits a schedule with the presets: weekly on Monday at 06:30 in a picked zone, its input as a form', async () => {
    const fetchMock = mockFetch({
      'GET /api/tenants/t1/schedules': { data: [schedule], next_cursor: null },
      'GET /api/operation-types': operationTypes,
      'PATCH /api/tenants/t1/schedules/s1': schedule,
    })
    renderWithProviders(<SchedulesPage tenant={tenant(['tenant.view', 'operations.view', 'schedules.manage'])} />)
    fireEvent.click(await screen.findByTestId('schedule-edit'))
    expect(screen.queryByTestId('schedule-input-raw')).toBeNull()
    fireEvent.click(screen.getByText('Weekly'))
    fireEvent.change(screen.getByTestId('schedule-time'), { target: { value: '06:30' } })
    expect(screen.getByTestId('schedule-summary').textContent).toBe('Every Monday at 06:30 (Europe/Berlin)')
    fireEvent.click(screen.getByRole('button', { name: 'Save' }))
    await waitFor(() => expect(fetchMock.mock.calls.some(([, init]) => init?.method === 'PATCH')).toBe(true))
    const [, init] = fetchMock.mock.calls.find(([, i]) => i?.method === 'PATCH')!
    expect(JSON.parse(init!.body as string)).toEqual({
      name: 'Nightly sync',
      input: { selection: {} },
      cron: '30 6 * * 1',
      timezone: 'Europe/Berlin',
    })
  })

  it('runs a schedule now as the viewer and opens the run', async () => {
    const fetchMock = mockFetch({
      'GET /api/tenants/t1/schedules': { data: [schedule], next_cursor: null },
      'GET /api/operation-types': operationTypes,
      'POST /api/tenants/t1/schedules/s1/run': {
        run: makeRun('r2', { links: { self: '/api/tenants/t1/operation-runs/r2', view: '/t/t1/operations/r2' } }),
        deduplicated: false,
      },
    })
    renderWithProviders(<SchedulesPage tenant={tenant(['tenant.view', 'operations.view', 'inventory.sync'])} />)
    fireEvent.click(await screen.findByTestId('schedule-run-now'))
    await waitFor(() => expect(window.location.pathname).toBe('/t/t1/operations/r2'))
    expect(fetchMock.mock.calls.some(([, init]) => init?.method === 'POST')).toBe(true)
  })
})
