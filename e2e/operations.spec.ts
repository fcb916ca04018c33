import { type APIRequestContext, type Page, expect, test } from '@playwright/test'
import {
  admin,
  apiAs,
  baseUrl,
  createMember,
  type Credentials,
  demoTenantId,
  pageAs,
  screenshot,
  setEmulatorLatency,
  unreadCount,
  waitUntilIdle,
} from './helpers.ts'

// One server, one demo tenant: these run one after the other, each from a quiet tenant.
test.describe.configure({ mode: 'serial' })

let adminApi: APIRequestContext
let tenantId: string
let operator: Credentials
let readonly: Credentials

test.beforeAll(async () => {
  adminApi = await apiAs(admin())
  tenantId = await demoTenantId(adminApi)
  operator = await createMember(adminApi, tenantId, 'operator')
  readonly = await createMember(adminApi, tenantId, 'readonly')
})

test.beforeEach(async () => {
  await setEmulatorLatency(0)
  await waitUntilIdle(adminApi, tenantId)
})

test.afterAll(async () => {
  await setEmulatorLatency(0)
  await adminApi.dispose()
})

test('a sync: toast with "View run", live widget for every viewer, one notification for the initiator only', async ({
  page,
  browser,
}) => {
  test.setTimeout(120_000)
  const inventory = `${baseUrl()}/t/${tenantId}/inventory`
  await pageAsAdmin(page)
  await page.goto(inventory)
  const other = await pageAs(browser, operator)
  await other.goto(inventory)
  const viewer = await pageAs(browser, readonly)
  await viewer.goto(inventory)
  await expect(viewer.getByRole('heading', { name: 'Inventory' })).toBeVisible()

  const adminUnread = await unreadCount(page)
  const operatorUnread = await unreadCount(other)
  // A new object in Intune, so this sync creates one whatever earlier spec files synced already.
  const tenant = (await (await adminApi.get(`/api/tenants/${tenantId}`)).json()) as { entra_tenant_id: string }
  const added = await fetch(`${process.env.E2E_EMULATOR_URL}/_emulator/tenants/${tenant.entra_tenant_id}/items`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'deviceConfiguration', displayName: `E2E operations ${Date.now().toString(36)}` }),
  })
  expect(added.status).toBe(201)
  // Slow Graph down so the run stays in progress while every viewer is checked (on a busy machine that takes a
  // while); it is sped up again once the readonly member has been checked.
  await setEmulatorLatency(1500)

  await page.getByTestId('run-inventory-sync').click()
  const dialog = page.getByRole('dialog', { name: 'Run inventory sync' })
  await expect(dialog.getByLabel('Full inventory: every supported policy type')).toBeChecked()
  await expect(dialog.getByLabel(/Include foundations/)).toBeChecked()
  await expect(dialog.getByLabel(/Include dependencies/)).toBeChecked()
  await screenshot(page, 'sync-modal')
  await dialog.getByRole('button', { name: 'Start sync' }).click()

  const toast = page.locator('.mantine-Notification-root', { hasText: 'Inventory sync queued' })
  await expect(toast).toBeVisible()
  await expect(toast.getByRole('link', { name: 'View run' })).toHaveAttribute(
    'href',
    new RegExp(`^/t/${tenantId}/operations/[0-9a-f-]+$`),
  )
  const runPath = (await toast.getByRole('link', { name: 'View run' }).getAttribute('href'))!

  // The initiator's widget and another viewer's widget show the same run, live.
  for (const p of [page, other]) {
    const item = p.getByTestId('progress-widget').getByTestId('progress-widget-run')
    await expect(item).toHaveCount(1)
    await expect(item).toContainText('Inventory sync')
    await expect(item).toContainText('Admin')
    await expect(item).toContainText(/Queued|Running/)
    await expect(item).toHaveAttribute('href', runPath)
  }
  // Determinate once the total is known: "processed / total (n%)".
  await expect(page.getByTestId('progress-widget-counts')).toHaveText(/^\d+ \/ \d+ \(\d+%\)$/, { timeout: 15_000 })
  await screenshot(page, 'progress-widget')
  await screenshot(other, 'progress-widget-other-member')

  // A readonly member sees neither the widget nor the sync button, even while the run is active.
  await expect(page.getByTestId('progress-widget-run')).toHaveCount(1)
  await expect(viewer.getByTestId('progress-widget')).toHaveCount(0)
  await expect(viewer.getByTestId('run-inventory-sync')).toHaveCount(0)
  await screenshot(viewer, 'readonly-inventory')
  await setEmulatorLatency(0)

  // The run leaves every widget when it completes; never a terminal state there.
  for (const p of [page, other]) await expect(p.getByTestId('progress-widget')).toHaveCount(0, { timeout: 90_000 })

  // Exactly one notification, to the initiator, live.
  await expect(page.getByTestId('notifications-unread-count')).toHaveText(String(adminUnread + 1))
  await other.waitForTimeout(1000)
  expect(await unreadCount(other)).toBe(operatorUnread)
  await other.getByTestId('notifications-bell').click()
  await expect(other.getByText('No notifications yet.')).toBeVisible()

  await page.getByTestId('notifications-bell').click()
  const item = page.getByTestId('notification-item').first()
  await expect(item).toContainText(/Inventory sync (succeeded|completed|partially)/i)
  await expect(item).toContainText(/processed/)
  await page.waitForTimeout(300) // the panel's fade-in, for a readable screenshot
  await screenshot(page, 'notifications')
  await item.getByRole('button').first().click()
  await expect(page).toHaveURL(`${baseUrl()}${runPath}`)
  await expect(page.getByTestId('notifications-unread-count')).toHaveText(String(adminUnread))

  // The run page: outcome, counts, per-type results, the failure and its fix.
  await expect(page.getByTestId('run-status')).toHaveText('Completed')
  await expect(page.getByTestId('run-outcome')).toHaveText('Partially succeeded')
  await expect(page.getByTestId('run-count-total')).toContainText(/\d+/)
  await expect(page.getByTestId('run-count-created')).toContainText(/[1-9]\d*/)
  await expect(page.getByTestId('run-units').locator('tbody tr').first()).toBeVisible()
  await expect(page.getByText('Full inventory (with foundations and dependencies)')).toBeVisible()
  await expect(page.getByTestId('run-failure-fix').first()).toHaveText(
    'Fix: Grant the missing application permission (named above) to the app registration in Entra ID and admin-consent it, then re-run.',
  )
  await screenshot(page, 'run-detail')
  await page.getByTestId('run-failure').first().scrollIntoViewIfNeeded()
  await screenshot(page, 'run-detail-failures')

  // Monitoring → Operations lists it with its counts.
  await page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: 'Operations' }).click()
  const row = page
    .getByTestId('operations-table')
    .locator(`[data-testid="operation-row"][data-run-id="${runPath.split('/').pop()}"]`)
  await expect(row).toContainText('Inventory sync')
  await expect(row).toContainText('Partially succeeded')
  await expect(row.getByTestId('operation-counts')).toHaveText(/^\d+ \/ \d+ types · objects: \d+ created/)
  await screenshot(page, 'operations')

  await other.context().close()
  await viewer.context().close()
})

test('a double click on "Start sync" makes one run and says "already running"', async ({ page }) => {
  test.setTimeout(120_000)
  await pageAsAdmin(page)
  const before = await runCount()
  // Graph stays slow while the run is checked in the widget: on a busy machine a fast sync ended first.
  await setEmulatorLatency(1500)
  await page.goto(`${baseUrl()}/t/${tenantId}/inventory`)
  await page.getByTestId('run-inventory-sync').click()
  await page.getByRole('dialog', { name: 'Run inventory sync' }).getByRole('button', { name: 'Start sync' }).dblclick()

  await expect(page.locator('.mantine-Notification-root', { hasText: 'Inventory sync queued' })).toBeVisible()
  const again = page.locator('.mantine-Notification-root', { hasText: 'Inventory sync already running' })
  await expect(again).toBeVisible()
  await expect(again.getByRole('link', { name: 'View run' })).toBeVisible()
  await screenshot(page, 'toast-already-running')
  await expect(page.getByTestId('progress-widget-run')).toHaveCount(1)
  expect(await runCount()).toBe(before + 1)
  await setEmulatorLatency(40)
  await expect(page.getByTestId('progress-widget')).toHaveCount(0, { timeout: 90_000 })
})

test('cancelling a running sync: Cancelling… then cancelled, in the widget and on the run page', async ({ page }) => {
  test.setTimeout(120_000)
  await pageAsAdmin(page)
  // Every Graph page takes 6 s: "Cancelling…" lasts until the current page is done, long enough to be seen on a busy machine.
  await setEmulatorLatency(6000)
  await page.goto(`${baseUrl()}/t/${tenantId}/inventory`)
  await page.getByTestId('run-inventory-sync').click()
  await page.getByRole('dialog', { name: 'Run inventory sync' }).getByRole('button', { name: 'Start sync' }).click()
  await page
    .locator('.mantine-Notification-root', { hasText: 'Inventory sync queued' })
    .getByRole('link', { name: 'View run' })
    .click()
  await expect(page).toHaveURL(new RegExp(`/t/${tenantId}/operations/[0-9a-f-]+$`))
  await expect(page.getByTestId('run-status')).toHaveText('Running', { timeout: 20_000 })

  await page.getByRole('button', { name: 'Cancel', exact: true }).click()
  await expect(page.getByTestId('progress-widget-run')).toContainText('Cancelling…')
  await expect(page.getByTestId('run-status')).toHaveText('Cancelling…')
  await screenshot(page, 'run-cancelling')

  await expect(page.getByTestId('run-outcome')).toHaveText('Cancelled', { timeout: 60_000 })
  await expect(page.getByTestId('run-status')).toHaveText('Completed')
  // The widget says how the run ended for a few seconds, with a link, then leaves.
  await expect(page.getByTestId('progress-widget-run')).toHaveCount(0)
  await expect(page.getByTestId('progress-widget-finished')).toContainText('Cancelled')
  await expect(page.getByTestId('progress-widget')).toHaveCount(0, { timeout: 30_000 })
  await expect(page.getByRole('button', { name: 'Cancel', exact: true })).toHaveCount(0)
  await screenshot(page, 'run-cancelled')
})

test("an operator manages only their own runs: no Re-run on the admin's run; Re-run repeats the selection of theirs", async ({
  page,
}) => {
  test.setTimeout(120_000)
  // A run the admin started (the tests above may have been filtered out).
  expect((await adminApi.post(`/api/tenants/${tenantId}/inventory-sync`, { data: {} })).status()).toBe(202)
  await waitUntilIdle(adminApi, tenantId)
  await signInAs(page, operator)
  const runs = (
    (await (await adminApi.get(`/api/tenants/${tenantId}/operation-runs`, { params: { limit: 1 } })).json()) as {
      data: { id: string; initiator: { id: string } | null }[]
    }
  ).data
  await page.goto(`${baseUrl()}/t/${tenantId}/operations/${runs[0]!.id}`)
  await expect(page.getByTestId('run-status')).toHaveText('Completed')
  // Started by the admin: the operator is offered neither action.
  await expect(page.getByRole('button', { name: 'Re-run' })).toHaveCount(0)

  await page.goto(`${baseUrl()}/t/${tenantId}/inventory`)
  await page.getByTestId('run-inventory-sync').click()
  const dialog = page.getByRole('dialog', { name: 'Run inventory sync' })
  await dialog.getByLabel('Only some policy types or categories').check()
  await dialog.getByPlaceholder('Any category').click()
  await page.getByRole('option', { name: 'Compliance', exact: true }).click()
  await dialog.getByRole('heading', { name: 'Run inventory sync' }).click() // closes the option list
  await dialog.getByLabel(/Include dependencies/).uncheck()
  await dialog.getByRole('button', { name: 'Start sync' }).click()
  await page
    .locator('.mantine-Notification-root', { hasText: 'Inventory sync queued' })
    .getByRole('link', { name: 'View run' })
    .click()
  await expect(page.getByText('Categories: Compliance (with foundations)')).toBeVisible()
  await expect(page.getByTestId('run-status')).toHaveText('Completed', { timeout: 90_000 })
  const first = page.url()

  await page.getByRole('button', { name: 'Re-run' }).click()
  // A new run (the first one completed), announced by its own toast.
  const firstPath = new URL(first).pathname
  const newRunLink = page
    .locator('.mantine-Notification-root', { hasText: 'Inventory sync queued' })
    .locator(`a:not([href="${firstPath}"])`, { hasText: 'View run' })
  await newRunLink.click()
  await expect(page).not.toHaveURL(first)
  await expect(page.getByText('Categories: Compliance (with foundations)')).toBeVisible()
  await expect(page.getByTestId('run-status')).toHaveText('Completed', { timeout: 90_000 })
})

test('without Server-Sent Events the widget polls, only while a run is active', async ({ page }) => {
  test.setTimeout(120_000)
  // A browser (or a proxy) without SSE: the console falls back to polling /operation-runs/active.
  await page.addInitScript(() => {
    Reflect.deleteProperty(globalThis, 'EventSource')
  })
  const calls: string[] = []
  page.on('request', (r) => {
    const url = new URL(r.url())
    if (url.pathname.endsWith('/events') || url.pathname.endsWith('/operation-runs/active')) calls.push(url.pathname)
  })
  await pageAsAdmin(page)
  await setEmulatorLatency(80) // polls are 2 s apart: a run long enough to be seen mid-way
  await page.goto(`${baseUrl()}/t/${tenantId}/inventory`)
  await page.getByTestId('run-inventory-sync').click()
  await page.getByRole('dialog', { name: 'Run inventory sync' }).getByRole('button', { name: 'Start sync' }).click()
  await expect(page.getByTestId('progress-widget-run')).toContainText(/Queued|Running/)
  await expect(page.getByTestId('progress-widget-counts')).toHaveText(/^\d+ \/ \d+ \(\d+%\)$/, { timeout: 15_000 })
  await expect(page.getByTestId('progress-widget')).toHaveCount(0, { timeout: 90_000 })
  expect(calls.filter((c) => c.endsWith('/events'))).toEqual([])
  const polls = calls.filter((c) => c.endsWith('/active')).length
  expect(polls).toBeGreaterThan(1)
  // Nothing active any more: no more requests.
  await page.waitForTimeout(5000)
  expect(calls.filter((c) => c.endsWith('/active')).length).toBe(polls)
})

async function pageAsAdmin(page: Page) {
  await signInAs(page, admin())
}

async function signInAs(page: Page, creds: { email: string; password: string }) {
  await page.goto(`${baseUrl()}/login`)
  await page.getByLabel('E-mail').fill(creds.email)
  await page.getByLabel('Password').fill(creds.password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  // A member of one tenant lands on it, of several on the overview (which other spec files may have made).
  await expect(page).toHaveURL(/\/(t\/|overview)/)
}

async function runCount(): Promise<number> {
  let count = 0
  let cursor: string | undefined
  do {
    const page = (await (
      await adminApi.get(`/api/tenants/${tenantId}/operation-runs`, {
        params: { limit: 200, ...(cursor ? { cursor } : {}) },
      })
    ).json()) as {
      data: unknown[]
      next_cursor: string | null
    }
    count += page.data.length
    cursor = page.next_cursor ?? undefined
  } while (cursor)
  return count
}
