// @vitest-environment happy-dom
import { cleanup, screen, within } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { MeTenant } from '../../lib/types.ts'
import { mockFetch, renderWithProviders } from '../../test/render.tsx'
import { ChangesPage } from './changes-page.tsx'
import { ItemPage } from './item-page.tsx'

const tenant: MeTenant = { id: 't1', name: 'Contoso', role: 'readonly', capabilities: ['tenant.view'] }

const version = (number: number, changedBy: unknown = null) => ({
  id: `v${number}`,
  number,
  content_hash: `h${number}`,
  captured_at: '2026-01-0' + number + 'T00:00:00Z',
  run_id: 'r1',
  changed_by: changedBy,
})

const item = {
  id: 'i1',
  tenant_id: 't1',
  policy_type: 'settingsCatalogPolicy',
  policy_type_label: 'Settings catalog',
  kind: 'policy',
  external_id: 'x1',
  display_name: 'Defender baseline',
  category: 'Configuration',
  platform: 'windows',
  last_modified_at: null,
  first_seen_run_id: 'r1',
  last_seen_run_id: 'r1',
  removed_at: null,
  updated_at: '2026-01-01T00:00:00Z',
  payload: {},
  content_hash: 'h3',
  assignments: [],
  references: [],
}

afterEach(() => {
  cleanup()
  vi.unstubAllGlobals()
})

describe('the item page', () => {
  it('lists the versions and shows the diff of the previous version to the latest by default', async () => {
    const asked: string[] = []
    mockFetch({
      'GET /api/tenants/t1/inventory/items/i1': item,
      'GET /api/tenants/t1/inventory/items/i1/versions': {
        data: [
          version(3, { user_principal_name: 'alex@contoso.com', activity: 'Patch', at: '2026-01-03T00:00:00Z' }),
          version(2),
          version(1),
        ],
      },
      'GET /api/tenants/t1/inventory/items/i1/diff': (url: URL) => {
        asked.push(url.search)
        return {
          from: version(2),
          to: version(3),
          changes: [
            {
              path: 'settings/a',
              label: 'Allow archive scanning',
              kind: 'changed',
              before: 'Allowed',
              after: 'Not allowed',
            },
          ],
        }
      },
    })
    renderWithProviders(<ItemPage tenant={tenant} itemId="i1" />)
    const diff = await screen.findByTestId('diff-view')
    expect(within(diff).getByText('Allow archive scanning')).toBeTruthy()
    expect(within(diff).getByText('Not allowed')).toBeTruthy()
    expect(asked).toContain('?from=2&to=3')
    const versions = screen.getByTestId('versions-list')
    expect(within(versions).getAllByTestId('version-row')).toHaveLength(3)
    expect(within(versions).getByText('alex@contoso.com')).toBeTruthy()
  })
})

describe('the changes page', () => {
  it('lists the entries, each opening its version on the item page', async () => {
    mockFetch({
      'GET /api/tenants/t1/policy-types': {
        data: [
          {
            key: 'settingsCatalogPolicy',
            label: 'Settings catalog',
            kind: 'policy',
            category: 'Configuration',
            platforms: ['windows'],
            permission: 'x',
          },
        ],
        categories: [],
      },
      'GET /api/tenants/t1/changes': {
        data: [
          {
            id: 'c1',
            item_id: 'i1',
            policy_type: 'settingsCatalogPolicy',
            display_name: 'Defender baseline',
            kind: 'updated',
            version_id: 'v3',
            previous_version_id: 'v2',
            detected_at: '2026-01-03T00:00:00Z',
            run_id: 'r1',
            changed_by: { app_name: 'Automation app', activity: 'Patch', at: '2026-01-03T00:00:00Z' },
          },
        ],
        next_cursor: null,
      },
    })
    renderWithProviders(<ChangesPage tenant={tenant} />)
    const table = await screen.findByTestId('changes-table')
    const link = within(table).getByRole('link', { name: 'Defender baseline' })
    expect(link.getAttribute('href')).toBe('/t/t1/inventory/i1?version=v3')
    expect(within(table).getByText('Updated')).toBeTruthy()
    expect(within(table).getByText('Automation app')).toBeTruthy()
    expect(within(table).getByText('Settings catalog')).toBeTruthy()
  })
})
