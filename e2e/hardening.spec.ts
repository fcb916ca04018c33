import { expect, test } from '@playwright/test'
import { admin, apiAs, baseUrl, demoTenantId, signIn } from './helpers.ts'

/** Issue 12 in a real browser: the CSP fits the console, long names stay in their column, next= stays home, tokens. */

test('the console and the API docs run under the Content-Security-Policy without a violation', async ({ page }) => {
  const violations: string[] = []
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text())
  })
  await signIn(page, admin())
  await expect(page.getByRole('heading', { name: 'Contoso (demo)' })).toBeVisible()
  await page.getByRole('link', { name: 'Inventory', exact: true }).click()
  await expect(page.getByTestId('run-inventory-sync')).toBeVisible()
  await page.goto(`${baseUrl()}/api/docs`)
  await expect(page.getByText('TenantAtlas API')).toBeVisible()
  expect(violations).toEqual([])
})

test('a crafted next= after sign-in stays on this site and signs in', async ({ page }) => {
  for (const next of ['/%5Cevil.example/x', '/%09/evil.example']) {
    await page.context().clearCookies()
    await page.goto(`${baseUrl()}/login?next=${encodeURIComponent(next)}`)
    await page.getByLabel('E-mail').fill(admin().email)
    await page.getByLabel('Password').fill(admin().password)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await expect(page.getByRole('heading', { name: 'Contoso (demo)' })).toBeVisible()
    expect(new URL(page.url()).origin).toBe(baseUrl())
    await expect(page.getByText('Sign-in failed')).toHaveCount(0)
  }
})

test('a 20,000-character display name stays in its column, whole on hover', async ({ page }) => {
  const api = await apiAs(admin())
  const tenantId = await demoTenantId(api)
  const tenant = (await (await api.get(`/api/tenants/${tenantId}`)).json()) as { entra_tenant_id: string }
  const emulator = process.env.E2E_EMULATOR_URL!
  const truth = (await (await fetch(`${emulator}/_emulator/tenants/${tenant.entra_tenant_id}/inventory`)).json()) as {
    objects: { type: string; id: string }[]
  }
  const target = truth.objects.find((o) => o.type === 'deviceConfiguration')!
  const long = `Long name ${'w'.repeat(20_000)}`
  const patched = await fetch(`${emulator}/_emulator/tenants/${tenant.entra_tenant_id}/items/${target.id}`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ displayName: long }),
  })
  expect(patched.status).toBe(200)
  const started = (await (
    await api.post(`/api/tenants/${tenantId}/inventory-sync`, { data: { policy_types: ['deviceConfiguration'] } })
  ).json()) as { run: { id: string } }
  await expect
    .poll(
      async () =>
        (
          (await (await api.get(`/api/tenants/${tenantId}/operation-runs/${started.run.id}`)).json()) as {
            status: string
          }
        ).status,
      { timeout: 60_000 },
    )
    .toBe('completed')

  await signIn(page, admin())
  await page.goto(`${baseUrl()}/t/${tenantId}/inventory?q=Long%20name`)
  const name = page.getByTitle(long)
  await expect(name).toBeVisible()
  const table = await page.getByTestId('inventory-table').boundingBox()
  const nameBox = await name.boundingBox()
  expect(nameBox!.width).toBeLessThan(500)
  expect(table!.width).toBeLessThan(1400)
  // The last column is on the screen, not 178,000 px to the right.
  const lastHeader = await page.getByRole('columnheader', { name: 'Last modified' }).boundingBox()
  expect(lastHeader!.x + lastHeader!.width).toBeLessThan(1280)
  await name.click()
  await expect(page.getByTestId('item-detail')).toBeVisible()
})

test('the Tokens page creates a read-only token, shows it once, lists it and revokes it', async ({ page }) => {
  await signIn(page, admin())
  await page.getByRole('button', { name: /^Account:/ }).click()
  await page.getByRole('menuitem', { name: 'API tokens' }).click()
  await expect(page).toHaveURL(`${baseUrl()}/account/tokens`)
  const name = `e2e ${Date.now()}`
  await page.getByLabel('Name').fill(name)
  await page.getByRole('combobox', { name: 'Scope' }).click()
  await page.getByRole('option', { name: 'Read-only' }).click()
  await page.getByRole('button', { name: 'Create token' }).click()
  const shown = await page.getByTestId('created-token').locator('code').innerText()
  expect(shown).toMatch(/^ta_pat_/)
  const row = page.getByTestId('token-row').filter({ hasText: name })
  await expect(row).toContainText('Read-only')

  // The token works, read-only.
  const me = await fetch(`${baseUrl()}/api/me`, { headers: { authorization: `Bearer ${shown}` } })
  expect(me.status).toBe(200)
  const write = await fetch(`${baseUrl()}/api/tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${shown}`, 'content-type': 'application/json' },
    body: '{"name":"x"}',
  })
  expect(write.status).toBe(403)

  await row.getByRole('button', { name: `Revoke ${name}` }).click()
  await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click()
  await expect(row).toHaveCount(0)
  expect((await fetch(`${baseUrl()}/api/me`, { headers: { authorization: `Bearer ${shown}` } })).status).toBe(401)
})
