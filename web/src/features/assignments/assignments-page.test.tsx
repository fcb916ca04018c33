// @vitest-environment happy-dom
import { cleanup, screen, within } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Responses } from '../../lib/api-types.ts'
import type { MeTenant } from '../../lib/types.ts'
import { mockFetch, renderWithProviders } from '../../test/render.tsx'
import { AssignmentsPage } from './assignments-page.tsx'

const tenant: MeTenant = { id: 't1', name: 'Contoso', role: 'readonly', capabilities: ['tenant.view'] }
const item = (id: string, name: string) => ({
  id,
  policy_type: 'deviceConfiguration',
  display_name: name,
  link: `/t/t1/inventory/${id}`,
})
const resolution: Responses['GET /api/tenants/{tenantId}/assignments'] = {
  subject: { kind: 'user', id: 'u1', name: 'Alice' },
  groups: [{ id: 'g1', name: 'Sales' }],
  assignments: [
    {
      item: item('i1', 'BitLocker'),
      kind: 'include',
      intent: null,
      via: 'group',
      via_group: { id: 'g1', name: 'Sales' },
      filter: null,
      effective: true,
    },
    {
      item: item('i2', 'Edge pilot'),
      kind: 'include',
      intent: null,
      via: 'group',
      via_group: { id: 'g1', name: 'Sales' },
      filter: null,
      effective: false,
    },
  ],
  warnings: [{ code: 'missing_permission', message: 'The app lacks Device.Read.All' }],
}

afterEach(() => {
  cleanup()
  vi.unstubAllGlobals()
  window.history.replaceState(null, '', '/')
})

describe('AssignmentsPage', () => {
  it('shows what reaches the user named in the URL, excluded includes marked, and what Graph could not say', async () => {
    window.history.replaceState(null, '', '/t/t1/assignments?user=alice%40contoso.com')
    const fetchMock = mockFetch({ 'GET /api/tenants/t1/assignments': resolution })
    renderWithProviders(<AssignmentsPage tenant={tenant} />)
    const rows = await screen.findAllByTestId('assignment-row')
    expect(rows).toHaveLength(2)
    expect(within(rows[0]!).getByText('Included')).toBeTruthy()
    expect(within(rows[1]!).getByText('Included, but excluded elsewhere')).toBeTruthy()
    expect(screen.getByText('The app lacks Device.Read.All')).toBeTruthy()
    expect(fetchMock).toHaveBeenCalledWith('/api/tenants/t1/assignments?user=alice%40contoso.com', expect.anything())
  })
})
