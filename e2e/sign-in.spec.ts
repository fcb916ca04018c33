import { expect, test } from '@playwright/test'

const baseUrl = () => process.env.E2E_BASE_URL!

test('the first admin signs in at the printed URL and signs out again', async ({ page }) => {
  await page.goto(baseUrl())
  await expect(page).toHaveURL(/\/login$/)

  await page.getByLabel('E-mail').fill(process.env.E2E_ADMIN_EMAIL!)
  await page.getByLabel('Password').fill('not the password')
  await page.getByRole('button', { name: 'Sign in' }).click()
  await expect(page.getByRole('alert')).toHaveText('E-mail or password is incorrect')

  await page.getByLabel('Password').fill(process.env.E2E_ADMIN_PASSWORD!)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await expect(page.getByText('Signed in as')).toContainText('Admin')
  await expect(page.getByText('You are not a member of any tenant yet.')).toBeVisible()
  await expect(page).toHaveURL(new RegExp(`${baseUrl()}/$`))
  await page.screenshot({ path: 'test-results/signed-in.png' })

  // The session survives a reload (cookie), and sign-out revokes it.
  await page.reload()
  await expect(page.getByText('Signed in as')).toBeVisible()
  await page.getByRole('button', { name: 'Sign out' }).click()
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible()
  await page.reload()
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible()
})

test('the API docs render', async ({ page }) => {
  await page.goto(`${baseUrl()}/api/docs`)
  await expect(page.getByText('TenantAtlas API')).toBeVisible()
})
