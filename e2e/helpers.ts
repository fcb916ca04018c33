import { mkdirSync } from 'node:fs'
import { type APIRequestContext, type Browser, type Page, expect, request } from '@playwright/test'

export const baseUrl = () => process.env.E2E_BASE_URL!
export const admin = () => ({ email: process.env.E2E_ADMIN_EMAIL!, password: process.env.E2E_ADMIN_PASSWORD! })

export type Credentials = { email: string; password: string; name: string }

/** An API client signed in with a session cookie, sending the console's Origin like a browser. */
export async function apiAs(creds: { email: string; password: string }): Promise<APIRequestContext> {
  const api = await request.newContext({ baseURL: baseUrl(), extraHTTPHeaders: { origin: baseUrl() } })
  const response = await api.post('/api/auth/sign-in', { data: creds })
  expect(response.status(), await response.text()).toBe(200)
  return api
}

export async function demoTenantId(api: APIRequestContext): Promise<string> {
  const me = (await (await api.get('/api/me')).json()) as { tenants: { id: string; name: string }[] }
  const tenant = me.tenants.find((t) => t.name === 'Contoso (demo)')
  if (!tenant) throw new Error('the demo tenant is missing')
  return tenant.id
}

let counter = 0
/** A new user (created by the admin through the API) with this role in the tenant. */
export async function createMember(
  adminApi: APIRequestContext,
  tenantId: string,
  role: 'owner' | 'manager' | 'operator' | 'readonly',
): Promise<Credentials> {
  const id = `${Date.now().toString(36)}${++counter}`
  const creds = {
    email: `${role}-${id}@example.com`,
    password: `pw-${id}-long-enough`,
    name: `${role[0]!.toUpperCase()}${role.slice(1)} ${id}`,
  }
  const user = await adminApi.post('/api/users', { data: creds })
  expect(user.status(), await user.text()).toBe(201)
  const member = await adminApi.post(`/api/tenants/${tenantId}/members`, { data: { email: creds.email, role } })
  expect(member.status(), await member.text()).toBe(201)
  return creds
}

export async function signIn(page: Page, creds: { email: string; password: string }) {
  await page.goto(`${baseUrl()}/login`)
  await page.getByLabel('E-mail').fill(creds.email)
  await page.getByLabel('Password').fill(creds.password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await expect(page).not.toHaveURL(/\/login/)
}

/** A page in its own browser context (own cookies), signed in. */
export async function pageAs(browser: Browser, creds: { email: string; password: string }): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } })
  const page = await context.newPage()
  await signIn(page, creds)
  return page
}

/** Slows the built-in Graph emulator (every request waits latency_ms): long enough runs to watch or cancel. */
export async function setEmulatorLatency(latencyMs: number) {
  const response = await fetch(`${process.env.E2E_EMULATOR_URL}/_emulator/faults`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ latency_ms: latencyMs }),
  })
  expect(response.status).toBe(200)
}

export async function activeRuns(api: APIRequestContext, tenantId: string): Promise<{ id: string; status: string }[]> {
  return (
    (await (await api.get(`/api/tenants/${tenantId}/operation-runs/active`)).json()) as {
      data: { id: string; status: string }[]
    }
  ).data
}

/** Waits until the tenant has no queued or running run (so a spec starts from a quiet tenant). */
export async function waitUntilIdle(api: APIRequestContext, tenantId: string) {
  await expect.poll(async () => (await activeRuns(api, tenantId)).length, { timeout: 90_000, intervals: [250] }).toBe(0)
}

export async function unreadCount(page: Page): Promise<number> {
  return Number(await page.getByTestId('notifications-unread-count').textContent())
}

/** Screenshots for people to look at: e2e/artifacts/ (ignored by git). */
export async function screenshot(page: Page, name: string) {
  mkdirSync('e2e/artifacts', { recursive: true })
  await page.screenshot({ path: `e2e/artifacts/${name}.png` })
}
