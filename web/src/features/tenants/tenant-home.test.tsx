// @vitest-environment happy-dom
import { cleanup, fireEvent, screen, waitFor } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { MeTenant } from '../../lib/types.ts'
import { mockFetch, renderWithProviders } from '../../test/render.tsx'
import { makeRun } from '../../test/fixtures.ts'
import { TenantHome } from './tenant-home.tsx'

const tenant: MeTenant = {
  id: 't1',
  name: 'Fabrikam',
  role: 'owner',
  capabilities: ['tenant.view', 'inventory.sync', 'operations.view'],
}

afterEach(() => {
  cleanup()
  vi.unstubAllGlobals()
})

describe('Tenant home', () => {
  it("offers a new tenant's first sync in one click", async () => {
    const fetchMock = mockFetch({
      'GET /api/tenants/t1': { id: 't1', name: 'Fabrikam', cloud: 'global', entra_tenant_id: 'e', client_id: 'c' },
      'GET /api/tenants/t1/operation-runs': { data: [], next_cursor: null },
      'POST /api/tenants/t1/inventory-sync': { run: makeRun('r1'), deduplicated: false },
    })
    renderWithProviders(<TenantHome tenant={tenant} />)
    fireEvent.click(await screen.findByTestId('start-first-sync'))
    await waitFor(() => expect(fetchMock.mock.calls.some(([, init]) => init?.method === 'POST')).toBe(true))
  })

  it('says nothing of a first sync once the tenant has one', async () => {
    const fetchMock = mockFetch({
      'GET /api/tenants/t1': { id: 't1', name: 'Fabrikam', cloud: 'global', entra_tenant_id: 'e', client_id: 'c' },
      'GET /api/tenants/t1/operation-runs': { data: [makeRun('r1')], next_cursor: null },
    })
    const view = renderWithProviders(<TenantHome tenant={tenant} />)
    // Both run queries answered (the recent runs and the first-sync check).
    await waitFor(() => expect(view.queryClient.getQueryData(['runs', 't1', 'first-sync'])).toBeDefined())
    expect(fetchMock).toHaveBeenCalled()
    expect(screen.queryByTestId('first-sync')).toBeNull()
  })
})
