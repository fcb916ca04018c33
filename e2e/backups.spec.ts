import { type APIRequestContext, expect, test } from '@playwright/test'
import { admin, apiAs, baseUrl, demoTenantId, screenshot, signIn, waitUntilIdle } from './helpers.ts'

test.describe.configure({ mode: 'serial' })

let adminApi: APIRequestContext
let tenantId: string

test.beforeAll(async () => {
  adminApi = await apiAs(admin())
  tenantId = await demoTenantId(adminApi)
  await waitUntilIdle(adminApi, tenantId)
})

test.afterAll(async () => {
  await adminApi.dispose()
})

test('backups: a set exported as a ZIP comes back through "Import ZIP" (a browser form upload) as an imported set', async ({
  page,
}) => {
  test.setTimeout(120_000)
  const started = await adminApi.post(`/api/tenants/${tenantId}/backups`, {
    data: {
      name: 'E2E export',
      selection: { policy_types: ['deviceCompliancePolicy'], include_foundations: false, include_dependencies: false },
    },
  })
  expect(started.status()).toBe(202)
  const { backup } = (await started.json()) as { backup: { id: string } }
  await waitUntilIdle(adminApi, tenantId)
  const set = (await (await adminApi.get(`/api/tenants/${tenantId}/backups/${backup.id}`)).json()) as {
    status: string
    item_count: number
  }
  expect(set.status).toBe('complete')
  const zip = await adminApi.get(`/api/tenants/${tenantId}/backups/${backup.id}/export`)
  expect(zip.headers()['content-type']).toBe('application/zip')

  await signIn(page, admin())
  await page.goto(`${baseUrl()}/t/${tenantId}/backups`)
  await expect(page.getByTestId('import-backup')).toBeVisible()
  await page
    .locator('input[type="file"]')
    .setInputFiles({ name: 'E2E export.zip', mimeType: 'application/zip', buffer: await zip.body() })
  await expect(page).toHaveURL(new RegExp(`/t/${tenantId}/backups/(?!${backup.id})[0-9a-f-]{36}$`), { timeout: 30_000 })
  await expect(page.getByText('E2E export').first()).toBeVisible()
  await screenshot(page, 'backup-imported')
  const imported = page.url().split('/').at(-1)!
  const body = (await (await adminApi.get(`/api/tenants/${tenantId}/backups/${imported}`)).json()) as {
    origin: string
    item_count: number
  }
  expect(body).toMatchObject({ origin: 'imported', item_count: set.item_count })

  // A file that is not a backup: the 422's reason is shown, nothing is stored.
  const before = ((await (await adminApi.get(`/api/tenants/${tenantId}/backups`)).json()) as { data: unknown[] }).data
    .length
  await page.goto(`${baseUrl()}/t/${tenantId}/backups`)
  await page
    .locator('input[type="file"]')
    .setInputFiles({ name: 'notes.zip', mimeType: 'application/zip', buffer: Buffer.from('not a zip at all') })
  await expect(page.getByText(/Not a readable ZIP file/)).toBeVisible()
  await screenshot(page, 'backup-import-refused')
  expect(
    ((await (await adminApi.get(`/api/tenants/${tenantId}/backups`)).json()) as { data: unknown[] }).data.length,
  ).toBe(before)
})
