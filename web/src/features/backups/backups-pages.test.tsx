// @vitest-environment happy-dom
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react'
import { notifications } from '@mantine/notifications'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { BackupItemDetail, BackupSet, Capability, MeTenant } from '../../lib/types.ts'
import { mockFetch, renderWithProviders } from '../../test/render.tsx'
import { BackupPage } from './backup-page.tsx'
import { BackupsPage } from './backups-page.tsx'

const tenant = (capabilities: Capability[]): MeTenant => ({ id: 't1', name: 'Contoso', role: 'owner', capabilities })
const set: BackupSet = {
  id: 'b1',
  name: 'Before the change',
  status: 'partial',
  protected: true,
  labels: ['q4'],
  origin: 'created',
  kind: 'backup',
  item_count: 2,
  counts_by_type: { deviceConfiguration: 2 },
  missing: [
    { type: 'deviceManagementScript', id: '*', name: 'PowerShell scripts', code: 'missing_permission', message: 'x' },
  ],
  missing_count: 1,
  source_tenant: { id: 't1', name: 'Contoso', entra_tenant_id: 'e1' },
  source: { claimed: { id: 't1', name: 'Contoso', entra_tenant_id: 'e1' }, verified: true },
  initiator_name: 'Ada',
  created_at: '2030-01-01T01:00:00.000Z',
  completed_at: '2030-01-01T01:01:00.000Z',
  run_id: 'r1',
}
const detail: BackupItemDetail = {
  type: 'deviceConfiguration',
  id: 'a1',
  display_name: 'Baseline',
  sha256: 'f'.repeat(64),
  payload: { passwordRequired: true },
  assignments: [],
  current: { item_id: 'i1', sha256: 'e'.repeat(64), payload: { passwordRequired: false }, assignments: [] },
  changed: true,
  changes: [{ path: 'passwordRequired', label: 'Password required', kind: 'changed', before: true, after: false }],
}

afterEach(() => {
  cleanup()
  vi.unstubAllGlobals()
})

describe('Backups pages', () => {
  it('lists sets with time, initiator, counts and the protected flag; readonly members get no Create backup', async () => {
    mockFetch({ 'GET /api/tenants/t1/backups': { data: [set], next_cursor: null } })
    renderWithProviders(<BackupsPage tenant={tenant(['tenant.view'])} />)
    const row = await screen.findByTestId('backup-row')
    expect(within(row).getByRole('link', { name: 'Before the change' }).getAttribute('href')).toBe('/t/t1/backups/b1')
    expect(within(row).getByText('Ada')).toBeTruthy()
    expect(within(row).getByText(/1 missing/)).toBeTruthy()
    expect(within(row).getByText('Yes')).toBeTruthy()
    expect(screen.queryByTestId('create-backup')).toBeNull()
  })

  it('starts a backup with the picker', async () => {
    const fetchMock = vi.fn((input: RequestInfo | URL, init?: RequestInit) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url
      const body =
        init?.method === 'POST'
          ? { run: {}, backup: set, deduplicated: false }
          : url.includes('policy-types')
            ? { data: [], categories: [] }
            : { data: [], next_cursor: null }
      return Promise.resolve(
        new Response(JSON.stringify(body), {
          status: init?.method === 'POST' ? 202 : 200,
          headers: { 'content-type': 'application/json' },
        }),
      )
    })
    vi.stubGlobal('fetch', fetchMock)
    renderWithProviders(<BackupsPage tenant={tenant(['tenant.view', 'backups.manage'])} />)
    fireEvent.click(await screen.findByTestId('create-backup'))
    fireEvent.change(await screen.findByLabelText(/Name/), { target: { value: 'Nightly' } })
    fireEvent.click(screen.getByTestId('start-backup'))
    await waitFor(() =>
      expect(fetchMock).toHaveBeenCalledWith('/api/tenants/t1/backups', expect.objectContaining({ method: 'POST' })),
    )
    const call = fetchMock.mock.calls.find(([, init]) => init?.method === 'POST')!
    expect(JSON.parse(call[1]!.body as string)).toMatchObject({
      name: 'Nightly',
      selection: { policy_types: [], include_foundations: true, include_dependencies: true },
    })
  })

  it('imports a ZIP picked with "Import ZIP" as a form upload (field file), then opens the imported set', async () => {
    const fetchMock = vi.fn((_input: RequestInfo | URL, init?: RequestInit) =>
      Promise.resolve(
        new Response(
          JSON.stringify(
            init?.method === 'POST' ? { ...set, id: 'b9', origin: 'imported' } : { data: [], next_cursor: null },
          ),
          { status: init?.method === 'POST' ? 201 : 200, headers: { 'content-type': 'application/json' } },
        ),
      ),
    )
    vi.stubGlobal('fetch', fetchMock)
    renderWithProviders(<BackupsPage tenant={tenant(['tenant.view', 'backups.manage'])} />)
    await screen.findByTestId('import-backup')
    const input = document.querySelector<HTMLInputElement>('input[type="file"]')!
    expect(input.accept).toBe('application/zip,.zip')
    const file = new File([new Uint8Array([0x50, 0x4b, 0x05, 0x06])], 'Quarterly.zip', { type: 'application/zip' })
    fireEvent.change(input, { target: { files: [file] } })
    await waitFor(() =>
      expect(fetchMock).toHaveBeenCalledWith(
        '/api/tenants/t1/backups/import',
        expect.objectContaining({ method: 'POST' }),
      ),
    )
    const init = fetchMock.mock.calls.find(([, i]) => i?.method === 'POST')![1]!
    expect(init.body).toBeInstanceOf(FormData)
    expect(((init.body as FormData).get('file') as File).name).toBe('Quarterly.zip')
    // No JSON content type: the browser writes the multipart one with its boundary.
    expect(Object.keys(init.headers as Record<string, string>)).not.toContain('content-type')
    await waitFor(() => expect(window.location.pathname).toBe('/t/t1/backups/b9'))
  })

  it("shows a set's contents, and an object's diff against the tenant's current version", async () => {
    mockFetch({
      'GET /api/tenants/t1/backups/b1': set,
      'GET /api/tenants/t1/backups/b1/items': {
        data: [{ type: 'deviceConfiguration', id: 'a1', display_name: 'Baseline', sha256: 'f'.repeat(64) }],
        next_cursor: null,
      },
      'GET /api/tenants/t1/backups/b1/item': detail,
    })
    renderWithProviders(<BackupPage tenant={tenant(['tenant.view'])} backupId="b1" />)
    expect((await screen.findByTestId('backup-missing')).textContent).toContain(
      'PowerShell scripts (missing permission)',
    )
    fireEvent.click(await screen.findByText('Baseline'))
    const object = await screen.findByTestId('backup-object')
    expect(within(object).getByTestId('diff-row').textContent).toContain('Password required')
  })

  it('deleting a set asks for its typed name, then says what happened', async () => {
    const shown = vi.spyOn(notifications, 'show')
    const fetchMock = mockFetch({
      'GET /api/tenants/t1/backups/b1': { ...set, protected: false },
      'GET /api/tenants/t1/backups/b1/items': { data: [], next_cursor: null },
      'DELETE /api/tenants/t1/backups/b1': null,
      'GET /api/tenants/t1/backups': { data: [], next_cursor: null },
    })
    renderWithProviders(<BackupPage tenant={tenant(['tenant.view', 'backups.manage'])} backupId="b1" />)
    fireEvent.click(await screen.findByTestId('delete-backup'))
    const sentence = await screen.findByTestId('confirm-sentence')
    expect(sentence.textContent).toContain('Delete "Before the change" with its 2 saved objects')
    const confirm = screen.getByTestId<HTMLButtonElement>('confirm-write')
    expect(confirm.disabled).toBe(true)
    fireEvent.change(screen.getByTestId('confirm-typed'), { target: { value: 'Before the' } })
    expect(confirm.disabled).toBe(true)
    expect(fetchMock.mock.calls.some(([, init]) => init?.method === 'DELETE')).toBe(false)
    fireEvent.change(screen.getByTestId('confirm-typed'), { target: { value: 'Before the change' } })
    fireEvent.click(confirm)
    await waitFor(() => expect(fetchMock.mock.calls.some(([, init]) => init?.method === 'DELETE')).toBe(true))
    await waitFor(() => expect(shown).toHaveBeenCalledWith(expect.objectContaining({ title: 'Backup deleted' })))
    await waitFor(() => expect(window.location.pathname).toBe('/t/t1/backups'))
  })

  it('states the retention in words and lets backups.manage set it on the backups page', async () => {
    const fetchMock = mockFetch({
      'GET /api/tenants/t1/backups': { data: [set], next_cursor: null },
      'GET /api/tenants/t1/backup-retention': null,
      'PUT /api/tenants/t1/backup-retention': { keep_last: 5, keep_days: 14 },
    })
    renderWithProviders(<BackupsPage tenant={tenant(['tenant.view', 'backups.manage'])} />)
    expect((await screen.findByTestId('retention-sentence')).textContent).toBe(
      'Every backup set is kept: no retention policy is set.',
    )
    fireEvent.click(screen.getByTestId('edit-retention'))
    fireEvent.change(screen.getByLabelText('Keep the newest sets'), { target: { value: '5' } })
    fireEvent.change(screen.getByLabelText('And every set younger than (days)'), { target: { value: '14' } })
    fireEvent.click(screen.getByTestId('save-retention'))
    await waitFor(() => expect(fetchMock.mock.calls.some(([, init]) => init?.method === 'PUT')).toBe(true))
    const [, init] = fetchMock.mock.calls.find(([, i]) => i?.method === 'PUT')!
    expect(JSON.parse(init!.body as string)).toEqual({ keep_last: 5, keep_days: 14 })
  })
})
