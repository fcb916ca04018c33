// @vitest-environment happy-dom
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Capability, Me, MeTenant, Run } from '../../lib/types.ts'
import { mockFetch, renderWithProviders } from '../../test/render.tsx'
import { countsSummary, OperationsPage } from './operations-page.tsx'
import { RunPage } from './run-page.tsx'
import { undoChange } from './bulk-undo.tsx'
import { makeRun, operationTypes } from '../../test/fixtures.ts'

const CAPS: Record<'owner' | 'operator', Capability[]> = {
  owner: [
    'tenant.view',
    'inventory.sync',
    'operations.view',
    'operations.manage',
    'tenant.manage',
    'audit.view',
    'members.manage',
  ],
  operator: ['tenant.view', 'inventory.sync', 'operations.view', 'operations.manage'],
}
const tenant = (role: 'owner' | 'operator'): MeTenant => ({
  id: 't1',
  name: 'Contoso',
  role: role,
  capabilities: CAPS[role],
})
const me: Me = { user: { id: 'me', email: 'me@example.com', name: 'Me', is_admin: false }, tenants: [] }

const run = (id: string, patch: Partial<Run> = {}): Run =>
  makeRun(id, {
    status: 'completed',
    status_label: 'Completed',
    outcome: 'partially_succeeded',
    initiator: { id: 'me', name: 'Me' },
    context: {
      selection: {
        policy_types: [],
        categories: ['Compliance'],
        include_foundations: true,
        include_dependencies: false,
      },
    },
    summary_counts: { total: 31, processed: 31, created: 289, skipped: 5 },
    failures: [
      {
        code: 'missing_permission',
        message: 'The app lacks DeviceManagementScripts.Read.All',
        subject: 'deviceManagementScripts',
      },
    ],
    units: [
      {
        key: 'deviceManagementScripts',
        status: 'skipped',
        counts: {},
        duration_ms: 12,
        error: { code: 'missing_permission', message: 'Forbidden' },
      },
    ],
    created_at: '2026-11-23T10:00:00Z',
    started_at: '2026-11-23T10:00:01Z',
    completed_at: '2026-11-23T10:00:04Z',
    ...patch,
  })

const catalog = {
  data: [
    {
      key: 'deviceManagementScripts',
      label: 'PowerShell scripts',
      kind: 'policy',
      category: 'Scripts',
      platforms: ['windows'],
      permission: 'DeviceManagementScripts.Read.All',
    },
    {
      key: 'deviceConfiguration',
      label: 'Device configuration profiles',
      kind: 'policy',
      category: 'Device configuration',
      platforms: ['all'],
      permission: 'DeviceManagementConfiguration.Read.All',
    },
  ],
  categories: ['Compliance', 'Scripts'],
}

afterEach(() => {
  cleanup()
  vi.unstubAllGlobals()
})

describe('OperationsPage', () => {
  it('lists runs newest first with their counts, "Unknown operation" for unknown types, and loads more by cursor', async () => {
    const fetchMock = mockFetch({
      'GET /api/operation-types': operationTypes,
      'GET /api/tenants/t1/operation-runs': (url: URL) =>
        url.searchParams.get('cursor') === 'c2'
          ? {
              data: [
                run('older', {
                  type: 'legacy.thing',
                  type_label: 'Unknown operation',
                  initiator: null,
                  outcome: 'failed',
                }),
              ],
              next_cursor: null,
            }
          : { data: [run('newest')], next_cursor: 'c2' },
    })
    renderWithProviders(<OperationsPage tenant={tenant('owner')} me={me} />)
    const table = await screen.findByTestId('operations-table')
    await waitFor(() => expect(within(table).getAllByTestId('operation-row')).toHaveLength(1))
    expect(within(table).getByTestId('operation-counts').textContent).toBe('31 / 31 · 289 created · 5 skipped')
    fireEvent.click(screen.getByRole('button', { name: 'Load more' }))
    await waitFor(() => expect(within(table).getAllByTestId('operation-row')).toHaveLength(2))
    const older = within(table).getAllByTestId('operation-row')[1]!
    expect(older.textContent).toContain('Unknown operation')
    expect(older.textContent).toContain('System')
    expect(older.textContent).toContain('Failed')
    expect(screen.queryByRole('button', { name: 'Load more' })).toBeNull()
    expect(fetchMock.mock.calls.map((c) => c[0] as string).filter((u) => u.includes('operation-runs'))).toEqual([
      '/api/tenants/t1/operation-runs?limit=50',
      '/api/tenants/t1/operation-runs?cursor=c2&limit=50',
    ])
  })

  it('summarises counts: processed / total only when the total is known', () => {
    expect(countsSummary({ summary_counts: { processed: 7 } })).toBe('7 processed')
    expect(countsSummary({ summary_counts: {} })).toBe('—')
    // Per-type runs count types, then objects: the two numbers are not the same kind.
    const units = [{}, {}]
    expect(countsSummary({ summary_counts: { total: 2, processed: 2, created: 292, updated: 3 }, units })).toBe(
      '2 / 2 types · objects: 292 created, 3 updated',
    )
    expect(countsSummary({ summary_counts: { total: 6, processed: 6, updated: 6 }, units: [] })).toBe(
      '6 / 6 · 6 updated',
    )
    expect(countsSummary({ summary_counts: { total: 0, processed: 0, failed: 2 } })).toBe('0 processed · 2 failed')
  })
})

describe('RunPage', () => {
  function renderRun(role: 'owner' | 'operator', r: Run, extra: Record<string, unknown> = {}) {
    const fetchMock = mockFetch({
      [`GET /api/tenants/t1/operation-runs/${r.id}`]: r,
      'GET /api/tenants/t1/policy-types': catalog,
      'GET /api/operation-types': operationTypes,
      ...extra,
    })
    renderWithProviders(<RunPage tenant={tenant(role)} me={me} runId={r.id} />)
    return fetchMock
  }

  it('shows timings, the selection, counts, per-type results and the fix for a missing permission', async () => {
    renderRun('owner', run('r1'))
    expect(await screen.findByText('Categories: Compliance (with foundations)')).toBeTruthy()
    expect(screen.getByText('3 s')).toBeTruthy()
    expect(screen.getByTestId('run-count-total').textContent).toContain('31')
    expect(screen.getByTestId('run-count-created').textContent).toContain('289')
    expect(screen.getByTestId('run-outcome').textContent).toBe('Partially succeeded')
    await waitFor(() => expect(within(screen.getByTestId('run-units')).getByText('PowerShell scripts')).toBeTruthy())
    await waitFor(() =>
      expect(screen.getByTestId('run-failure-fix').textContent).toBe(
        'Fix: Grant the missing application permission (named above) to the app registration in Entra ID and admin-consent it, then re-run.',
      ),
    )
  })

  it("offers what the run's abilities say: Re-run of a completed run, which re-runs it on the server", async () => {
    const fetchMock = renderRun('owner', run('r1', { abilities: { cancel: false, rerun: true, undo: false } }), {
      'POST /api/tenants/t1/operation-runs/r1/rerun': {
        run: run('r1b', { status: 'queued', status_label: 'Queued', outcome: null }),
        deduplicated: false,
      },
    })
    fireEvent.click(await screen.findByRole('button', { name: 'Re-run' }))
    expect(screen.queryByRole('button', { name: 'Cancel' })).toBeNull()
    await waitFor(() =>
      expect(fetchMock).toHaveBeenCalledWith(
        '/api/tenants/t1/operation-runs/r1/rerun',
        expect.objectContaining({ method: 'POST' }),
      ),
    )
  })

  it("offers an operator nothing on someone else's running run", async () => {
    renderRun(
      'operator',
      run('r2', {
        status: 'running',
        status_label: 'Running',
        outcome: null,
        completed_at: null,
        initiator: { id: 'other', name: 'Other' },
        abilities: { cancel: false, rerun: false, undo: false },
      }),
    )
    expect(await screen.findByTestId('run-status')).toBeTruthy()
    expect(screen.getByTestId('run-status').textContent).toBe('Running')
    expect(screen.queryByRole('button', { name: 'Cancel' })).toBeNull()
    expect(screen.queryByRole('button', { name: 'Re-run' })).toBeNull()
  })

  it('lets an operator cancel their own running run: Cancelling…', async () => {
    const active = run('r3', {
      status: 'running',
      status_label: 'Running',
      outcome: null,
      completed_at: null,
      abilities: { cancel: true, rerun: false, undo: false },
    })
    const fetchMock = renderRun('operator', active, {
      'POST /api/tenants/t1/operation-runs/r3/cancel': {
        ...active,
        cancel_requested: true,
        status_label: 'Cancelling…',
      },
    })
    fireEvent.click(await screen.findByRole('button', { name: 'Cancel' }))
    await waitFor(() => expect(screen.getByTestId('run-status').textContent).toBe('Cancelling…'))
    expect(fetchMock).toHaveBeenCalledWith(
      '/api/tenants/t1/operation-runs/r3/cancel',
      expect.objectContaining({ method: 'POST' }),
    )
  })

  it('renders a type the console has never heard of from GET /api/operation-types: label, description, fix, items by status', async () => {
    const stamp = run('s1', {
      type: 'recipe.stamp',
      type_label: 'Stamp targets',
      context: { targets: 3 },
      summary_counts: { total: 3, processed: 3, succeeded: 2, failed: 1 },
      failures: [{ code: 'target_locked', message: '1 target was locked', subject: null }],
      units: [],
      initiator: null,
      schedule: { id: 'sch1', name: 'Nightly stamp' },
    })
    const item = (id: string, status: 'succeeded' | 'failed') => ({
      id,
      target: { type: 'deviceConfiguration', id: `target-${id}`, name: `Target ${id}` },
      action: 'stamp',
      status,
      code: status === 'failed' ? 'target_locked' : null,
      message: status === 'failed' ? `Target ${id} is locked` : null,
    })
    const fetchMock = renderRun('owner', stamp, {
      'GET /api/tenants/t1/operation-runs/s1/items': (url: URL) =>
        url.searchParams.get('status') === 'failed'
          ? { data: [item('3', 'failed')], next_cursor: null }
          : url.searchParams.get('status') === 'blocked'
            ? {
                data: [{ ...item('4', 'failed'), status: 'skipped', code: 'blocked', message: 'A masked secret' }],
                next_cursor: null,
              }
            : { data: [item('1', 'succeeded'), item('2', 'succeeded'), item('3', 'failed')], next_cursor: null },
    })
    expect(await screen.findByText('Stamps each target with a marker, and reports one result per target.')).toBeTruthy()
    expect(screen.getByText('Schedule: Nightly stamp')).toBeTruthy()
    expect(screen.getByTestId('run-failure-fix').textContent).toBe(
      'Fix: Unlock the target in Intune (it is being edited elsewhere), then re-run.',
    )

    fireEvent.click(screen.getByRole('tab', { name: 'Items' }))
    const table = await screen.findByTestId('run-items-table')
    expect(within(table).getAllByTestId('run-item')).toHaveLength(3)
    // The writes first, types by their label, never the raw key.
    expect(fetchMock).toHaveBeenCalledWith(
      '/api/tenants/t1/operation-runs/s1/items?status=written&limit=100',
      expect.anything(),
    )
    await waitFor(() => expect(within(table).getAllByText('Device configuration profiles')).toHaveLength(3))
    expect(within(table).queryByText('deviceConfiguration')).toBeNull()
    fireEvent.click(screen.getByText('Blocked'))
    await waitFor(() => expect(within(screen.getByTestId('run-items-table')).getByText('A masked secret')).toBeTruthy())
    expect(within(screen.getByTestId('run-items-table')).getByText('blocked').className).toContain('Badge')
    fireEvent.click(screen.getByText('Failed'))
    await waitFor(() =>
      expect(within(screen.getByTestId('run-items-table')).getAllByTestId('run-item')).toHaveLength(1),
    )
    expect(within(screen.getByTestId('run-items-table')).getByText('Target 3 is locked')).toBeTruthy()
    expect(fetchMock).toHaveBeenCalledWith(
      '/api/tenants/t1/operation-runs/s1/items?status=failed&limit=100',
      expect.anything(),
    )
  })

  it('renders a run of a type the server does not describe as "Unknown operation"', async () => {
    renderRun(
      'owner',
      run('u1', {
        type: 'legacy.thing',
        type_label: 'Unknown operation',
        failures: [{ code: 'weird', message: 'odd', subject: null }],
      }),
    )
    expect(await screen.findByRole('heading', { name: 'Unknown operation' })).toBeTruthy()
    expect(screen.queryByTestId('run-failure-fix')).toBeNull()
  })
})

describe('RunPage of a bulk run', () => {
  const bulkRun = run('b1', {
    type: 'bulk.delete',
    type_label: 'Bulk delete',
    outcome: 'succeeded',
    context: { params: { confirm_count: 2 }, filter: null, item_count: 2 },
    failures: [],
    units: [],
    abilities: { cancel: false, rerun: false, undo: true },
  })
  const plan = {
    id: 'p1',
    backup_id: 's1',
    source_tenant_id: 't1',
    target_tenant_id: 't1',
    built_at: '2026-11-30T10:00:00Z',
    target_synced_at: null,
    stale: false,
    run_id: null,
    counts: { create: 2, update: 0, skip: 0, blocked: 0, excluded: 0 },
    items: ['A', 'B'].map((name, i) => ({
      id: `pi${i}`,
      position: i,
      policy_type: 'deviceConfiguration',
      type_label: 'Device configuration',
      display_name: name,
      action: 'create',
      reason: null,
      warnings: [],
      excluded: false,
      source_id: `x${i}`,
      target_id: null,
      changes: null,
    })),
    mapping: [],
  }

  it('offers Undo to those who may restore: it plans the restore, shows it, and executes it', async () => {
    const fetchMock = mockFetch({
      'GET /api/tenants/t1/operation-runs/b1': bulkRun,
      'GET /api/tenants/t1/policy-types': catalog,
      'GET /api/operation-types': operationTypes,
      'GET /api/tenants/t1/operation-runs/b1/items': { data: [], next_cursor: null },
      'GET /api/tenants/t1/bulk-operations/b1': {
        run_id: 'b1',
        action: 'delete',
        backup_id: 's1',
        changed: 2,
        undo: { available: true, reason: null },
      },
      'POST /api/tenants/t1/bulk-operations/b1/undo': plan,
      'POST /api/tenants/t1/restore-plans/p1/execute': {
        run: run('r9', {
          type: 'restore.execute',
          type_label: 'Restore',
          status: 'queued',
          status_label: 'Queued',
          outcome: null,
        }),
      },
    })
    const owner: MeTenant = { ...tenant('owner'), capabilities: [...CAPS.owner, 'restore.execute', 'bulk.execute'] }
    renderWithProviders(<RunPage tenant={owner} me={me} runId="b1" />)
    fireEvent.click(await screen.findByTestId('bulk-undo'))
    const execute = await screen.findByTestId('confirm-write')
    expect(execute.textContent).toBe('Restore 2 items')
    expect(screen.getByTestId('undo-sentence').textContent).toBe('Re-create 2 policies in Contoso.')
    expect(within(screen.getByTestId('restore-plan')).getByText('2 to re-create')).toBeTruthy()
    fireEvent.click(execute)
    await waitFor(() =>
      expect(
        fetchMock.mock.calls.some(
          ([url, init]) =>
            (url instanceof URL ? url.href : typeof url === 'string' ? url : url.url).includes(
              '/restore-plans/p1/execute',
            ) && init?.method === 'POST',
        ),
      ).toBe(true),
    )
  })

  it('after Undo ran: says by which restore run, and offers no second Undo', async () => {
    mockFetch({
      'GET /api/tenants/t1/operation-runs/b1': bulkRun,
      'GET /api/tenants/t1/policy-types': catalog,
      'GET /api/operation-types': operationTypes,
      'GET /api/tenants/t1/operation-runs/b1/items': { data: [], next_cursor: null },
      'GET /api/tenants/t1/bulk-operations/b1': {
        run_id: 'b1',
        action: 'delete',
        backup_id: 's1',
        changed: 2,
        undo: { available: false, reason: 'This run was undone already (restore run r9)' },
        undone_by_run_id: 'r9000000-0000',
      },
    })
    const owner: MeTenant = { ...tenant('owner'), capabilities: [...CAPS.owner, 'restore.execute', 'bulk.execute'] }
    renderWithProviders(<RunPage tenant={owner} me={me} runId="b1" />)
    const undone = await screen.findByTestId('bulk-undone')
    expect(undone.textContent).toBe('Undone by restore run r9000000')
    expect(within(undone).getByRole('link').getAttribute('href')).toBe('/t/t1/operations/r9000000-0000')
    expect(screen.queryByTestId('bulk-undo')).toBeNull()
  })

  it('says what an Undo change does to the object now', () => {
    expect(
      undoChange({ path: 'a', label: 'Assignment: Include group X', kind: 'removed', before: 1, after: null }),
    ).toBe('removes Assignment: Include group X')
    expect(undoChange({ path: 'n', label: 'Name', kind: 'changed', before: 'b', after: 'a' })).toBe('changes Name')
  })

  it("shows no Undo when the run's abilities do not include it (an operator)", async () => {
    mockFetch({
      'GET /api/tenants/t1/operation-runs/b1': { ...bulkRun, abilities: { cancel: false, rerun: false, undo: false } },
      'GET /api/tenants/t1/policy-types': catalog,
      'GET /api/operation-types': operationTypes,
      'GET /api/tenants/t1/operation-runs/b1/items': { data: [], next_cursor: null },
    })
    renderWithProviders(<RunPage tenant={tenant('operator')} me={me} runId="b1" />)
    expect(await screen.findByText('Bulk delete')).toBeTruthy()
    expect(screen.queryByTestId('bulk-undo')).toBeNull()
  })
})
