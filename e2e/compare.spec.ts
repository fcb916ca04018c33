import { expect, test } from '@playwright/test'
import { admin, apiAs, baseUrl, demoTenantId, pageAs, waitUntilIdle } from './helpers.ts'

/**
 * Issue 27: a shareable compare URL compares at once and opens the result, which filters by status;
 * the tenant's documentation is exported from its home page and downloads when the run has written it.
 */
test('a shared /compare URL opens the result, whose mapping a person may change; documentation exports from the tenant home', async ({
  browser,
}) => {
  const api = await apiAs(admin())
  const demoId = await demoTenantId(api)
  // The demo tenant synced (again, if another spec did already): the comparison has objects to match.
  const sync = await api.post(`/api/tenants/${demoId}/inventory-sync`, { data: { mode: 'quick' } })
  expect(sync.status(), await sync.text()).toBe(202)
  await waitUntilIdle(api, demoId)

  const page = await pageAs(browser, admin())
  await page.goto(`${baseUrl()}/compare?left=tenant:${demoId}&right=tenant:${demoId}`)
  await expect(page).toHaveURL(/\/compare\/[0-9a-f-]{36}$/)
  const rows = page.getByTestId('compare-table').getByTestId('compare-row')
  await expect(rows.first()).toBeVisible()
  await expect(page.getByTestId('compare-counts')).toContainText('0 different · 0 only left · 0 only right')
  await expect(rows.first()).toContainText('Same')
  // A group paired with another one by hand: compared again, what was assigned to it now differs.
  await page.getByTestId('mapping-toggle').click()
  const firstGroup = page.getByTestId('mapping-row').filter({ hasText: 'Group' }).first()
  await expect(firstGroup).toBeVisible()
  const before = page.url()
  const select = firstGroup.locator('input').first()
  const current = await select.inputValue()
  await select.click()
  const other = page.getByRole('option').filter({ hasNotText: current }).filter({ hasNotText: 'not mapped' }).first()
  await other.click()
  await expect(firstGroup.getByText('changed')).toBeVisible()
  await page.screenshot({ path: 'e2e/artifacts/compare-mapping-edited.png' })
  await page.getByTestId('compare-again').click()
  await expect(page).not.toHaveURL(before)
  await expect(page).toHaveURL(/\/compare\/[0-9a-f-]{36}$/)
  await expect(page.getByTestId('compare-counts')).not.toContainText('0 different ·')
  await page.getByTestId('mapping-toggle').click()
  await expect(page.getByTestId('mapping-table').getByText('yours')).toHaveCount(1)
  await page.goto(before)
  await expect(page.getByTestId('compare-counts')).toContainText('0 different · 0 only left · 0 only right')
  // The result's own URL is what is shared; a filter goes into it.
  await page.getByText('Different', { exact: true }).click()
  await expect(page).toHaveURL(/[?&]status=different/)
  await expect(page.getByText('No objects match.')).toBeVisible()

  await page.goto(`${baseUrl()}/t/${demoId}`)
  await page.getByText('HTML', { exact: true }).click()
  await page.getByTestId('export-documentation').click()
  const download = page.getByTestId('documentation-download')
  await expect(download).toBeVisible({ timeout: 90_000 })
  const response = await api.get((await download.getAttribute('href'))!)
  expect(response.status()).toBe(200)
  expect(response.headers()['content-type']).toBe('text/html; charset=utf-8')
  expect(await response.text()).toContain('<h1>Documentation: Contoso (demo) · now</h1>')
})
