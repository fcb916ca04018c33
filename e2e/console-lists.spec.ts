import { type APIRequestContext, expect, test } from '@playwright/test'
import { admin, apiAs, baseUrl, demoTenantId, screenshot, signIn, waitUntilIdle } from './helpers.ts'

test.describe.configure({ mode: 'serial' })

let adminApi: APIRequestContext
let tenantId: string

test.beforeAll(async () => {
  adminApi = await apiAs(admin())
  tenantId = await demoTenantId(adminApi)
  const items = (await (
    await adminApi.get(`/api/tenants/${tenantId}/inventory/items`, { params: { limit: 1 } })
  ).json()) as { data: unknown[] }
  if (items.data.length === 0) {
    expect((await adminApi.post(`/api/tenants/${tenantId}/inventory-sync`, { data: {} })).status()).toBe(202)
  }
  await waitUntilIdle(adminApi, tenantId)
})

test.afterAll(async () => {
  await adminApi.dispose()
})

test('390 px: every list page stacks its rows, nothing scrolls sideways', async ({ page }) => {
  test.setTimeout(180_000)
  await page.setViewportSize({ width: 390, height: 844 })
  await signIn(page, admin())
  const lists: [string, string][] = [
    ['operations', 'operations-table'],
    ['inventory', 'inventory-table'],
    ['changes', 'changes-table'],
    ['audit', 'audit-table'],
  ]
  for (const [path, testId] of lists) {
    await page.goto(`${baseUrl()}/t/${tenantId}/${path}`)
    const list = page.getByTestId(testId)
    await expect(list).toBeVisible({ timeout: 60_000 })
    await expect(list).toHaveAttribute('data-layout', 'stacked')
    const sideways = Number(
      await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'),
    )
    expect(sideways, path).toBeLessThanOrEqual(0)
    await screenshot(page, `narrow-list-${path}`)
  }
})

test('schedules: a weekly cadence in a picked zone, the next run in that zone, Run now opens the run', async ({
  page,
}) => {
  test.setTimeout(180_000)
  await signIn(page, admin())
  await page.goto(`${baseUrl()}/t/${tenantId}/schedules`)
  await page.getByTestId('create-schedule').click()
  const dialog = page.getByRole('dialog')
  await dialog.getByLabel('Name').fill('Weekly sync (e2e)')
  await dialog.getByLabel('Operation').click()
  await page.getByRole('option', { name: 'Inventory sync' }).click()
  await dialog.getByText('Weekly', { exact: true }).click()
  await dialog.getByTestId('schedule-time').fill('06:30')
  await dialog.getByTestId('schedule-timezone').click()
  await dialog.getByTestId('schedule-timezone').fill('Europe/Berlin')
  await page.getByRole('option', { name: 'Europe/Berlin' }).click()
  await expect(dialog.getByTestId('schedule-summary')).toHaveText('Every Monday at 06:30 (Europe/Berlin)')
  await screenshot(page, 'schedule-editor')
  await dialog.getByRole('button', { name: 'Create' }).click()
  const row = page.getByTestId('schedule-row').filter({ hasText: 'Weekly sync (e2e)' })
  await expect(row.getByTestId('schedule-cadence')).toContainText('Every Monday at 06:30 (Europe/Berlin)')
  await expect(row.getByTestId('schedule-next-run')).toHaveText(/, 06:30 Europe\/Berlin$/)
  await screenshot(page, 'schedules')
  await row.getByTestId('schedule-run-now').click()
  await expect(page).toHaveURL(/\/operations\/[0-9a-f-]+$/)
  await waitUntilIdle(adminApi, tenantId)

  const schedules = (await (await adminApi.get(`/api/tenants/${tenantId}/schedules`)).json()) as {
    data: { id: string; name: string }[]
  }
  for (const s of schedules.data.filter((x) => x.name === 'Weekly sync (e2e)'))
    await adminApi.delete(`/api/tenants/${tenantId}/schedules/${s.id}`)
})

test('a run reads without internals: problems once with their fix, counts that say what they count', async ({
  page,
}) => {
  test.setTimeout(120_000)
  expect((await adminApi.post(`/api/tenants/${tenantId}/inventory-sync`, { data: {} })).status()).toBe(202)
  await waitUntilIdle(adminApi, tenantId)
  const runs = (await (
    await adminApi.get(`/api/tenants/${tenantId}/operation-runs`, { params: { type: 'inventory.sync', limit: 1 } })
  ).json()) as { data: { id: string }[] }
  await signIn(page, admin())
  await page.goto(`${baseUrl()}/t/${tenantId}/operations/${runs.data[0]!.id}`)
  // The demo's one missing permission: one box, in words, with its fix.
  const problems = page.getByTestId('run-failure')
  await expect(problems).toHaveCount(1)
  await expect(problems).toContainText('Missing permission')
  await expect(problems.getByTestId('run-failure-fix')).toBeVisible()
  await screenshot(page, 'run-quiet')
  await page.goto(`${baseUrl()}/t/${tenantId}/operations`)
  await expect(page.getByTestId('operation-counts').first()).toHaveText(/types · objects: /)
})
