import { expect, test } from '@playwright/test'
import { admin, baseUrl, screenshot, signIn } from './helpers.ts'

test('the first admin signs in at the printed URL, lands in the demo tenant and signs out again', async ({ page }) => {
  await page.goto(baseUrl())
  await expect(page).toHaveURL(/\/login/)
  await screenshot(page, 'sign-in')

  await page.getByLabel('E-mail').fill(admin().email)
  await page.getByLabel('Password').fill('not the password')
  await page.getByRole('button', { name: 'Sign in' }).click()
  await expect(page.getByRole('alert')).toHaveText('E-mail or password is incorrect')
  await screenshot(page, 'sign-in-wrong-password')

  await page.getByLabel('Password').fill(admin().password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  // `/` goes to the tenant the admin belongs to: the demo tenant `npm start` created.
  await expect(page).toHaveURL(new RegExp(`${baseUrl()}/t/[0-9a-f-]+$`))
  await expect(page.getByRole('heading', { name: 'Contoso (demo)' })).toBeVisible()
  await expect(page.getByRole('button', { name: 'Account: Admin' })).toBeVisible()
  await screenshot(page, 'tenant-home')

  // The session survives a reload (cookie), and sign-out revokes it.
  await page.reload()
  await expect(page.getByRole('heading', { name: 'Contoso (demo)' })).toBeVisible()
  await page.getByRole('button', { name: 'Account: Admin' }).click()
  await page.getByRole('menuitem', { name: 'Sign out' }).click()
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible()
  await expect(page).toHaveURL(/\/login$/)
  await page.reload()
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible()
})

test('a lost session sends the user to the sign-in page once, and back where they were after signing in', async ({
  page,
  context,
}) => {
  await signIn(page, admin())
  await expect(page.getByRole('heading', { name: 'Contoso (demo)' })).toBeVisible()
  const tenantPath = new URL(page.url()).pathname
  const requests: string[] = []
  page.on('request', (r) => {
    if (r.url().includes('/api/')) requests.push(r.url())
  })

  await context.clearCookies() // the session is gone (expired, revoked elsewhere)
  await page.getByRole('link', { name: 'Inventory', exact: true }).click()
  await expect(page).toHaveURL(/\/login\?expired=1&next=/)
  await expect(page.getByText('Your session has ended: sign in again.')).toBeVisible()
  // No loop: after landing on the sign-in page the console stops asking the API.
  const settled = requests.length
  await page.waitForTimeout(1500)
  expect(requests.length).toBe(settled)

  await page.getByLabel('E-mail').fill(admin().email)
  await page.getByLabel('Password').fill(admin().password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await expect(page).toHaveURL(`${baseUrl()}${tenantPath}/inventory`)
})

test('too many failed sign-ins show the rate-limit message', async ({ page }) => {
  await page.goto(`${baseUrl()}/login`)
  const email = `nobody-${Date.now()}@example.com`
  await page.getByLabel('E-mail').fill(email)
  for (let i = 0; i < 5; i++) {
    await page.getByLabel('Password').fill(`wrong password ${i}`)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await expect(page.getByRole('alert')).toHaveText('E-mail or password is incorrect')
  }
  await page.getByLabel('Password').fill('wrong again')
  await page.getByRole('button', { name: 'Sign in' }).click()
  await expect(page.getByRole('alert')).toHaveText(/Too many failed sign-ins\. Try again in \d+ minutes\./)
})

test('the API docs render', async ({ page }) => {
  await page.goto(`${baseUrl()}/api/docs`)
  await expect(page.getByText('TenantAtlas API')).toBeVisible()
})

test('unknown API paths stay JSON 404s and console routes serve the app', async ({ request }) => {
  const api = await request.get(`${baseUrl()}/api/no-such-thing`)
  expect(api.status()).toBe(404)
  expect(await api.json()).toMatchObject({ error: { code: 'not_found' } })
  const deepLink = await request.get(`${baseUrl()}/t/00000000-0000-0000-0000-000000000000/operations/x`)
  expect(deepLink.status()).toBe(200)
  expect(deepLink.headers()['content-type']).toContain('text/html')
  expect((await request.get(`${baseUrl()}/healthz`)).status()).toBe(200)
})
