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
  // The organisation's Entra tenant, where the app registration lives (each test adds its people).
  const control = await request.newContext({ baseURL: emulator })
  const made = await control.post('/_emulator/tenants', {
    data: { tenant_id: ENTRA_TENANT, client_id: CLIENT_ID, client_secret: SECRET, policies: 5 },
  })
  expect(made.status(), await made.text()).toBe(201)
  await control.dispose()
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

test('a backup delete with a sign-in from an hour ago goes through the emulator sign-in page and then goes ahead', async ({
  page,
}) => {
  test.setTimeout(120_000)
  const control = await request.newContext({ baseURL: emulator })
  const post = async (url: string, data: unknown) => {
    const response = await control.post(`/_emulator${url}`, { data })
    expect(response.status(), await response.text()).toBe(201)
    return (await response.json()) as { id: string }
  }
  // Entra's session began an hour ago (single sign-on from this morning): STEP_UP_MAX_AGE_MINUTES is 15.
  expect((await control.put('/_emulator/oidc', { data: { auth_age_seconds: 3600 } })).status()).toBe(200)
  const group = await post(`/tenants/${ENTRA_TENANT}/groups`, { name: 'Backup keepers' })
  await post(`/tenants/${ENTRA_TENANT}/users`, {
    name: 'Lee Gordon',
    user_principal_name: 'lee@contoso.example',
    groups: [group.id],
  })
  const api = await request.newContext({ baseURL: base, extraHTTPHeaders: { origin: base } })
  expect((await api.post('/api/auth/sign-in', { data: adminCreds })).status()).toBe(200)
  const me = (await (await api.get('/api/me')).json()) as { tenants: { id: string; name: string }[] }
  const demo = me.tenants.find((t) => t.name === 'Contoso (demo)')!
  const rule = await api.post('/api/role-rules', {
    data: { claim: 'group', value: group.id, grants: { role: 'owner', tenant_ids: [demo.id] } },
  })
  expect(rule.status(), await rule.text()).toBe(201)
  const started = await api.post(`/api/tenants/${demo.id}/backups`, {
    data: {
      name: 'Step-up E2E',
      selection: { policy_types: ['deviceCompliancePolicy'], include_foundations: false, include_dependencies: false },
    },
  })
  expect(started.status(), await started.text()).toBe(202)
  const { backup } = (await started.json()) as { backup: { id: string } }
  await expect
    .poll(
      async () =>
        ((await (await api.get(`/api/tenants/${demo.id}/backups/${backup.id}`)).json()) as { status: string }).status,
      {
        timeout: 90_000,
      },
    )
    .toBe('complete')

  await page.goto(`${base}/login`)
  await page.getByTestId('sign-in-microsoft').click()
  await page.locator('[data-upn="lee@contoso.example"]').click()
  await expect(page.getByRole('button', { name: 'Account: Lee Gordon' })).toBeVisible()
  // From now on a sign-in on the emulator's page is a fresh one.
  expect((await control.put('/_emulator/oidc', { data: {} })).status()).toBe(200)

  const backupPage = `${base}/t/${demo.id}/backups/${backup.id}`
  await page.goto(backupPage)
  await page.getByTestId('delete-backup').click()
  await page.getByTestId('confirm-typed').fill('Step-up E2E')
  await page.getByTestId('confirm-write').click()
  // The server answered step_up_required: the console sent Lee to Microsoft's (the emulator's) page with max_age.
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible()
  expect(page.url().startsWith(emulator)).toBe(true)
  expect(new URL(page.url()).searchParams.get('max_age')).toBe('900')
  await screenshot(page, 'entra-step-up-sign-in')
  expect((await api.get(`/api/tenants/${demo.id}/backups/${backup.id}`)).status()).toBe(200)
  await page.locator('[data-upn="lee@contoso.example"]').click()
  // Back on the page the action was asked from, the kept delete is sent once and goes ahead.
  await expect(page.getByText('Signed in again: the action went ahead')).toBeVisible()
  // The backup's own page has nothing left to show: the console went up to the list.
  await expect(page).toHaveURL(`${base}/t/${demo.id}/backups`)
  await screenshot(page, 'entra-step-up-resumed')
  expect((await api.get(`/api/tenants/${demo.id}/backups/${backup.id}`)).status()).toBe(404)
  const audit = (await (await api.get(`/api/tenants/${demo.id}/audit-events?action=backup.deleted`)).json()) as {
    data: { actor: { name: string | null } }[]
  }
  expect(audit.data.map((e) => e.actor.name)).toEqual(['Lee Gordon'])
})
