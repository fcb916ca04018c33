import { afterAll, afterEach, beforeAll } from 'vitest'
import { startEmulator, type EmulatorServer } from '../../src/emulator/server.ts'
import type { GraphTenantContext } from '../../src/graph/tenant-context.ts'

/** Raw HTTP helpers for tests that talk to the emulator without our Graph client. */

export type TenantInfo = {
  tenant_id: string
  client_id: string
  counts: Record<string, number>
  group_count: number
  permissions: string[]
}

export async function control<T = unknown>(
  emulator: EmulatorServer,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${emulator.url}/_emulator${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await response.text()
  return { status: response.status, body: (text ? JSON.parse(text) : null) as T }
}

let counter = 0

/** A fresh tenant (unique client id, so the same seed can be created twice). */
export async function createTenant(emulator: EmulatorServer, body: Record<string, unknown> = {}) {
  const clientId = `app-${++counter}-${Math.random().toString(36).slice(2, 8)}`
  const secret = `secret-${counter}`
  const { status, body: tenant } = await control<TenantInfo>(emulator, 'POST', '/tenants', {
    seed: 'test',
    policies: 120,
    client_id: clientId,
    client_secret: secret,
    ...body,
  })
  if (status !== 201) throw new Error(`tenant not created: ${status} ${JSON.stringify(tenant)}`)
  const ctx: GraphTenantContext = {
    tenantKey: `tk-${tenant.tenant_id}`,
    entraTenantId: tenant.tenant_id,
    clientId: tenant.client_id,
    clientSecret: (body.client_secret as string | undefined) ?? secret,
    cloud: 'emulator',
    emulatorUrl: emulator.url,
  }
  return { tenant, ctx, secret: ctx.clientSecret }
}

export async function rawToken(emulator: EmulatorServer, tenantId: string, clientId: string, secret: string) {
  const response = await fetch(`${emulator.url}/${tenantId}/oauth2/v2.0/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: secret,
      scope: 'https://graph.microsoft.com/.default',
    }),
  })
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

export async function graphGet(emulator: EmulatorServer, token: string, path: string) {
  const response = await fetch(path.startsWith('http') ? path : `${emulator.url}${path}`, {
    headers: { authorization: `Bearer ${token}` },
  })
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown> & { value?: Record<string, unknown>[] },
  }
}

export async function graphBatch(
  emulator: EmulatorServer,
  token: string,
  requests: { id: string; method: string; url: string }[],
  version = 'beta',
) {
  const response = await fetch(`${emulator.url}/${version}/$batch`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ requests }),
  })
  return {
    status: response.status,
    body: (await response.json()) as {
      responses: { id: string; status: number; headers: Record<string, string>; body: Record<string, unknown> }[]
    } & Record<string, unknown>,
  }
}

export async function inventory(emulator: EmulatorServer, tenantId: string) {
  return (
    await control<{ objects: { type: string; id: string; display_name: string }[] }>(
      emulator,
      'GET',
      `/tenants/${tenantId}/inventory`,
    )
  ).body.objects
}

/** A tenant and a Graph token for its app. */
export async function tenantWithToken(emulator: EmulatorServer, body: Record<string, unknown> = {}) {
  const created = await createTenant(emulator, body)
  const token = await rawToken(emulator, created.tenant.tenant_id, created.tenant.client_id, created.secret)
  return { ...created, token: token.body.access_token as string }
}

/** One emulator for a test file; faults and throttling windows are reset after each test. */
export function useEmulator(): { readonly emulator: EmulatorServer } {
  let emulator: EmulatorServer | undefined
  beforeAll(async () => {
    emulator = await startEmulator({ port: 0 })
  })
  afterAll(async () => {
    await emulator?.close()
  })
  afterEach(async () => {
    await control(emulator!, 'PUT', '/faults', {})
    await control(emulator!, 'DELETE', '/throttle')
  })
  return {
    get emulator() {
      if (!emulator) throw new Error('the emulator starts in beforeAll')
      return emulator
    },
  }
}

export { startEmulator }
