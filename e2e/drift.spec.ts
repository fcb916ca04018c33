import { expect, test } from '@playwright/test'
import { admin, apiAs, baseUrl, demoTenantId, screenshot, signIn, waitUntilIdle } from './helpers.ts'

/**
 * Issue 25 in a real browser (first step): the tenant's Findings page opens from the navigation with its table
 * and filters in the URL, and "Evaluate now" starts a drift evaluation that shows as a run.
 * Not yet: a baseline built, a setting changed in the emulator and the finding accepted as exception.
 */

test('the Findings page lists findings and starts an evaluation', async ({ page }) => {
  const api = await apiAs(admin())
  const tenantId = await demoTenantId(api)
  await waitUntilIdle(api, tenantId)
  await signIn(page, admin())
  await page.goto(`${baseUrl()}/t/${tenantId}`)
  await page.getByRole('link', { name: 'Findings' }).first().click()
  await expect(page).toHaveURL(new RegExp(`/t/${tenantId}/findings`))
  // A tenant without findings shows the list's empty state in place of the table.
  await expect(page.getByTestId('findings-table').or(page.getByTestId('list-empty'))).toBeVisible()
  await page.getByTestId('findings-state').click()
  await page.getByRole('option', { name: 'open' }).click()
  await expect(page).toHaveURL(/state=open/)
  await page.getByTestId('evaluate-drift').click()
  await expect(page.getByTestId('toast-view-run')).toBeVisible()
  await screenshot(page, 'findings')
})
