// @vitest-environment happy-dom
import { cleanup, screen, waitFor } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Capability, MeTenant } from '../../lib/types.ts'
import { mockFetch, renderWithProviders } from '../../test/render.tsx'
import { InventoryPage } from './inventory-page.tsx'
import { assignmentTarget } from './item-drawer.tsx'
import { selectionBody } from './sync-modal.tsx'

const tenant = (capabilities: Capability[]): MeTenant => ({ id: 't1', name: 'Contoso', role: 'readonly', capabilities })

function routes() {
  return {
    'GET /api/tenants/t1/policy-types': {
      data: [
        {
          key: 'deviceConfiguration',
          label: 'Device configuration',
          kind: 'policy',
          category: 'Configuration',
          platforms: ['windows'],
          permission: 'DeviceManagementConfiguration.Read.All',
        },
      ],
      categories: ['Configuration'],
    },
    'GET /api/tenants/t1/inventory/items': (url: URL) => ({
      data: [
        {
          id: 'i1',
          tenant_id: 't1',
          policy_type: 'deviceConfiguration',
          policy_type_label: 'Device configuration',
          kind: 'policy',
          external_id: 'x1',
          display_name: url.searchParams.get('include_removed') === 'true' ? 'Old baseline' : 'Windows baseline',
          category: 'Configuration',
          platform: 'windows',
          last_modified_at: null,
          first_seen_run_id: null,
          last_seen_run_id: null,
          removed_at: null,
          updated_at: '2026-01-01T00:00:00Z',
        },
      ],
      next_cursor: 'next',
    }),
  }
}

afterEach(() => {
  cleanup()
  vi.unstubAllGlobals()
})

describe('InventoryPage', () => {
  it('offers "Run inventory sync" to members who may sync', async () => {
    mockFetch(routes())
    renderWithProviders(<InventoryPage tenant={tenant(['tenant.view', 'inventory.sync'])} />)
    expect(await screen.findByText('Windows baseline')).toBeTruthy()
    expect(screen.getByTestId('run-inventory-sync').textContent).toBe('Run inventory sync')
    expect(screen.getByRole('button', { name: 'Load more' })).toBeTruthy()
  })

  it('hides it from readonly members', async () => {
    mockFetch(routes())
    renderWithProviders(<InventoryPage tenant={tenant(['tenant.view'])} />)
    expect(await screen.findByText('Windows baseline')).toBeTruthy()
    expect(screen.queryByTestId('run-inventory-sync')).toBeNull()
  })

  it('cuts a very long name to one line with the full text on hover, and shows all of it in the drawer', async () => {
    const long = `Baseline ${'x'.repeat(20_000)} end`
    const base = routes()
    const list = base['GET /api/tenants/t1/inventory/items'](new URL('http://localhost/?include_removed=false'))
    const item = { ...list.data[0]!, display_name: long }
    mockFetch({
      ...base,
      'GET /api/tenants/t1/inventory/items': { data: [item], next_cursor: null },
      'GET /api/tenants/t1/inventory/items/i1': {
        ...item,
        payload: {},
        content_hash: 'abc',
        assignments: [],
        references: [],
      },
    })
    renderWithProviders(<InventoryPage tenant={tenant(['tenant.view'])} />)
    const name = await screen.findByTitle(long)
    expect(name.getAttribute('data-truncate')).toBe('end')
    expect(name.closest('table')).toBe(screen.getByTestId('inventory-table'))
    name.closest('button')!.click()
    await screen.findByTestId('item-detail')
    const heading = screen.getAllByText(long).find((el) => !el.hasAttribute('data-truncate'))
    expect(heading?.getAttribute('style')).toContain('overflow-wrap: anywhere')
  })

  it('asks for the first page without removed items, 50 at a time', async () => {
    const fetchMock = mockFetch(routes())
    renderWithProviders(<InventoryPage tenant={tenant(['tenant.view'])} />)
    await screen.findByText('Windows baseline')
    const itemsCall = fetchMock.mock.calls.map((c) => c[0] as string).find((u) => u.includes('/inventory/items'))
    expect(itemsCall).toBe('/api/tenants/t1/inventory/items?include_removed=false&limit=50')
  })
})

describe('selectionBody', () => {
  const all = {
    policy_types: ['a'],
    categories: ['C'],
    include_foundations: true,
    include_dependencies: true,
    mode: 'full' as const,
  }
  it('sends an empty body for the default full inventory, and only the mode for a quick one', () => {
    expect(selectionBody('full', all)).toEqual({})
    expect(selectionBody('full', { ...all, mode: 'quick' })).toEqual({ mode: 'quick' })
  })
  it('sends the flags when a full inventory leaves something out, without types', () => {
    expect(selectionBody('full', { ...all, include_dependencies: false })).toEqual({
      policy_types: [],
      categories: [],
      include_foundations: true,
      include_dependencies: false,
    })
  })
  it('sends the chosen types and categories', () => {
    const { mode: _full, ...custom } = all
    expect(selectionBody('custom', all)).toEqual(custom)
  })
})

describe('assignmentTarget', () => {
  const base = {
    intent: null,
    group_id: null,
    group_name: null,
    orphaned: false,
    filter_id: null,
    filter_name: null,
    filter_type: null,
  }
  it('names groups, exclusions, deleted groups and the built-in targets', () => {
    expect(assignmentTarget({ ...base, target_type: 'group', group_id: 'g1', group_name: 'SG-Sales' })).toBe('SG-Sales')
    expect(assignmentTarget({ ...base, target_type: 'exclusionGroup', group_id: 'g1', group_name: 'SG-Sales' })).toBe(
      'Excluded: SG-Sales',
    )
    expect(assignmentTarget({ ...base, target_type: 'group', group_id: 'g9', orphaned: true })).toBe('Group g9')
    expect(assignmentTarget({ ...base, target_type: 'allDevices' })).toBe('All devices')
    expect(assignmentTarget({ ...base, target_type: 'allLicensedUsers' })).toBe('All users')
    expect(assignmentTarget({ ...base, target_type: 'somethingNew' })).toBe('somethingNew')
  })
})

describe('InventoryPage bulk selection', () => {
  const withBulk = (actions: string[]) => ({
    ...routes(),
    'POST /api/tenants/t1/bulk-operations/selection': (url: URL) => {
      void url
      return {
        item_count: 1,
        types: [{ policy_type: 'deviceConfiguration', label: 'Device configuration', count: 1 }],
        actions,
      }
    },
  })

  it('a ticked row shows the bar with the count and the actions the server allows', async () => {
    mockFetch(withBulk(['assign', 'rename', 'delete']))
    renderWithProviders(<InventoryPage tenant={tenant(['tenant.view', 'bulk.execute'])} />)
    expect(await screen.findByText('Windows baseline')).toBeTruthy()
    expect(screen.queryByTestId('bulk-actions')).toBeNull()
    screen.getAllByTestId('select-item')[0]!.click()
    await waitFor(() => expect(screen.getByTestId('bulk-selected-count').textContent).toContain('1 selected'))
    expect(await screen.findByTestId('bulk-action-rename')).toBeTruthy()
    expect(screen.getByTestId('bulk-action-delete')).toBeTruthy()
    expect(screen.queryByTestId('bulk-action-duplicate')).toBeNull()
  })

  it('offers "select all matching this filter" once every loaded row is ticked and more pages exist', async () => {
    mockFetch(withBulk([]))
    renderWithProviders(<InventoryPage tenant={tenant(['tenant.view'])} />)
    expect(await screen.findByText('Windows baseline')).toBeTruthy()
    screen.getByTestId('select-loaded').click()
    await waitFor(() =>
      expect(screen.getByTestId('select-all-matching').textContent).toContain('Select all 1 matching this filter'),
    )
    // A readonly member sees the count, never an action.
    await waitFor(() => expect(screen.getByTestId('bulk-selected-count').textContent).toContain('1 selected'))
    expect(screen.queryByTestId('bulk-action-rename')).toBeNull()
  })
})
