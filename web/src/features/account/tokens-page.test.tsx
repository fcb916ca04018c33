// @vitest-environment happy-dom
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Me } from '../../lib/types.ts'
import { mockFetch, renderWithProviders } from '../../test/render.tsx'
import { TokensPage } from './tokens-page.tsx'

const me = (isAdmin = false): Me => ({
  user: { id: 'u1', email: 'ada@example.com', name: 'Ada', is_admin: isAdmin },
  tenants: [],
})

const listed = [
  {
    id: 'k1',
    name: 'CI pipeline',
    display_prefix: 'ta_pat_abcde',
    created_at: '2026-01-01T00:00:00Z',
    last_used_at: '2026-02-01T10:00:00Z',
    scope: 'read',
    expires_at: '2099-01-01T00:00:00Z',
  },
  {
    id: 'k2',
    name: 'Old script',
    display_prefix: 'ta_pat_fghij',
    created_at: '2025-01-01T00:00:00Z',
    last_used_at: null,
    scope: 'tenant.view,inventory.sync',
    expires_at: '2025-04-01T00:00:00Z',
  },
  {
    id: 'k3',
    name: 'Forever',
    display_prefix: 'ta_pat_klmno',
    created_at: '2025-01-01T00:00:00Z',
    last_used_at: null,
    scope: 'full',
    expires_at: null,
  },
]

afterEach(() => {
  cleanup()
  vi.unstubAllGlobals()
})

describe('TokensPage', () => {
  it('lists each token with its scope, last use and expiry', async () => {
    mockFetch({ 'GET /api/tokens': { data: listed, next_cursor: null } })
    renderWithProviders(<TokensPage me={me()} />)
    const rows = await screen.findAllByTestId('token-row')
    expect(rows).toHaveLength(3)
    expect(within(rows[0]!).getByText('Read-only')).toBeTruthy()
    expect(within(rows[0]!).queryByText('Never used')).toBeNull()
    expect(within(rows[1]!).getByText('tenant.view, inventory.sync')).toBeTruthy()
    expect(within(rows[1]!).getByText('Never used')).toBeTruthy()
    expect(within(rows[1]!).getByText('Expired')).toBeTruthy()
    expect(within(rows[0]!).queryByText('Expired')).toBeNull()
    expect(within(rows[2]!).getByText('Never')).toBeTruthy()
    expect(within(rows[2]!).getByText('Full')).toBeTruthy()
  })

  it('creates a token with the chosen scope and expiry, and shows it once', async () => {
    const fetchMock = mockFetch({
      'GET /api/tokens': { data: [], next_cursor: null },
      'POST /api/tokens': { ...listed[0], id: 'k9', name: 'Nightly', token: 'ta_pat_secret_shown_once' },
    })
    renderWithProviders(<TokensPage me={me()} />)
    await screen.findByText('You have no API tokens.')
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'Nightly' } })
    fireEvent.click(screen.getByRole('button', { name: 'Create token' }))
    expect(await screen.findByText('ta_pat_secret_shown_once')).toBeTruthy()
    const post = fetchMock.mock.calls.find((c) => c[1]?.method === 'POST')!
    expect(JSON.parse((post[1] as RequestInit).body as string)).toEqual({
      name: 'Nightly',
      scope: 'full',
      expires_in_days: 90,
    })
  })

  it('offers "never" to workspace admins only', async () => {
    mockFetch({ 'GET /api/tokens': { data: [], next_cursor: null } })
    renderWithProviders(<TokensPage me={me()} />)
    await screen.findByText('You have no API tokens.')
    fireEvent.click(screen.getAllByLabelText('Expires after')[0]!)
    expect(screen.queryByText('Never (admins only)')).toBeNull()
    cleanup()
    mockFetch({ 'GET /api/tokens': { data: [], next_cursor: null } })
    renderWithProviders(<TokensPage me={me(true)} />)
    await screen.findByText('You have no API tokens.')
    fireEvent.click(screen.getAllByLabelText('Expires after')[0]!)
    expect(await screen.findByText('Never (admins only)')).toBeTruthy()
  })

  it('revokes a token after confirmation', async () => {
    const fetchMock = mockFetch({
      'GET /api/tokens': { data: listed, next_cursor: null },
      'DELETE /api/tokens/k1': null,
    })
    renderWithProviders(<TokensPage me={me()} />)
    fireEvent.click(await screen.findByRole('button', { name: 'Revoke CI pipeline' }))
    const dialog = await screen.findByRole('dialog')
    fireEvent.click(within(dialog).getByRole('button', { name: 'Revoke' }))
    await waitFor(() => expect(fetchMock.mock.calls.some((c) => c[1]?.method === 'DELETE')).toBe(true))
    const call = fetchMock.mock.calls.find((c) => c[1]?.method === 'DELETE')!
    expect(call[0] as string).toBe('/api/tokens/k1')
  })
})
