import { type APIRequestContext, expect, test } from '@playwright/test'
import { admin, apiAs, baseUrl, demoTenantId, screenshot, signIn, waitUntilIdle } from './helpers.ts'

/**
 * Issue 13 in a real browser: a change made in Intune (the emulator, by a named admin) reaches the
 * inventory through a quick sync, shows in the Changes table with who made it, and opens the item
 * page with its version timeline and the readable diff.
 */

test.describe.configure({ mode: 'serial' })

let api: APIRequestContext
let tenantId: string
const stamp = Date.now().toString(36)
const description = `Changed in e2e ${stamp}`

async function syncAndWait(selection: Record<string, unknown>) {
  const started = await api.post(`/api/tenants/${tenantId}/inventory-sync`, { data: selection })
  expect(started.status(), await started.text()).toBe(202)
  const { run } = (await started.json()) as { run: { id: string } }
  await expect
    .poll(
      async () =>
        ((await (await api.get(`/api/tenants/${tenantId}/operation-runs/${run.id}`)).json()) as { status: string })
          .status,
      { timeout: 90_000, intervals: [250] },
    )
    .toBe('completed')
  return run.id
}

let itemName: string

test.beforeAll(async () => {
  api = await apiAs(admin())
  tenantId = await demoTenantId(api)
  await waitUntilIdle(api, tenantId)
  // A full sync first (the inventory and the versions to compare with).
  await syncAndWait({
    policy_types: ['deviceCompliancePolicy'],
    include_foundations: false,
    include_dependencies: false,
  })
  const tenant = (await (await api.get(`/api/tenants/${tenantId}`)).json()) as { entra_tenant_id: string }
  const emulator = process.env.E2E_EMULATOR_URL!
  const truth = (await (await fetch(`${emulator}/_emulator/tenants/${tenant.entra_tenant_id}/inventory`)).json()) as {
    objects: { type: string; id: string; display_name: string }[]
  }
  const target = truth.objects.find((o) => o.type === 'deviceCompliancePolicy')!
  itemName = target.display_name
  const patched = await fetch(`${emulator}/_emulator/tenants/${tenant.entra_tenant_id}/items/${target.id}`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ description, actor: { user_principal_name: 'e2e.admin@contoso.com' } }),
  })
  expect(patched.status).toBe(200)
  await syncAndWait({
    mode: 'quick',
    policy_types: ['deviceCompliancePolicy'],
    include_foundations: false,
    include_dependencies: false,
  })
})

test.afterAll(async () => {
  await api.dispose()
})

test('the Changes table lists the change with who made it, and opens the item with its versions and the diff', async ({
  page,
}) => {
  await signIn(page, admin())
  await page.goto(`${baseUrl()}/t/${tenantId}/changes?kind=updated`)
  const table = page.getByTestId('changes-table')
  const row = table.getByTestId('change-row').filter({ hasText: itemName }).first()
  await expect(row).toBeVisible()
  await expect(row).toContainText('Updated')
  await expect(row).toContainText('e2e.admin@contoso.com')
  await screenshot(page, 'changes')

  await row.getByRole('link', { name: itemName }).click()
  await expect(page).toHaveURL(/\/inventory\/[0-9a-f-]+\?version=/)
  const versions = page.getByTestId('versions-list')
  await expect(versions.getByTestId('version-row').first()).toContainText('Latest')
  expect(await versions.getByTestId('version-row').count()).toBeGreaterThanOrEqual(2)
  await expect(versions.getByTestId('version-row').first()).toContainText('e2e.admin@contoso.com')
  const diff = page.getByTestId('diff-view')
  const changed = diff.getByTestId('diff-row').filter({ hasText: 'Description' })
  await expect(changed).toHaveCount(1)
  await expect(changed).toContainText(description)
  await screenshot(page, 'item-versions-diff')

  // Comparing a version with itself: nothing differs.
  const latest = await versions.getByTestId('version-row').first().innerText()
  const number = /Version (\d+)/.exec(latest)![1]
  await page.getByRole('radio', { name: `Compare from version ${number}` }).check()
  await expect(page.getByRole('heading', { name: `Changes from version ${number} to ${number}` })).toBeVisible()
  await expect(page.getByText('No differences between these versions.')).toBeVisible()
  await expect(diff).toHaveCount(0)
})
