import { randomUUID } from 'node:crypto'
import type { InjectOptions } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PASSWORD } from './factories.ts'
import { createTestContext, ORIGIN, type TestContext } from './harness.ts'

let ctx: TestContext
beforeAll(async () => {
  ctx = await createTestContext()
})
afterAll(() => ctx.close())

describe('secrets stay secret', () => {
  it('never puts the client secret, passwords, tokens or cookies in a response or a log line', async () => {
    const clientSecret = `cs~${randomUUID()}`
    const rotatedSecret = `cs~${randomUUID()}`
    const newUserPassword = `pw-${randomUUID()}`
    const admin = await ctx.factories.user({ isAdmin: true })
    const bodies: string[] = []
    const call = async (opts: InjectOptions) => {
      const response = await ctx.app.inject(opts)
      bodies.push(response.body)
      return response
    }

    // A full cycle: sign in, create a token, connect a tenant, read it every way, rotate its secret, fail some input.
    const signIn = await call({
      method: 'POST',
      url: '/api/auth/sign-in',
      payload: { email: admin.email, password: PASSWORD },
      headers: { origin: ORIGIN },
    })
    const session = signIn.cookies.find((c) => c.name === 'ta_session')!.value
    const asAdmin = { cookies: { ta_session: session }, headers: { origin: ORIGIN } }
    const created = await call({ method: 'POST', url: '/api/tokens', payload: { name: 'scan' }, ...asAdmin })
    const apiToken = (JSON.parse(created.body) as { token: string }).token
    bodies.pop() // the one response that shows the token, by design
    const bearer = { headers: { authorization: `Bearer ${apiToken}` } }
    const tenant = await call({
      method: 'POST',
      url: '/api/tenants',
      payload: { name: 'Scan', entra_tenant_id: randomUUID(), client_id: randomUUID(), client_secret: clientSecret },
      ...bearer,
    })
    expect(tenant.statusCode).toBe(201)
    const tenantId = (JSON.parse(tenant.body) as { id: string }).id
    await call({ method: 'GET', url: `/api/tenants/${tenantId}`, ...bearer })
    await call({ method: 'GET', url: '/api/tenants', ...bearer })
    await call({ method: 'GET', url: '/api/me', ...asAdmin })
    await call({
      method: 'PATCH',
      url: `/api/tenants/${tenantId}`,
      payload: { client_secret: rotatedSecret },
      ...bearer,
    })
    await call({
      method: 'PATCH',
      url: `/api/tenants/${tenantId}`,
      payload: { client_secret: rotatedSecret, cloud: 'nowhere' },
      ...bearer,
    })
    await call({
      method: 'POST',
      url: '/api/tenants',
      payload: { name: 'Bad', entra_tenant_id: 'x', client_id: 'y', client_secret: clientSecret },
      ...bearer,
    })
    await call({
      method: 'POST',
      url: '/api/users',
      payload: { email: 'new@example.com', name: 'New', password: newUserPassword },
      ...bearer,
    })
    await call({
      method: 'POST',
      url: '/api/users',
      payload: { email: 'bad', name: 'New', password: newUserPassword },
      ...bearer,
    })
    await call({
      method: 'POST',
      url: '/api/auth/sign-in',
      payload: { email: admin.email, password: 'wrong-password-123' },
      headers: { origin: ORIGIN },
    })
    await call({ method: 'GET', url: `/api/tenants/${tenantId}/audit-events`, ...bearer })
    await call({ method: 'GET', url: '/api/openapi.json' })
    await call({ method: 'POST', url: '/api/auth/sign-out', ...asAdmin })

    const logs = ctx.logs.join('\n')
    expect(logs.length).toBeGreaterThan(1000) // the capture works: every request was logged at trace level
    for (const secret of [
      clientSecret,
      rotatedSecret,
      newUserPassword,
      PASSWORD,
      apiToken,
      session,
      'wrong-password-123',
    ]) {
      for (const body of bodies) expect(body).not.toContain(secret)
      expect(logs).not.toContain(secret)
    }
    // Request ids tie log lines to responses.
    expect(logs).toMatch(/"reqId":"[\w-]+"/)
  })

  it('redacts secrets that code passes to the logger by mistake', () => {
    const secret = `oops-${randomUUID()}`
    ctx.app.log.info(
      { client_secret: secret, headers: { authorization: `Bearer ${secret}` }, tenant: { secret } },
      'careless',
    )
    expect(ctx.logs.join('\n')).not.toContain(secret)
    expect(ctx.logs.at(-1)).toContain('[redacted]')
  })

  it('answers an internal fault with a request id and no stack trace', async () => {
    // A database that has gone away is a real fault; the caller learns nothing about our internals.
    const broken = await import('./harness.ts').then((m) => m.createTestContext())
    const brokenToken = await broken.factories.token(await broken.factories.user())
    await broken.handle.pool.query('DROP TABLE tenant_memberships CASCADE')
    const response = await broken.request({ method: 'GET', url: '/api/me', token: brokenToken })
    expect(response.statusCode).toBe(500)
    expect(JSON.parse(response.body)).toEqual({
      error: { code: 'internal_error', message: expect.stringContaining(response.headers['x-request-id'] as string) },
    })
    expect(response.body).not.toMatch(/tenant_memberships|relation|\bat\b.*\.ts/)
    await broken.close()
  })
})
