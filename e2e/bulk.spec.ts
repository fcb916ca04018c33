import { type APIRequestContext, expect, type Page, test } from '@playwright/test'
import { admin, apiAs, baseUrl, demoTenantId, screenshot, signIn, waitUntilIdle } from './helpers.ts'

test.describe.configure({ mode: 'serial' })

let adminApi: APIRequestContext
let tenantId: string

type Item = { id: string; display_name: string; policy_type: string; removed_at: string | null }

const itemsOf = async (params: Record<string, string | number>) =>
  (
    (await (
      await adminApi.get(`/api/tenants/${tenantId}/inventory/items`, { params: { limit: 200, ...params } })
    ).json()) as { data: Item[] }
  ).data

test.beforeAll(async () => {
  adminApi = await apiAs(admin())
  tenantId = await demoTenantId(adminApi)
  await waitUntilIdle(adminApi, tenantId)
  // The inventory page needs an inventory: make sure one sync has completed.
  if ((await itemsOf({ limit: 1 })).length === 0) {
    expect((await adminApi.post(`/api/tenants/${tenantId}/inventory-sync`, { data: {} })).status()).toBe(202)
    await waitUntilIdle(adminApi, tenantId)
  }
})

test.afterAll(async () => {
  await adminApi.dispose()
})

/** Follows the started run from the toast to its page and waits there until it has finished. */
async function followRun(page: Page) {
  await page.getByTestId('toast-view-run').click()
  await expect(page).toHaveURL(/\/operations\//)
  await waitUntilIdle(adminApi, tenantId)
  await page.reload()
  await expect(page.getByTestId('run-status')).toHaveText(/completed/i, { timeout: 90_000 })
  await expect(page.getByTestId('run-outcome')).toHaveText(/succeeded/i)
}

test('bulk: pick rows, select everything a filter matches, the action bar, a preview of all of them', async ({
  page,
}) => {
  await signIn(page, admin())
  await page.goto(`${baseUrl()}/t/${tenantId}/inventory`)
  const rows = page.getByTestId('inventory-row')
  await expect(rows).toHaveCount(50)
  const bar = page.getByTestId('bulk-actions')
  await expect(bar).toHaveCount(0)

  // Two rows picked: the bar counts them and offers what the server allows.
  await rows.nth(0).getByTestId('select-item').check()
  await rows.nth(1).getByTestId('select-item').check()
  await expect(bar.getByTestId('bulk-selected-count')).toHaveText('2 selected')
  await expect(bar.getByTestId('bulk-action-rename')).toBeVisible()
  // The selection survives paging.
  await page.getByRole('button', { name: 'Load more' }).click()
  await expect(rows).toHaveCount(100)
  await expect(bar.getByTestId('bulk-selected-count')).toHaveText('2 selected')
  await screenshot(page, 'bulk-two-selected')
  await bar.getByRole('button', { name: 'Clear selection' }).click()
  await expect(bar).toHaveCount(0)

  // Every loaded row, then everything the (empty) filter matches — more than is loaded.
  const present = (await (
    await adminApi.post(`/api/tenants/${tenantId}/bulk-operations/selection`, { data: { filter: {} } })
  ).json()) as { item_count: number; actions: string[] }
  expect(present.item_count).toBeGreaterThan(100)
  await page.getByTestId('select-loaded').check()
  await expect(bar.getByTestId('bulk-selected-count')).toHaveText('100 selected')
  const offer = page.getByTestId('select-all-matching')
  await offer
    .getByRole('button', { name: `Select all ${present.item_count.toLocaleString('en')} matching this filter` })
    .click()
  await expect(bar.getByTestId('bulk-selected-count')).toHaveText(
    `${present.item_count.toLocaleString('en')} selected (everything matching the filter)`,
  )
  // The bar offers exactly what the server says this selection and role allow.
  for (const action of present.actions) await expect(bar.getByTestId(`bulk-action-${action}`)).toBeVisible()
  await screenshot(page, 'bulk-all-matching')

  // The preview of a rename over all of them: counts cover every item, the first rows show the names after it.
  await bar.getByTestId('bulk-action-rename').click()
  const dialog = page.getByRole('dialog')
  await expect(dialog.getByTestId('bulk-confirm')).toHaveCount(0)
  await dialog.getByTestId('bulk-prefix').fill('Preview only - ')
  await dialog.getByTestId('bulk-preview').click()
  const plan = dialog.getByTestId('bulk-plan')
  await expect(plan).toContainText(`of ${present.item_count.toLocaleString('en')} selected`)
  await expect(plan.getByTestId('bulk-plan-row').first()).toContainText('Renamed to "Preview only - ')
  await expect(dialog.getByTestId('bulk-confirm')).toBeEnabled()
  await screenshot(page, 'bulk-preview-all')
  // Nothing is written without the confirm.
  await dialog.getByRole('button', { name: 'Cancel' }).click()
  await expect(dialog).toHaveCount(0)
  expect((await itemsOf({ q: 'Preview only - ' })).length).toBe(0)
})

test('bulk: rename three policies with a prefix — preview, confirm, the run finishes, the inventory shows the new names', async ({
  page,
}) => {
  const policies = (await itemsOf({ type: 'deviceConfiguration' })).filter((i) => !i.removed_at).slice(0, 3)
  expect(policies).toHaveLength(3)
  await signIn(page, admin())
  await page.goto(`${baseUrl()}/t/${tenantId}/inventory?type=deviceConfiguration`)
  const rows = page.getByTestId('inventory-row')
  for (const p of policies) await rows.filter({ hasText: p.display_name }).first().getByTestId('select-item').check()
  const bar = page.getByTestId('bulk-actions')
  await expect(bar.getByTestId('bulk-selected-count')).toHaveText('3 selected')
  await bar.getByTestId('bulk-action-rename').click()
  const dialog = page.getByRole('dialog')
  await dialog.getByTestId('bulk-prefix').fill('E2E bulk - ')
  await dialog.getByTestId('bulk-preview').click()
  const planRows = dialog.getByTestId('bulk-plan-row')
  await expect(planRows).toHaveCount(3)
  for (const p of policies)
    await expect(planRows.filter({ hasText: p.display_name })).toContainText(
      `Renamed to "E2E bulk - ${p.display_name}"`,
    )
  await screenshot(page, 'bulk-rename-preview')
  await dialog.getByTestId('bulk-confirm').click()
  await expect(dialog).toHaveCount(0)
  await followRun(page)
  await screenshot(page, 'bulk-rename-run')

  // The inventory shows the names the preview showed.
  await page.goto(`${baseUrl()}/t/${tenantId}/inventory?q=${encodeURIComponent('E2E bulk - ')}`)
  await expect(rows).toHaveCount(3)
  for (const p of policies) await expect(rows.filter({ hasText: `E2E bulk - ${p.display_name}` })).toHaveCount(1)
  await screenshot(page, 'bulk-rename-inventory')
})

test('bulk: delete asks for the typed count, then the items leave the inventory', async ({ page }) => {
  const renamed = (await itemsOf({ q: 'E2E bulk - ' })).filter((i) => !i.removed_at)
  expect(renamed).toHaveLength(3)
  await signIn(page, admin())
  await page.goto(`${baseUrl()}/t/${tenantId}/inventory?q=${encodeURIComponent('E2E bulk - ')}`)
  const rows = page.getByTestId('inventory-row')
  await expect(rows).toHaveCount(3)
  await page.getByTestId('select-loaded').check()
  const bar = page.getByTestId('bulk-actions')
  await expect(bar.getByTestId('bulk-selected-count')).toHaveText('3 selected')
  await bar.getByTestId('bulk-action-delete').click()
  const dialog = page.getByRole('dialog')
  await dialog.getByTestId('bulk-preview').click()
  await expect(dialog.getByTestId('bulk-plan-row')).toHaveCount(3)
  const confirm = dialog.getByTestId('bulk-confirm')
  await expect(confirm).toBeDisabled()
  const count = dialog.getByLabel(/Type 3 to delete 3 items/)
  await count.fill('2')
  await expect(confirm).toBeDisabled()
  await count.fill('3')
  await expect(confirm).toBeEnabled()
  await screenshot(page, 'bulk-delete-confirm')
  await confirm.click()
  await expect(dialog).toHaveCount(0)
  await followRun(page)
  await expect(page.getByTestId('bulk-undo')).toBeEnabled()
  await screenshot(page, 'bulk-delete-run')

  await page.goto(`${baseUrl()}/t/${tenantId}/inventory?q=${encodeURIComponent('E2E bulk - ')}`)
  await expect(page.getByText('No items match these filters.')).toBeVisible()
  const after = await itemsOf({ q: 'E2E bulk - ', include_removed: 'true' })
  expect(after.map((i) => i.removed_at !== null)).toEqual([true, true, true])
})

test('bulk: assign offers All users and All devices beside the groups; All devices is included only', async ({
  page,
}) => {
  const policies = (await itemsOf({ type: 'deviceConfiguration' })).filter((i) => !i.removed_at).slice(3, 5)
  expect(policies).toHaveLength(2)
  await signIn(page, admin())
  await page.goto(`${baseUrl()}/t/${tenantId}/inventory?type=deviceConfiguration`)
  const rows = page.getByTestId('inventory-row')
  for (const p of policies) await rows.filter({ hasText: p.display_name }).first().getByTestId('select-item').check()
  const bar = page.getByTestId('bulk-actions')
  await bar.getByTestId('bulk-action-assign').click()
  const dialog = page.getByRole('dialog')
  await dialog.getByTestId('bulk-group').click()
  await expect(page.getByRole('option', { name: 'All users' })).toBeVisible()
  await expect(page.getByRole('option', { name: 'All devices' })).toBeVisible()
  await screenshot(page, 'bulk-assign-all-targets')
  await page.getByRole('option', { name: 'All devices' }).click()
  await expect(dialog.getByTestId('bulk-group')).toHaveValue('All devices')
  // Graph excludes groups only.
  await expect(dialog.getByRole('radio', { name: 'Exclude' })).toBeDisabled()
  await dialog.getByTestId('bulk-preview').click()
  const planRows = dialog.getByTestId('bulk-plan-row')
  await expect(planRows).toHaveCount(2)
  for (const row of await planRows.all())
    await expect(row).toContainText(/Includes All devices|Already assigned to All devices/)
  await screenshot(page, 'bulk-assign-all-devices-preview')
  await dialog.getByRole('button', { name: 'Cancel' }).click()
  await expect(dialog).toHaveCount(0)
})
