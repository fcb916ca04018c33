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

const emulator = async (method: string, path: string, body?: unknown) => {
  const response = await fetch(`${process.env.E2E_EMULATOR_URL}/_emulator${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return (await response.json()) as Record<string, unknown>
}

test('restore: plan a backup, review the plan (a renamed policy is an update with its diff), execute it', async ({
  page,
}) => {
  const started = (await (
    await adminApi.post(`/api/tenants/${tenantId}/backups`, { data: { name: 'Before the rename' } })
  ).json()) as { backup: { id: string } }
  await waitUntilIdle(adminApi, tenantId)
  // Someone renames a device configuration profile in Intune; the next sync sees it.
  const me = (await (await adminApi.get(`/api/tenants/${tenantId}`)).json()) as { entra_tenant_id: string }
  const truth = (await emulator('GET', `/tenants/${me.entra_tenant_id}/inventory`)) as {
    objects: { type: string; id: string; display_name: string }[]
  }
  const victim = truth.objects.find((o) => o.type === 'deviceConfiguration')!
  await emulator('PATCH', `/tenants/${me.entra_tenant_id}/items/${victim.id}`, {
    displayName: `${victim.display_name} (renamed)`,
  })
  expect((await adminApi.post(`/api/tenants/${tenantId}/inventory-sync`, { data: {} })).status()).toBe(202)
  await waitUntilIdle(adminApi, tenantId)

  await signIn(page, admin())
  await page.goto(`${baseUrl()}/t/${tenantId}/backups/${started.backup.id}`)
  await page.getByTestId('plan-restore').click()
  await expect(page).toHaveURL(/\/restore\//)
  const plan = page.getByTestId('restore-plan')
  await expect(plan).toBeVisible()
  const update = plan.locator('[data-action="update"]').filter({ hasText: victim.display_name })
  await expect(update).toHaveCount(1)
  await update.getByText(/Show \d+ change/).click()
  await expect(page.getByTestId('diff-view')).toContainText(`${victim.display_name} (renamed)`)
  // Only what the restore writes: no server-set values such as the version.
  await expect(page.getByTestId('diff-row')).toHaveCount(1)
  await screenshot(page, 'restore-plan')
  await page.getByTestId('execute-restore').click()
  // One confirmation in words and numbers (issue 24); the same tenant needs no typed name.
  await expect(page.getByTestId('confirm-restore-sentence')).toHaveText(/^Update 1 policy in Contoso \(demo\)[.;]/)
  await page.getByTestId('confirm-write').click()
  await expect(page).toHaveURL(/\/operations\//)
  await waitUntilIdle(adminApi, tenantId)
  const runId = /operations\/([^/?]+)/.exec(page.url())![1]!
  const failed = (await (
    await adminApi.get(`/api/tenants/${tenantId}/operation-runs/${runId}/items`, { params: { status: 'failed' } })
  ).json()) as { data: unknown[] }
  expect(failed.data, JSON.stringify(failed.data)).toEqual([])
  await page.reload()
  await page.getByRole('tab', { name: 'Items' }).click()
  await expect(page.getByTestId('run-items-table')).toBeVisible()
  await screenshot(page, 'restore-run')
  const after = (await emulator('GET', `/tenants/${me.entra_tenant_id}/inventory`)) as {
    objects: { id: string; display_name: string }[]
  }
  expect(after.objects.find((o) => o.id === victim.id)?.display_name).toBe(victim.display_name)
})
