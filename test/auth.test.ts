import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { apiTokens, auditEvents, authSessions } from '../src/db/schema.ts'
import { sha256 } from '../src/lib/crypto.ts'
import { PASSWORD } from './factories.ts'
import { signInOverHttps } from './https-app.ts'
import { createTestContext, errorOf, ORIGIN, type TestContext } from './harness.ts'

let ctx: TestContext
beforeAll(async () => {
  // Small limits keep the test fast; the defaults are 5 per account and 20 per address.
  ctx = await createTestContext({ signInLimits: { windowSeconds: 900, perAccount: 3, perIp: 6 } })
})
afterAll(() => ctx.close())

const signIn = (email: string, password: string, extra: { ip?: string; headers?: Record<string, string> } = {}) =>
  ctx.app.inject({
    method: 'POST',
    url: '/api/auth/sign-in',
    payload: { email, password },
    remoteAddress: extra.ip ?? '10.9.0.1',
    headers: { origin: ORIGIN, ...extra.headers },
  })

const sessionCookie = (response: { cookies: { name: string; value: string }[] }) =>
  response.cookies.find((c) => c.name === 'ta_session')

describe('sign-in', () => {
  it('sets an httpOnly SameSite=Lax session cookie that authenticates /api/me', async () => {
    const user = await ctx.factories.user()
    const response = await signIn(user.email.toUpperCase(), PASSWORD)
    expect(response.statusCode, response.body).toBe(200)
    const raw = [response.headers['set-cookie']].flat().join('\n')
    expect(raw).toMatch(/ta_session=[^;]+;.*HttpOnly/i)
    expect(raw).toMatch(/SameSite=Lax/i)
    expect(raw).not.toMatch(/Secure/i)
    const cookie = sessionCookie(response)!
    const me = await ctx.app.inject({ method: 'GET', url: '/api/me', cookies: { ta_session: cookie.value } })
    expect(me.statusCode).toBe(200)
    expect(JSON.parse(me.body)).toMatchObject({
      user: { id: user.id, email: user.email, is_admin: false },
      tenants: [],
    })
    // Only the hash of the session token is stored.
    const [stored] = await ctx.db.select().from(authSessions).where(eq(authSessions.userId, user.id))
    expect(stored!.tokenHash).toBe(sha256(cookie.value))
  })

  it('marks the cookie Secure over https behind a trusted proxy, not when a client merely claims https', async () => {
    const user = await ctx.factories.user()
    const spoofed = await signIn(user.email, PASSWORD, { ip: '10.9.0.2', headers: { 'x-forwarded-proto': 'https' } })
    expect(spoofed.statusCode).toBe(200)
    expect([spoofed.headers['set-cookie']].flat().join('\n')).not.toMatch(/Secure/i)
    expect(await signInOverHttps(ctx, user.email)).toMatch(/;\s*Secure/i)
  })

  it('refuses a wrong password with 401 and audits the failure', async () => {
    const user = await ctx.factories.user()
    const response = await signIn(user.email, 'wrong password!', { ip: '10.9.1.1' })
    expect(response.statusCode).toBe(401)
    expect(errorOf(response.body)).toMatchObject({ code: 'invalid_credentials' })
    const events = await ctx.db.select().from(auditEvents).where(eq(auditEvents.subjectId, user.id))
    expect(events.map((e) => e.action)).toContain('auth.sign_in_failed')
    expect(events.find((e) => e.action === 'auth.sign_in_failed')!.ip).toBe('10.9.1.1')
  })

  it('answers an unknown account exactly like a wrong password', async () => {
    const response = await signIn('nobody@example.com', 'whatever password', { ip: '10.9.1.2' })
    expect(response.statusCode).toBe(401)
    expect(errorOf(response.body).message).toBe('E-mail or password is incorrect')
  })

  it('answers 429 after repeated failures for one account, even with the right password', async () => {
    const user = await ctx.factories.user()
    for (let i = 0; i < 3; i++)
      expect((await signIn(user.email, `wrong ${i}`, { ip: `10.9.2.${i}` })).statusCode).toBe(401)
    const blocked = await signIn(user.email, PASSWORD, { ip: '10.9.2.99' })
    expect(blocked.statusCode).toBe(429)
    expect(errorOf(blocked.body).code).toBe('too_many_attempts')
    expect(blocked.headers['retry-after']).toBeDefined()
    // Another account is not affected.
    const other = await ctx.factories.user()
    expect((await signIn(other.email, PASSWORD, { ip: '10.9.2.100' })).statusCode).toBe(200)
  })

  it('answers 429 after repeated failures from one address across accounts', async () => {
    const ip = '10.9.3.1'
    for (let i = 0; i < 6; i++)
      expect((await signIn(`ghost${i}@example.com`, 'nope nope', { ip })).statusCode).toBe(401)
    const user = await ctx.factories.user()
    expect((await signIn(user.email, PASSWORD, { ip })).statusCode).toBe(429)
    expect((await signIn(user.email, PASSWORD, { ip: '10.9.3.2' })).statusCode).toBe(200)
  })

  it('rejects a sign-in posted from another origin (login CSRF)', async () => {
    const user = await ctx.factories.user()
    const response = await signIn(user.email, PASSWORD, { headers: { origin: 'https://evil.example' } })
    expect(response.statusCode).toBe(403)
    expect(errorOf(response.body).code).toBe('csrf_rejected')
  })
})

describe('sign-out', () => {
  it('revokes the session server-side', async () => {
    const user = await ctx.factories.user()
    const cookie = sessionCookie(await signIn(user.email, PASSWORD, { ip: '10.9.4.1' }))!
    const out = await ctx.app.inject({
      method: 'POST',
      url: '/api/auth/sign-out',
      cookies: { ta_session: cookie.value },
      headers: { origin: ORIGIN },
    })
    expect(out.statusCode).toBe(204)
    const me = await ctx.app.inject({ method: 'GET', url: '/api/me', cookies: { ta_session: cookie.value } })
    expect(me.statusCode).toBe(401)
    const events = await ctx.db.select().from(auditEvents).where(eq(auditEvents.actorUserId, user.id))
    expect(events.map((e) => e.action)).toEqual(expect.arrayContaining(['auth.signed_in', 'auth.signed_out']))
  })
})

describe('CSRF protection of cookie-authenticated mutations', () => {
  let cookie: string
  beforeAll(async () => {
    const user = await ctx.factories.user()
    cookie = sessionCookie(await signIn(user.email, PASSWORD, { ip: '10.9.5.1' }))!.value
  })

  it('refuses a mutation without Origin', async () => {
    const response = await ctx.app.inject({
      method: 'POST',
      url: '/api/tokens',
      cookies: { ta_session: cookie },
      payload: { name: 'x' },
    })
    expect(response.statusCode).toBe(403)
    expect(errorOf(response.body).code).toBe('csrf_rejected')
  })

  it('refuses a mutation from another origin', async () => {
    const response = await ctx.app.inject({
      method: 'POST',
      url: '/api/tokens',
      cookies: { ta_session: cookie },
      headers: { origin: 'https://evil.example' },
      payload: { name: 'x' },
    })
    expect(response.statusCode).toBe(403)
  })

  it('accepts a same-origin mutation, and reads without Origin', async () => {
    const post = await ctx.app.inject({
      method: 'POST',
      url: '/api/tokens',
      cookies: { ta_session: cookie },
      headers: { origin: ORIGIN },
      payload: { name: 'x' },
    })
    expect(post.statusCode).toBe(201)
    const read = await ctx.app.inject({ method: 'GET', url: '/api/tokens', cookies: { ta_session: cookie } })
    expect(read.statusCode).toBe(200)
  })

  it('does not apply to bearer tokens, which a browser never sends on its own', async () => {
    const { token } = await ctx.factories.userWithToken()
    const response = await ctx.request({ method: 'POST', url: '/api/tokens', token, payload: { name: 'script' } })
    expect(response.statusCode).toBe(201)
  })
})

describe('personal API tokens', () => {
  it('is shown once, stored hashed, tracked, listed without the secret, and revocable', async () => {
    const { user, token: bootstrap } = await ctx.factories.userWithToken()
    const created = await ctx.request({
      method: 'POST',
      url: '/api/tokens',
      token: bootstrap,
      payload: { name: 'CI pipeline' },
    })
    expect(created.statusCode).toBe(201)
    const body = JSON.parse(created.body) as { id: string; token: string; name: string; last_used_at: string | null }
    expect(body.token).toMatch(/^ta_pat_[\w-]{40,}$/)
    expect(body.last_used_at).toBeNull()

    const [row] = await ctx.db.select().from(apiTokens).where(eq(apiTokens.id, body.id))
    expect(row!.tokenHash).toBe(sha256(body.token))
    expect(JSON.stringify(row)).not.toContain(body.token)

    expect((await ctx.request({ method: 'GET', url: '/api/me', token: body.token })).statusCode).toBe(200)
    const list = await ctx.request({ method: 'GET', url: '/api/tokens', token: body.token })
    expect(list.body).not.toContain(body.token)
    const listed = (JSON.parse(list.body) as { data: { id: string; last_used_at: string | null }[] }).data.find(
      (t) => t.id === body.id,
    )
    expect(listed?.last_used_at).not.toBeNull()

    const revoked = await ctx.request({ method: 'DELETE', url: `/api/tokens/${body.id}`, token: bootstrap })
    expect(revoked.statusCode).toBe(204)
    expect((await ctx.request({ method: 'GET', url: '/api/me', token: body.token })).statusCode).toBe(401)
    const actions = (await ctx.db.select().from(auditEvents).where(eq(auditEvents.subjectId, body.id))).map(
      (e) => e.action,
    )
    expect(actions).toEqual(['token.created', 'token.revoked'])
    expect(user.id).toBe(row!.userId)
  })

  it("answers 404 for another user's token", async () => {
    const alice = await ctx.factories.userWithToken()
    const bob = await ctx.factories.userWithToken()
    const created = JSON.parse(
      (await ctx.request({ method: 'POST', url: '/api/tokens', token: alice.token, payload: { name: 'a' } })).body,
    ) as { id: string; token: string }
    expect(
      (await ctx.request({ method: 'DELETE', url: `/api/tokens/${created.id}`, token: bob.token })).statusCode,
    ).toBe(404)
    expect((await ctx.request({ method: 'GET', url: '/api/me', token: created.token })).statusCode).toBe(200)
  })

  it('rejects a malformed Authorization header', async () => {
    const response = await ctx.app.inject({ method: 'GET', url: '/api/me', headers: { authorization: 'Token abc' } })
    expect(response.statusCode).toBe(401)
  })
})
