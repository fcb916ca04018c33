import { randomUUID } from 'node:crypto'
import { expect, test } from '@playwright/test'
import { admin, apiAs, baseUrl, demoTenantId, pageAs } from './helpers.ts'

/**
 * Issue 27: a member of two tenants lands on the overview, where the tenant that needs attention
 * (never synced) is marked critical; a tenant group filters it; the tenant picker searches and
 * shows each tenant's health dot, and finds tenants by a tenant group's name.
 */
test('a member of two tenants lands on the overview, filters it by a tenant group and picks a tenant by name', async ({
  browser,
}) => {
  const adminApi = await apiAs(admin())
  const demoId = await demoTenantId(adminApi)
  const adminId = ((await (await adminApi.get('/api/me')).json()) as { user: { id: string } }).user.id
  const suffix = Date.now().toString(36)
  const name = `Fabrikam ${suffix}`
  const created = await adminApi.post('/api/tenants', {
    data: {
      name,
      entra_tenant_id: randomUUID(),
      client_id: randomUUID(),
      client_secret: 'never used',
      cloud: 'emulator',
    },
  })
  expect(created.status(), await created.text()).toBe(201)
  const fabrikamId = ((await created.json()) as { id: string }).id
  const creds = { email: `many-${suffix}@example.com`, password: `pw-${suffix}-long-enough`, name: `Many ${suffix}` }
  expect((await adminApi.post('/api/users', { data: creds })).status()).toBe(201)
  expect(
    (
      await adminApi.post(`/api/tenants/${fabrikamId}/members`, { data: { email: creds.email, role: 'owner' } })
    ).status(),
  ).toBe(201)
  expect(
    (
      await adminApi.post(`/api/tenants/${demoId}/members`, { data: { email: creds.email, role: 'readonly' } })
    ).status(),
  ).toBe(201)
  // The admin leaves Fabrikam again: the other specs expect an admin of the demo tenant alone.
  expect((await adminApi.delete(`/api/tenants/${fabrikamId}/members/${adminId}`)).status()).toBe(204)
  const group = await adminApi.post('/api/tenant-groups', {
    data: { name: `Demo only ${suffix}`, tenant_ids: [demoId] },
  })
  expect(group.status(), await group.text()).toBe(201)

  const page = await pageAs(browser, creds)
  await expect(page).toHaveURL(`${baseUrl()}/overview`)
  const rows = page.getByTestId('overview-table').getByTestId('overview-row')
  await expect(rows).toHaveCount(2)
  const fabrikam = rows.filter({ hasText: name })
  await expect(fabrikam).toHaveAttribute('data-health', 'critical')
  await expect(fabrikam).toContainText('Never synced successfully')
  await expect(rows.filter({ hasText: 'Contoso (demo)' })).toHaveCount(1)

  await page.getByTestId('overview-group-filter').click()
  await page.getByRole('option', { name: `Demo only ${suffix} (1)` }).click()
  await expect(page).toHaveURL(/[?&]group=/)
  await expect(rows).toHaveCount(1)
  await expect(rows.first()).toContainText('Contoso (demo)')

  await page.getByTestId('tenant-switcher').click()
  await expect(page.getByTestId('tenant-option')).toHaveCount(2)
  await expect(
    page.getByTestId('tenant-option').filter({ hasText: name }).locator('[data-health="critical"]'),
  ).toHaveCount(1)
  // A tenant group's name finds its tenants, and each option names its groups.
  await page.getByTestId('tenant-switcher').fill(`Demo only ${suffix}`)
  await expect(page.getByTestId('tenant-option')).toHaveCount(1)
  await expect(page.getByTestId('tenant-option')).toContainText('Contoso (demo)')
  await expect(page.getByTestId('tenant-option')).toContainText(`Demo only ${suffix}`)
  await page.getByTestId('tenant-switcher').fill('Fabri')
  await expect(page.getByTestId('tenant-option')).toHaveCount(1)
  await page.getByTestId('tenant-option').click()
  await expect(page).toHaveURL(`${baseUrl()}/t/${fabrikamId}`)
})
