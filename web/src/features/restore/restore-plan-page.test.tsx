// @vitest-environment happy-dom
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Capability, MeTenant } from '../../lib/types.ts'
import { mockFetch, renderWithProviders } from '../../test/render.tsx'
import type { RestorePlan } from './api.ts'
import { RestorePlanPage } from './restore-plan-page.tsx'

const tenant = (capabilities: Capability[]): MeTenant => ({ id: 't2', name: 'Fabrikam', role: 'owner', capabilities })
const plan = (overrides: Partial<RestorePlan> = {}): RestorePlan => ({
  id: 'p1',
  backup_id: 'b1',
  source_tenant_id: 't1',
  target_tenant_id: 't2',
  built_at: '2030-01-01T01:00:00.000Z',
  target_synced_at: '2030-01-01T00:59:00.000Z',
  stale: false,
  run_id: null,
  counts: { create: 1, update: 1, skip: 1, blocked: 1, excluded: 0 },
  items: [
    {
      id: 'i1',
      position: 0,
      policy_type: 'roleScopeTag',
      type_label: 'Scope tags',
      display_name: 'Paris',
      action: 'create',
      reason: null,
      warnings: [],
      excluded: false,
      source_id: 's1',
      target_id: null,
      changes: null,
    },
    {
      id: 'i2',
      position: 1,
      policy_type: 'deviceConfiguration',
      type_label: 'Device configuration profiles',
      display_name: 'Baseline',
      action: 'update',
      reason: null,
      warnings: ['Group "SG-Sales" is not mapped: its assignment is left out'],
      excluded: false,
      source_id: 's2',
      target_id: 't-2',
      changes: [{ path: 'passwordRequired', label: 'Password required', kind: 'changed', before: false, after: true }],
    },
    {
      id: 'i3',
      position: 2,
      policy_type: 'deviceConfiguration',
      type_label: 'Device configuration profiles',
      display_name: 'Same',
      action: 'skip',
      reason: 'identical',
      warnings: [],
      excluded: false,
      source_id: 's3',
      target_id: 't-3',
      changes: null,
    },
    {
      id: 'i4',
      position: 3,
      policy_type: 'deviceConfiguration',
      type_label: 'Device configuration profiles',
      display_name: 'Wi-Fi',
      action: 'blocked',
      reason: 'A masked secret cannot be restored',
      warnings: [],
      excluded: false,
      source_id: 's4',
      target_id: null,
      changes: null,
    },
  ],
  mapping: [
    {
      kind: 'group',
      source_id: 'g1',
      source_name: 'SG-Sales',
      target_id: null,
      target_name: null,
      proposed_by: null,
      gone: false,
    },
  ],
  ...overrides,
})

afterEach(() => {
  cleanup()
  vi.unstubAllGlobals()
})

describe('Restore plan page', () => {
  it('shows the writes first with their diffs, blocked objects in their own group, the skips behind a count', async () => {
    mockFetch({ 'GET /api/tenants/t2/restore-plans/p1': plan() })
    renderWithProviders(<RestorePlanPage tenant={tenant(['tenant.view', 'restore.execute'])} planId="p1" />)
    const writes = await screen.findByTestId('restore-plan')
    const rows = within(writes).getAllByTestId('restore-plan-item')
    expect(rows.map((r) => r.getAttribute('data-action'))).toEqual(['create', 'update'])
    expect(within(rows[1]!).getByText(/SG-Sales" is not mapped/)).toBeTruthy()
    fireEvent.click(within(rows[1]!).getByText('Show 1 change'))
    expect(await screen.findByTestId('diff-view')).toBeTruthy()
    const blocked = screen.getByTestId('restore-blocked')
    expect(within(blocked).getByText('A masked secret cannot be restored')).toBeTruthy()
    const skipped = screen.getByTestId('restore-skipped')
    expect(skipped.textContent).toContain('1 unchanged, skipped (1 identical)')
    expect(within(skipped).queryByTestId('restore-plan-item')).toBeNull()
    fireEvent.click(within(skipped).getByText('Show them'))
    expect(within(skipped).getAllByTestId('restore-plan-item')).toHaveLength(1)
    expect(screen.getByTestId('restore-summary').textContent).toContain(
      'Create 1 and update 1 policy in Fabrikam; 1 group is not mapped: its assignments will be left out.',
    )
  })

  it('unmapped references block Execute until left out; the confirmation says what happens and a cross-tenant restore is typed', async () => {
    const fetchMock = mockFetch({
      'GET /api/tenants/t2/restore-plans/p1': plan(),
      'POST /api/tenants/t2/restore-plans/p1/execute': { run: { id: 'r9' } },
    })
    renderWithProviders(<RestorePlanPage tenant={tenant(['tenant.view', 'restore.execute'])} planId="p1" />)
    const execute = await screen.findByTestId<HTMLButtonElement>('execute-restore')
    expect(execute.disabled).toBe(true)
    expect(within(screen.getByTestId('restore-mapping')).getByText('not mapped')).toBeTruthy()
    fireEvent.click(screen.getByTestId('leave-unmapped-out'))
    expect(execute.disabled).toBe(false)
    fireEvent.click(execute)
    const sentence = await screen.findByTestId('confirm-restore-sentence')
    expect(sentence.textContent).toBe(
      'Create 1 and update 1 policy in Fabrikam; 1 group is not mapped: its assignments will be left out.',
    )
    const confirm = screen.getByTestId<HTMLButtonElement>('confirm-write')
    expect(confirm.disabled).toBe(true)
    fireEvent.change(screen.getByTestId('confirm-restore-name'), { target: { value: 'Fabrikam' } })
    expect(confirm.disabled).toBe(false)
    fireEvent.click(confirm)
    await waitFor(() => expect(fetchMock.mock.calls.some(([, init]) => init?.method === 'POST')).toBe(true))
    await waitFor(() => expect(window.location.pathname).toBe('/t/t2/operations/r9'))
  })

  it('an object this plan restores is no gap ("Created by this restore"); same-object references are counted, not listed', async () => {
    mockFetch({
      'GET /api/tenants/t2/restore-plans/p1': plan({
        source_tenant_id: 't2',
        mapping: [
          {
            kind: 'scope_tag',
            source_id: 's1',
            source_name: 'Paris',
            target_id: null,
            target_name: null,
            proposed_by: 'restore',
            gone: false,
          },
          {
            kind: 'group',
            source_id: 'g1',
            source_name: 'SG-Sales',
            target_id: 'g1',
            target_name: 'SG-Sales',
            proposed_by: 'same',
            gone: false,
          },
          {
            kind: 'group',
            source_id: 'g2',
            source_name: 'SG-HR',
            target_id: 'g2',
            target_name: 'SG-HR',
            proposed_by: 'same',
            gone: false,
          },
        ],
      }),
    })
    renderWithProviders(<RestorePlanPage tenant={tenant(['tenant.view', 'restore.execute'])} planId="p1" />)
    const mapping = await screen.findByTestId('restore-mapping')
    expect(within(mapping).getAllByTestId('restore-mapping-row')).toHaveLength(1)
    expect(within(mapping).getByText('Created by this restore')).toBeTruthy()
    expect(within(mapping).queryByText(/Not mapped/)).toBeNull()
    expect(screen.queryByTestId('restore-unmapped')).toBeNull()
    expect(screen.getByTestId('mapping-same').textContent).toBe('Show 2 references that stay the same object')
    // Same tenant: one click confirms, nothing to type.
    fireEvent.click(screen.getByTestId('execute-restore'))
    await screen.findByTestId('confirm-restore-sentence')
    expect(screen.queryByTestId('confirm-restore-name')).toBeNull()
    expect(screen.getByTestId<HTMLButtonElement>('confirm-write').disabled).toBe(false)
  })

  it('a stale plan cannot be executed; readonly members see the plan without Execute', async () => {
    mockFetch({ 'GET /api/tenants/t2/restore-plans/p1': plan({ stale: true }) })
    const view = renderWithProviders(
      <RestorePlanPage tenant={tenant(['tenant.view', 'restore.execute'])} planId="p1" />,
    )
    expect(await screen.findByTestId('plan-stale')).toBeTruthy()
    expect(screen.getByTestId<HTMLButtonElement>('execute-restore').disabled).toBe(true)
    view.unmount()
    renderWithProviders(<RestorePlanPage tenant={tenant(['tenant.view'])} planId="p1" />)
    await screen.findByTestId('restore-plan')
    expect(screen.queryByTestId('execute-restore')).toBeNull()
  })

  it('executing an executed plan names the run that executed it, with a link, and offers Refresh plan', async () => {
    const calls: string[] = []
    const fetchMock = vi.fn((input: RequestInfo | URL, init?: RequestInit) => {
      const url = new URL(
        typeof input === 'string' ? input : input instanceof URL ? input.href : input.url,
        'http://localhost',
      )
      const key = `${init?.method ?? 'GET'} ${url.pathname}`
      calls.push(`${key} ${typeof init?.body === 'string' ? init.body : ''}`.trim())
      const json = (status: number, body: unknown) =>
        Promise.resolve(new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } }))
      if (key === 'GET /api/tenants/t2/restore-plans/p1') return json(200, plan({ run_id: 'r7aaaaaa-0000' }))
      if (key === 'POST /api/tenants/t2/restore-plans/p1/execute')
        return json(409, {
          error: {
            code: 'plan_executed',
            message: 'This plan was executed by run r7aaaaaa-0000',
            details: { run_id: 'r7aaaaaa-0000' },
          },
        })
      if (key === 'PATCH /api/tenants/t2/restore-plans/p1')
        return json(200, plan({ run_id: null, built_at: '2030-01-02T00:00:00.000Z' }))
      return Promise.reject(new Error(`unexpected request ${key}`))
    })
    vi.stubGlobal('fetch', fetchMock)
    renderWithProviders(<RestorePlanPage tenant={tenant(['tenant.view', 'restore.execute'])} planId="p1" />)
    const execute = await screen.findByTestId<HTMLButtonElement>('execute-restore')
    fireEvent.click(screen.getByTestId('leave-unmapped-out'))
    fireEvent.click(execute)
    await screen.findByTestId('confirm-restore-sentence')
    fireEvent.change(screen.getByTestId('confirm-restore-name'), { target: { value: 'Fabrikam' } })
    fireEvent.click(screen.getByTestId('confirm-write'))
    const alert = await screen.findByTestId('plan-executed')
    expect(within(alert).getByText('This plan was executed already')).toBeTruthy()
    expect(within(alert).getByTestId('plan-executed-run').getAttribute('href')).toBe('/t/t2/operations/r7aaaaaa-0000')
    expect(window.location.pathname).not.toBe('/t/t2/operations/r7aaaaaa-0000')
    fireEvent.click(within(alert).getByTestId('plan-executed-refresh'))
    await waitFor(() => expect(screen.queryByTestId('plan-executed')).toBeNull())
    expect(calls).toContain('PATCH /api/tenants/t2/restore-plans/p1 {"refresh":true}')
  })
})
