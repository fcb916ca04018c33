import { randomUUID } from 'node:crypto'
import { expect, request, test } from '@playwright/test'
import { screenshot } from './helpers.ts'
import { type Served, startServe } from './serve.ts'

/**
 * Sign in with Microsoft in Chromium, through the emulator's sign-in page (issue 28). A server of its
 * own, started as `npm start` is but with Sign in with Microsoft configured against the built-in
 * emulator (the shared server of the other specs keeps password sign-in only).
 */

const CLIENT_ID = randomUUID()
const SECRET = `e2e-${randomUUID()}`
const ENTRA_TENANT = randomUUID()
let served: Served
let base = ''
let emulator = ''
let adminCreds = { email: '', password: '' }

test.beforeAll(async () => {
  served = await startServe(
    { ENTRA_CLIENT_ID: CLIENT_ID, ENTRA_CLIENT_SECRET: SECRET, ENTRA_TENANT_ID: ENTRA_TENANT, ENTRA_CLOUD: 'emulator' },
    'ta-e2e-entra-',
  )
  base = served.baseUrl
  adminCreds = served.admin
  emulator = served.emulatorUrl
})

test.afterAll(() => served.stop())

test('a colleague signs in with Microsoft on the emulator page and lands in the tenant their Entra group grants', async ({
  page,
}) => {
  const control = await request.newContext({ baseURL: emulator })
  const post = async (url: string, data: unknown) => {
    const response = await control.post(`/_emulator${url}`, { data })
    expect(response.status(), await response.text()).toBe(201)
    return (await response.json()) as { id: string }
  }
  await post('/tenants', { tenant_id: ENTRA_TENANT, client_id: CLIENT_ID, client_secret: SECRET, policies: 5 })
  const group = await post(`/tenants/${ENTRA_TENANT}/groups`, { name: 'Intune engineers' })
  await post(`/tenants/${ENTRA_TENANT}/users`, {
    name: 'Megan Bowen',
    user_principal_name: 'megan@contoso.example',
    groups: [group.id],
  })

  const api = await request.newContext({ baseURL: base, extraHTTPHeaders: { origin: base } })
  expect((await api.post('/api/auth/sign-in', { data: adminCreds })).status()).toBe(200)
  const me = (await (await api.get('/api/me')).json()) as { tenants: { id: string; name: string }[] }
  const demo = me.tenants.find((t) => t.name === 'Contoso (demo)')!
  const rule = await api.post('/api/role-rules', {
    data: { claim: 'group', value: group.id, grants: { role: 'manager', tenant_ids: [demo.id] } },
  })
  expect(rule.status(), await rule.text()).toBe(201)

  await page.goto(`${base}/login`)
  await page.getByTestId('sign-in-microsoft').click()
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible()
  expect(page.url().startsWith(emulator)).toBe(true)
  await screenshot(page, 'entra-emulator-sign-in')
  await page.locator('[data-upn="megan@contoso.example"]').click()
  await expect(page).toHaveURL(new RegExp(`${base}/t/${demo.id}`))
  await expect(page.getByRole('heading', { name: 'Contoso (demo)' })).toBeVisible()
  await expect(page.getByRole('button', { name: 'Account: Megan Bowen' })).toBeVisible()
  await screenshot(page, 'entra-signed-in')
})
