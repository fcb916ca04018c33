import { type APIRequestContext, expect, test } from '@playwright/test'
import {
  admin,
  apiAs,
  baseUrl,
  createMember,
  demoTenantId,
  pageAs,
  screenshot,
  signIn,
  waitUntilIdle,
} from './helpers.ts'

test.describe.configure({ mode: 'serial' })

let adminApi: APIRequestContext
let tenantId: string

test.beforeAll(async () => {
  adminApi = await apiAs(admin())
  tenantId = await demoTenantId(adminApi)
  // The inventory pages need an inventory: make sure one sync has completed.
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

test('inventory: filter, search, load more, an item with its payload and assignments', async ({ page }) => {
  await signIn(page, admin())
  await page.goto(`${baseUrl()}/t/${tenantId}/inventory`)
  const rows = page.getByTestId('inventory-row')
  await expect(rows).toHaveCount(50)
  await screenshot(page, 'inventory')
  await page.getByRole('button', { name: 'Load more' }).click()
  await expect(rows).toHaveCount(100)

  await page.getByRole('combobox', { name: 'Category' }).click()
  await page.getByRole('option', { name: 'Compliance', exact: true }).click()
  await expect(rows.first()).toContainText('Compliance')
  // Columns: selection checkbox, name, type, category, …
  for (const category of await rows.locator('td:nth-child(4)').allTextContents()) expect(category).toBe('Compliance')

  // Filters are in the URL: a reload (or a shared link) shows the same view.
  await expect(page).toHaveURL(/[?&]category=Compliance/)
  await page.reload()
  await expect(page.getByRole('combobox', { name: 'Category' })).toHaveValue('Compliance')
  await expect(rows.first()).toContainText('Compliance')

  await page.getByLabel('Search').fill('zzz-no-such-item')
  await expect(page.getByText('No items match these filters.')).toBeVisible()
  await expect(page).toHaveURL(/[?&]q=zzz-no-such-item/)
  await page.getByLabel('Search').fill('')
  await page.getByRole('combobox', { name: 'Category' }).click()
  await page.getByRole('option', { name: 'Configuration', exact: true }).click()

  // An item with assignments: the drawer names the groups.
  await rows.first().getByRole('button').click()
  const drawer = page.getByTestId('item-detail')
  await expect(drawer.getByTestId('item-payload')).toContainText('"displayName"')
  await expect(drawer.getByText(/Assignments \(\d+\)/)).toBeVisible()
  await screenshot(page, 'inventory-item')
})

test('inventory: an assignment to a group deleted in Entra is flagged', async ({ page }) => {
  // The emulated tenant deletes one group after policies were assigned to it: find such an item.
  type Item = { id: string; display_name: string }
  type Detail = Item & { assignments: { group_id: string | null; group_name: string | null; orphaned: boolean }[] }
  const items = (
    (await (await adminApi.get(`/api/tenants/${tenantId}/inventory/items`, { params: { limit: 200 } })).json()) as {
      data: Item[]
    }
  ).data
  let orphaned: Detail | undefined
  for (const item of items) {
    const detail = (await (await adminApi.get(`/api/tenants/${tenantId}/inventory/items/${item.id}`)).json()) as Detail
    if (detail.assignments.some((a) => a.orphaned)) {
      orphaned = detail
      break
    }
  }
  expect(orphaned, 'the demo tenant has an assignment to a deleted group').toBeDefined()

  await signIn(page, admin())
  await page.goto(`${baseUrl()}/t/${tenantId}/inventory`)
  await page.getByLabel('Search').fill(orphaned!.display_name)
  await page
    .getByTestId('inventory-row')
    .filter({ hasText: orphaned!.display_name })
    .first()
    .getByRole('button')
    .click()
  const assignments = page.getByTestId('item-assignments')
  const flagged = assignments.locator('tr', { has: page.getByTestId('orphaned-group') })
  await expect(flagged).toHaveCount(orphaned!.assignments.filter((a) => a.orphaned).length)
  await expect(flagged.first()).toContainText('Deleted group')
  await flagged.first().scrollIntoViewIfNeeded()
  await screenshot(page, 'inventory-item-orphaned-group')
})

test('keyboard: the sync dialog, an item and the bell open and close without a mouse', async ({ page }) => {
  await signIn(page, admin())
  await page.goto(`${baseUrl()}/t/${tenantId}/inventory`)
  await page.getByTestId('run-inventory-sync').focus()
  await page.keyboard.press('Enter')
  const dialog = page.getByRole('dialog', { name: 'Run inventory sync' })
  await expect(dialog).toBeVisible()
  await page.keyboard.press('Escape')
  await expect(dialog).toHaveCount(0)

  await page.getByTestId('inventory-row').first().getByRole('button').focus()
  await page.keyboard.press('Enter')
  await expect(page.getByTestId('item-detail')).toBeVisible()
  await page.keyboard.press('Escape')
  await expect(page.getByTestId('item-detail')).toHaveCount(0)

  await page.getByTestId('notifications-bell').focus()
  await page.keyboard.press('Enter')
  await expect(page.getByRole('button', { name: 'Mark all read' })).toBeVisible()
  await page.keyboard.press('Escape')
  await expect(page.getByRole('button', { name: 'Mark all read' })).toHaveCount(0)
})

test('audit trail lists what happened', async ({ page }) => {
  await signIn(page, admin())
  await page.goto(`${baseUrl()}/t/${tenantId}/audit`)
  await expect(page.getByTestId('audit-row').first()).toBeVisible()
  await expect(page.getByTestId('audit-table')).toContainText('started an inventory sync run')
  await screenshot(page, 'audit')
})

test('members: an owner adds by e-mail, changes the role, removes', async ({ page }) => {
  const someone = await createMember(adminApi, tenantId, 'readonly')
  // Take them out again so the page adds them back.
  const users = (await (await adminApi.get(`/api/tenants/${tenantId}/members`)).json()) as {
    data: { user_id: string; email: string }[]
  }
  const userId = users.data.find((u) => u.email === someone.email)!.user_id
  expect((await adminApi.delete(`/api/tenants/${tenantId}/members/${userId}`)).status()).toBe(204)

  await signIn(page, admin())
  await page.goto(`${baseUrl()}/t/${tenantId}/members`)
  await page.getByLabel('Add a member by e-mail').fill('not-an-address')
  await page.getByRole('button', { name: 'Add member' }).click()
  await expect(page.getByText('Enter an e-mail address')).toBeVisible()
  await page.getByLabel('Add a member by e-mail').fill(someone.email)
  await page.getByRole('button', { name: 'Add member' }).click()
  const row = page.getByTestId('member-row').filter({ hasText: someone.email })
  await expect(row).toBeVisible()
  await expect(row.getByRole('combobox', { name: `Role of ${someone.name}` })).toHaveValue('Readonly')

  await row.getByRole('combobox', { name: `Role of ${someone.name}` }).click()
  await page.getByRole('option', { name: 'Operator' }).click()
  await expect(page.getByText(`${someone.name} is now operator`)).toBeVisible()
  await screenshot(page, 'members')
  const roles = (await (await adminApi.get(`/api/tenants/${tenantId}/members`)).json()) as {
    data: { email: string; role: string }[]
  }
  expect(roles.data.find((m) => m.email === someone.email)?.role).toBe('operator')

  await row.getByRole('button', { name: `Remove ${someone.name}` }).click()
  await page.getByRole('dialog', { name: 'Remove member' }).getByRole('button', { name: 'Remove' }).click()
  await expect(page.getByTestId('member-row').filter({ hasText: someone.email })).toHaveCount(0)
})

test('members page and Monitoring are not offered to roles that may not use them', async ({ browser }) => {
  const manager = await createMember(adminApi, tenantId, 'manager')
  const page = await pageAs(browser, manager)
  await page.goto(`${baseUrl()}/t/${tenantId}`)
  const nav = page.getByRole('navigation', { name: 'Main navigation' })
  await expect(nav.getByRole('link', { name: 'Operations' })).toBeVisible()
  await expect(nav.getByRole('link', { name: 'Audit' })).toBeVisible()
  await expect(nav.getByRole('link', { name: 'Members' })).toHaveCount(0)
  await page.goto(`${baseUrl()}/t/${tenantId}/members`)
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible()
  // A manager may edit and check the connection, but only workspace admins add tenants.
  await nav.getByRole('link', { name: 'Tenants' }).click()
  await expect(
    page
      .getByTestId('tenant-row')
      .filter({ hasText: 'Contoso (demo)' })
      .getByRole('button', { name: 'Check connection' }),
  ).toBeVisible()
  await expect(page.getByRole('button', { name: 'Add tenant' })).toHaveCount(0)
  await page.context().close()

  const readonly = await createMember(adminApi, tenantId, 'readonly')
  const viewer = await pageAs(browser, readonly)
  await viewer.goto(`${baseUrl()}/t/${tenantId}`)
  const viewerNav = viewer.getByRole('navigation', { name: 'Main navigation' })
  await expect(viewerNav.getByRole('link', { name: 'Inventory' })).toBeVisible()
  await expect(viewerNav.getByRole('link', { name: 'Operations' })).toHaveCount(0)
  await expect(viewerNav.getByRole('link', { name: 'Audit' })).toHaveCount(0)
  await expect(viewerNav.getByRole('link', { name: 'Tenants' })).toHaveCount(0)
  await viewer.context().close()
})

test('tenants: the add form validates, the secret is write-only, the connection check lists permissions', async ({
  page,
}) => {
  await signIn(page, admin())
  await page.goto(`${baseUrl()}/admin/tenants`)
  await expect(page.getByTestId('tenant-row').filter({ hasText: 'Contoso (demo)' })).toBeVisible()
  await screenshot(page, 'tenants')

  await page.getByRole('button', { name: 'Add tenant' }).click()
  const dialog = page.getByRole('dialog', { name: 'Add a Microsoft tenant' })
  await dialog.getByLabel('Entra tenant id').fill('contoso.onmicrosoft.com')
  await dialog.getByRole('button', { name: 'Add tenant' }).click()
  await expect(dialog.getByText('Enter a name')).toBeVisible()
  await expect(dialog.getByText(/The Entra tenant id is a GUID/)).toBeVisible()
  await expect(dialog.getByText('Enter the client secret')).toBeVisible()
  await screenshot(page, 'tenant-add-invalid')

  const name = `Fabrikam ${Date.now()}`
  await dialog.getByLabel('Name').fill(name)
  await dialog.getByLabel('Entra tenant id').fill('8f2a1c3e-1234-4cde-9abc-0123456789ab')
  await dialog.getByLabel('Client id (app registration)').fill('11111111-2222-4333-8444-555555555555')
  await dialog.getByLabel('Client secret').fill('a-secret-value')
  await dialog.getByRole('button', { name: 'Add tenant' }).click()
  const row = page.getByTestId('tenant-row').filter({ hasText: name })
  await expect(row).toContainText('stored')
  await expect(page.getByText('a-secret-value')).toHaveCount(0)

  // Editing never shows the stored secret; an empty field keeps it.
  await row.getByRole('button', { name: 'Edit connection' }).click()
  const edit = page.getByRole('dialog', { name: `Edit connection: ${name}` })
  await expect(edit.getByLabel('Client secret')).toHaveValue('')
  await edit.getByLabel('Name').fill(`${name} renamed`)
  await edit.getByRole('button', { name: 'Save' }).click()
  await expect(page.getByTestId('tenant-row').filter({ hasText: `${name} renamed` })).toContainText('stored')

  // The demo tenant lacks one permission on purpose.
  await page
    .getByTestId('tenant-row')
    .filter({ hasText: 'Contoso (demo)' })
    .getByRole('button', { name: 'Check connection' })
    .click()
  const check = page.getByTestId('connection-check')
  await expect(check).toBeVisible({ timeout: 20_000 })
  await expect(check.getByText('Connected, with missing permissions')).toBeVisible()
  await screenshot(page, 'connection-check')
  await expect(check.locator('[data-testid="permission-row"][data-status="missing"]')).toHaveCount(1)
  const missing = check.locator('[data-testid="permission-row"][data-status="missing"]')
  await expect(missing).toContainText('DeviceManagementScripts.Read.All')
  await expect(missing).toContainText('PowerShell scripts')
  await expect(check.locator('[data-testid="permission-row"][data-status="granted"]').first()).toBeVisible()
})

test('dark mode follows the system', async ({ browser }) => {
  const context = await browser.newContext({ colorScheme: 'dark', viewport: { width: 1280, height: 720 } })
  const page = await context.newPage()
  await signIn(page, admin())
  await page.goto(`${baseUrl()}/t/${tenantId}/operations`)
  await expect(page.getByTestId('operations-table')).toBeVisible()
  await expect(page.locator('html')).toHaveAttribute('data-mantine-color-scheme', 'dark')
  await screenshot(page, 'operations-dark')
  await context.close()
})

test("schedules: a schedule made through the API is listed with its next run in the schedule's time zone, and can be paused", async ({
  page,
}) => {
  const name = `Nightly sync ${Date.now()}`
  const created = await adminApi.post(`/api/tenants/${tenantId}/schedules`, {
    data: {
      name,
      operation_type: 'inventory.sync',
      input: { selection: {} },
      cron: '0 2 * * *',
      timezone: 'Europe/Berlin',
    },
  })
  expect(created.status()).toBe(201)
  const schedule = (await created.json()) as { id: string; next_run_at: string }
  try {
    await signIn(page, admin())
    await page.goto(`${baseUrl()}/t/${tenantId}/schedules`)
    const row = page.getByTestId('schedule-row').filter({ hasText: name })
    await expect(row).toContainText('Inventory sync')
    // The next run reads in the schedule's own zone (ADR 026): 02:00 in Berlin, whatever the viewer's zone.
    const shown = new Date(schedule.next_run_at).toLocaleString('en-GB', {
      dateStyle: 'medium',
      timeStyle: 'short',
      timeZone: 'Europe/Berlin',
    })
    expect(shown).toContain('02:00')
    await expect(row.getByTestId('schedule-next-run')).toHaveText(`${shown} Europe/Berlin`)
    await screenshot(page, 'schedules')
    await row.getByRole('switch').click({ force: true })
    await expect(row.getByTestId('schedule-next-run')).toHaveText('Paused')
  } finally {
    await adminApi.delete(`/api/tenants/${tenantId}/schedules/${schedule.id}`)
  }
})
