import { eq, sql } from 'drizzle-orm'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { auditEvents, authSessions, entraIdentities, users } from '../../src/db/schema.ts'
import { startEmulator, type EmulatorServer } from '../../src/emulator/server.ts'
import { loadConfig } from '../../src/lib/config.ts'
import { control } from '../graph/emulator-helpers.ts'
import { createUser } from '../../src/modules/access/create-user.ts'
import { PASSWORD } from '../factories.ts'
import { createTestContext, ORIGIN, type TestContext } from '../harness.ts'
import { EmulatedBrowser, signInTenant } from './entra-helpers.ts'

// Sign-in with Microsoft end to end: TenantAtlas's routes and openid-client against the emulator's provider over HTTP.

const CLIENT_ID = '5b0d7e10-0000-4000-8000-0000000a7a5e'
const SECRET = 'tenantatlas-sign-in-secret'
let emulator: EmulatorServer
let ctx: TestContext
let entra: Awaited<ReturnType<typeof signInTenant>>

beforeAll(async () => {
  emulator = await startEmulator()
  entra = await signInTenant(emulator, CLIENT_ID, SECRET, ['GroupMember.Read.All'])
  const config = loadConfig({
    DATA_DIR: '/nonexistent',
    GRAPH_EMULATOR_URL: emulator.url,
    ENTRA_CLIENT_ID: CLIENT_ID,
    ENTRA_CLIENT_SECRET: SECRET,
    ENTRA_TENANT_ID: entra.tenantId,
    ENTRA_CLOUD: 'emulator',
  })
  ctx = await createTestContext({
    emulatorUrl: emulator.url,
    worker: false,
    config: { entra: config.entra, passwordSignIn: 'off' },
  })
})
afterAll(async () => {
  await ctx.close()
  await emulator.close()
})
afterEach(async () => {
  await control(emulator, 'PUT', '/oidc', {})
})

type User = { id: string; upn: string; password?: string | undefined }

/** The whole round trip as a browser makes it: start → Entra's page → callback. Returns the session cookie or the refusal. */
async function signIn(user: User, options: { browser?: EmulatedBrowser; stepUp?: boolean; returnTo?: string } = {}) {
  const browser = options.browser ?? new EmulatedBrowser()
  const query = new URLSearchParams({
    return_to: options.returnTo ?? '/t/somewhere',
    ...(options.stepUp ? { step_up: 'true' } : {}),
  })
  const start = await ctx.app.inject({ method: 'GET', url: `/api/auth/oidc/start?${query.toString()}` })
  expect(start.statusCode, start.body).toBe(302)
  const flowCookie = start.cookies.find((c) => c.name === 'ta_oidc')!
  const callback = await browser.authorize(start.headers.location as string, user)
  const done = await ctx.app.inject({
    method: 'GET',
    url: `${callback.pathname}${callback.search}`,
    cookies: { ta_oidc: flowCookie.value },
  })
  expect(done.statusCode, done.body).toBe(302)
  const location = String(done.headers.location)
  const session = done.cookies.find((c) => c.name === 'ta_session')?.value
  return { location, session, browser, error: new URL(location, ORIGIN).searchParams.get('error') }
}

type Me = {
  user: { id: string; email: string; name: string; is_admin: boolean }
  tenants: { id: string; role: string }[]
  error: { code: string; message: string }
}
const json = <T = { error: { code: string; message: string; details?: unknown } }>(body: string) =>
  JSON.parse(body) as T

const me = async (session: string) => {
  const response = await ctx.app.inject({ method: 'GET', url: '/api/me', cookies: { ta_session: session } })
  return { status: response.statusCode, body: json<Me>(response.body) }
}

const rule = async (body: Record<string, unknown>) => {
  const admin = await ctx.factories.userWithToken({ isAdmin: true })
  const response = await ctx.request({ method: 'POST', url: '/api/role-rules', token: admin.token, payload: body })
  expect(response.statusCode, response.body).toBe(201)
  return JSON.parse(response.body) as { id: string }
}

describe('local passwords off (PASSWORD_SIGN_IN=off)', () => {
  const passwordSignIn = (email: string, password: string) =>
    ctx.app.inject({
      method: 'POST',
      url: '/api/auth/sign-in',
      payload: { email, password },
      headers: { origin: ORIGIN },
    })

  it('keeps passwords until an Entra admin exists, then refuses them except for break-glass accounts made on the CLI', async () => {
    const local = await ctx.factories.user()
    const providers = async () =>
      json<{ password: boolean; microsoft: boolean }>((await ctx.app.inject({ url: '/api/auth/providers' })).body)
    expect(await providers()).toEqual({ password: true, microsoft: true })
    expect((await passwordSignIn(local.email, PASSWORD)).statusCode).toBe(200)
    const admins = await entra.group('First admins')
    await rule({ claim: 'group', value: admins, grants: { workspace_admin: true } })
    const root = await entra.user('Root', { groups: [admins] })
    expect((await me((await signIn(root)).session!)).body.user.is_admin).toBe(true)
    expect(await providers()).toEqual({ password: false, microsoft: true })
    const refused = await passwordSignIn(local.email, PASSWORD)
    expect(refused.statusCode).toBe(403)
    expect(json(refused.body).error.code).toBe('password_sign_in_off')
    // A wrong password still says only that it is wrong.
    expect((await passwordSignIn(local.email, 'not the password at all')).statusCode).toBe(401)
    // What `tenantatlas user create --break-glass` does.
    const glass = await createUser(
      ctx.db,
      { kind: 'cli' },
      {
        email: `glass-${Date.now()}@example.test`,
        name: 'Break glass',
        password: PASSWORD,
        is_admin: true,
        break_glass: true,
      },
    )
    expect((await passwordSignIn(glass.email, PASSWORD)).statusCode).toBe(200)
  })
})

describe('sign in with Microsoft', () => {
  it('creates the user just in time with roles from group and app role rules, keyed by (tid, oid)', async () => {
    const tenantA = await ctx.factories.tenant()
    const tenantB = await ctx.factories.tenant()
    const group = await entra.group('Intune operators')
    const nested = await entra.group('Helpdesk EU', { member_of: [group] })
    await rule({ claim: 'group', value: group, grants: { role: 'operator', tenant_ids: [tenantA.id] } })
    await rule({ claim: 'app_role', value: 'TenantAtlas.Owner', grants: { role: 'owner', tenant_ids: [tenantB.id] } })
    const alice = await entra.user('Alice', { groups: [nested], app_roles: ['TenantAtlas.Owner'], password: 'pw' })
    const result = await signIn(alice, { returnTo: '/t/x/inventory' })
    expect(result.location).toBe('/t/x/inventory')
    const { body } = await me(result.session!)
    expect(body.user).toMatchObject({ email: alice.upn, name: 'Alice', is_admin: false })
    const roles = Object.fromEntries(body.tenants.map((t) => [t.id, t.role]))
    expect(roles).toEqual({ [tenantA.id]: 'operator', [tenantB.id]: 'owner' })
    const [identity] = await ctx.db.select().from(entraIdentities).where(eq(entraIdentities.oid, alice.id))
    expect(identity).toMatchObject({ tid: entra.tenantId, userId: body.user.id })
    // The second sign-in finds the same user through (tid, oid).
    const again = await signIn(alice)
    expect((await me(again.session!)).body.user.id).toBe(body.user.id)
  })

  it('refuses someone no rule grants anything, and never joins a local account by e-mail', async () => {
    const nobody = await entra.user('Nobody')
    expect((await signIn(nobody)).error).toBe('no_access')
    const admins = await entra.group('Admins by e-mail')
    await rule({ claim: 'group', value: admins, grants: { workspace_admin: true } })
    const local = await ctx.factories.user()
    const twin = await entra.user('Twin', { groups: [admins] })
    await ctx.db.update(users).set({ email: twin.upn }).where(eq(users.id, local.id))
    expect((await signIn(twin)).error).toBe('email_in_use')
  })

  it('applies a role change in Entra at the next sign-in; a role granted by hand stays and is shown apart', async () => {
    const tenant = await ctx.factories.tenant()
    const other = await ctx.factories.tenant()
    const owners = await entra.group('Owners')
    const readers = await entra.group('Readers')
    await rule({ claim: 'group', value: owners, grants: { role: 'owner', tenant_ids: [tenant.id] } })
    await rule({ claim: 'group', value: readers, grants: { role: 'readonly', tenant_ids: [tenant.id] } })
    const bob = await entra.user('Bob', { groups: [owners] })
    const first = await signIn(bob)
    const userId = (await me(first.session!)).body.user.id
    await ctx.factories.member(other.id, { id: userId }, 'manager')
    // Someone else owns the tenant too (a tenant keeps an owner: see the last-owner test below).
    const owner = await ctx.factories.userWithToken()
    await ctx.factories.member(tenant.id, owner.user, 'owner')
    await ctx.factories.member(other.id, owner.user, 'owner')
    await entra.patchUser(bob.id, { groups: [readers] })
    const second = await signIn(bob)
    const roles = (await me(second.session!)).body.tenants
    expect(roles.find((t) => t.id === tenant.id)?.role).toBe('readonly')
    expect(roles.find((t) => t.id === other.id)?.role).toBe('manager')
    const members = async (tenantId: string) =>
      json<{ data: { user_id: string; source: string }[] }>(
        (await ctx.request({ method: 'GET', url: `/api/tenants/${tenantId}/members`, token: owner.token })).body,
      ).data
    expect((await members(tenant.id)).find((m) => m.user_id === userId)?.source).toBe('entra')
    expect((await members(other.id)).find((m) => m.user_id === userId)?.source).toBe('manual')
  })

  it('keeps the last owner of a tenant when Entra takes the role away, until someone else owns it', async () => {
    const tenant = await ctx.factories.tenant()
    const owners = await entra.group('Sole owners')
    await rule({ claim: 'group', value: owners, grants: { role: 'owner', tenant_ids: [tenant.id] } })
    const dana = await entra.user('Dana', { groups: [owners] })
    const first = await signIn(dana)
    const userId = (await me(first.session!)).body.user.id
    await entra.patchUser(dana.id, { groups: [] })
    // Removed from the group, Dana is still the tenant's only owner: the membership stays, the refusal is audited.
    const second = await signIn(dana)
    expect(second.error).toBeNull()
    expect((await me(second.session!)).body.tenants).toEqual([
      expect.objectContaining({ id: tenant.id, role: 'owner' }),
    ])
    const kept = await ctx.db.select().from(auditEvents).where(eq(auditEvents.action, 'member.entra_last_owner_kept'))
    expect(kept.filter((e) => e.tenantId === tenant.id)).toHaveLength(1)
    expect(kept.find((e) => e.tenantId === tenant.id)?.metadata).toMatchObject({ role: 'owner', entra_role: null })
    // Once someone else owns the tenant, the next sign-in applies what Entra says.
    const other = await ctx.factories.userWithToken()
    await ctx.factories.member(tenant.id, other.user, 'owner')
    const third = await signIn(dana)
    expect((await me(third.session!)).body.tenants).toEqual([])
    const members = json<{ data: { user_id: string; role: string }[] }>(
      (await ctx.request({ method: 'GET', url: `/api/tenants/${tenant.id}/members`, token: other.token })).body,
    ).data
    expect(members.map((m) => [m.user_id, m.role])).toEqual([[other.user.id, 'owner']])
    expect(userId).not.toBe(other.user.id)
  })

  it('re-checks a live session within the hour: removed from the group → access lost; disabled → signed out', async () => {
    const tenant = await ctx.factories.tenant()
    const ops = await entra.group('Ops')
    await rule({ claim: 'group', value: ops, grants: { role: 'manager', tenant_ids: [tenant.id] } })
    const carol = await entra.user('Carol', { groups: [ops] })
    const { session } = await signIn(carol)
    expect((await me(session!)).body.tenants).toHaveLength(1)
    await entra.patchUser(carol.id, { groups: [] })
    // Within the interval nothing is asked of Entra; once it has passed, the next request re-reads the claims.
    expect((await me(session!)).body.tenants).toHaveLength(1)
    const age = async () =>
      ctx.db
        .update(authSessions)
        .set({ rolesCheckedAt: sql`now() - interval '61 minutes'` })
        .where(eq(authSessions.tokenHash, sql`encode(sha256(${session!}::bytea), 'hex')`))
    await age()
    expect((await me(session!)).body.tenants).toEqual([])
    await entra.patchUser(carol.id, { account_enabled: false })
    await age()
    const after = await me(session!)
    expect(after.status).toBe(401)
    expect(after.body.error.message).toMatch(/no longer signs you in/)
    const [ended] = await ctx.db.select().from(auditEvents).where(eq(auditEvents.action, 'auth.session_ended_by_entra'))
    expect(ended).toBeDefined()
  })

  it('reads the groups through Graph when the token carries the overage claim', async () => {
    const tenant = await ctx.factories.tenant()
    const many = [await entra.group('O1'), await entra.group('O2'), await entra.group('O3')]
    await rule({ claim: 'group', value: many[2], grants: { role: 'operator', tenant_ids: [tenant.id] } })
    const dave = await entra.user('Dave', { groups: many })
    await control(emulator, 'PUT', '/oidc', { groups_limit: 2 })
    const { session } = await signIn(dave)
    expect((await me(session!)).body.tenants).toEqual([expect.objectContaining({ id: tenant.id, role: 'operator' })])
    const [identity] = await ctx.db.select().from(entraIdentities).where(eq(entraIdentities.oid, dave.id))
    expect(new Set(identity!.groups)).toEqual(new Set(many))
  })

  it('refuses a wrong issuer, audience or nonce, a wrong state and a callback without its flow cookie', async () => {
    const admins = await entra.group('Admins')
    await rule({ claim: 'group', value: admins, grants: { workspace_admin: true } })
    const eve = await entra.user('Eve', { groups: [admins] })
    for (const [fault, code] of [
      ['wrong_issuer', 'wrong_issuer'],
      ['wrong_audience', 'wrong_audience'],
      ['wrong_nonce', 'wrong_nonce'],
    ] as const) {
      await control(emulator, 'PUT', '/oidc', { [fault]: true })
      const refused = await signIn(eve)
      expect(refused.error, fault).toBe(code)
      expect(refused.session).toBeUndefined()
    }
    await control(emulator, 'PUT', '/oidc', {})
    // A callback answered to another browser's sign-in: its state is not this flow's.
    const start = await ctx.app.inject({ method: 'GET', url: '/api/auth/oidc/start' })
    const otherStart = await ctx.app.inject({ method: 'GET', url: '/api/auth/oidc/start' })
    const callback = await new EmulatedBrowser().authorize(String(otherStart.headers.location), eve)
    const crossed = await ctx.app.inject({
      method: 'GET',
      url: `${callback.pathname}${callback.search}`,
      cookies: { ta_oidc: start.cookies.find((c) => c.name === 'ta_oidc')!.value },
    })
    expect(new URL(String(crossed.headers.location), ORIGIN).searchParams.get('error')).toBe('wrong_state')
    const noCookie = await ctx.app.inject({ method: 'GET', url: `${callback.pathname}${callback.search}` })
    expect(String(noCookie.headers.location)).toMatch(/^\/login\?error=sign_in_expired/)
    // Not a redirect anywhere else: return_to is a path on this server.
    const open = await ctx.app.inject({ method: 'GET', url: '/api/auth/oidc/start?return_to=//evil.example/x' })
    expect(open.statusCode).toBe(302)
    const ok = await signIn(eve, { returnTo: '//evil.example/x' })
    expect(ok.location).toBe('/')
  })

  it('keeps working after the provider rotates its signing key', async () => {
    const admins = await entra.group('Rotating admins')
    await rule({ claim: 'group', value: admins, grants: { workspace_admin: true } })
    const fay = await entra.user('Fay', { groups: [admins] })
    expect((await signIn(fay)).session).toBeDefined()
    await control(emulator, 'POST', '/oidc/keys/rotate', { retire_previous: true })
    const after = await signIn(fay)
    expect((await me(after.session!)).body.user.is_admin).toBe(true)
  })
})

describe('invites', () => {
  const invite = async (tenantId: string, email: string, role: string) => {
    const owner = await ctx.factories.userWithToken()
    await ctx.factories.member(tenantId, owner.user, 'owner')
    const response = await ctx.request({
      method: 'POST',
      url: `/api/tenants/${tenantId}/invites`,
      token: owner.token,
      payload: { email, role },
    })
    expect(response.statusCode, response.body).toBe(201)
    const body = json<{ invite_url: string; email: string }>(response.body)
    return new URL(body.invite_url).searchParams.get('invite')!
  }

  it('the invitee sets a password through the one-time link and lands in the tenant', async () => {
    const tenant = await ctx.factories.tenant()
    const email = `new-${Date.now()}@example.test`
    const token = await invite(tenant.id, email, 'operator')
    const shown = await ctx.app.inject({ url: `/api/invites/${token}` })
    expect(json<{ tenant_name: string; role: string }>(shown.body)).toMatchObject({ role: 'operator', email })
    const accept = (name: string) =>
      ctx.app.inject({
        method: 'POST',
        url: `/api/invites/${token}/accept`,
        payload: { name, password: PASSWORD },
        headers: { origin: ORIGIN },
      })
    const accepted = await accept('New Colleague')
    expect(accepted.statusCode, accepted.body).toBe(201)
    const session = accepted.cookies.find((c) => c.name === 'ta_session')!.value
    const mine = (await me(session)).body
    expect(mine.user.email).toBe(email)
    expect(mine.tenants).toEqual([expect.objectContaining({ id: tenant.id, role: 'operator' })])
    expect((await accept('Again')).statusCode).toBe(404)
  })

  it('the invitee signs in with Microsoft (no role rule needed) and lands in that tenant', async () => {
    const tenant = await ctx.factories.tenant()
    const hank = await entra.user('Hank')
    const token = await invite(tenant.id, hank.upn, 'readonly')
    const start = await ctx.app.inject({ url: `/api/auth/oidc/start?invite=${token}` })
    const callback = await new EmulatedBrowser().authorize(String(start.headers.location), hank)
    const done = await ctx.app.inject({
      url: `${callback.pathname}${callback.search}`,
      cookies: { ta_oidc: start.cookies.find((c) => c.name === 'ta_oidc')!.value },
    })
    expect(done.headers.location).toBe(`/t/${tenant.id}`)
    const session = done.cookies.find((c) => c.name === 'ta_session')!.value
    expect((await me(session)).body.tenants).toEqual([expect.objectContaining({ id: tenant.id, role: 'readonly' })])
  })
})

describe('fresh sign-in for destructive actions', () => {
  it('an old authentication is sent to sign in again (max_age); after it the action passes the gate', async () => {
    const tenant = await ctx.factories.tenant()
    const owners = await entra.group('Restore owners')
    await rule({ claim: 'group', value: owners, grants: { role: 'owner', tenant_ids: [tenant.id] } })
    const gus = await entra.user('Gus', { groups: [owners] })
    const { session, browser } = await signIn(gus)
    const execute = (cookie: string) =>
      ctx.app.inject({
        method: 'POST',
        url: `/api/tenants/${tenant.id}/restore-plans/0190d1f2-0000-7000-8000-000000000000/execute`,
        cookies: { ta_session: cookie },
        headers: { origin: ORIGIN },
      })
    // Fresh: past the gate (the plan does not exist: 404).
    expect((await execute(session!)).statusCode).toBe(404)
    await ctx.db
      .update(authSessions)
      .set({ authTime: sql`now() - interval '20 minutes'` })
      .where(eq(authSessions.tokenHash, sql`encode(sha256(${session!}::bytea), 'hex')`))
    const old = await execute(session!)
    expect(old.statusCode).toBe(403)
    expect(json(old.body).error).toMatchObject({
      code: 'step_up_required',
      details: { action: 'restore.execute', max_age_seconds: 900, sign_in: 'microsoft' },
    })
    // The emulator's own session is as old as ours: max_age makes it show the sign-in page again.
    await control(emulator, 'DELETE', '/oidc/sessions')
    const again = await signIn(gus, { browser, stepUp: true })
    expect(again.browser.sawSignInPage).toBe(true)
    expect((await execute(again.session!)).statusCode).toBe(404)
    const deleteBackup = await ctx.app.inject({
      method: 'DELETE',
      url: `/api/tenants/${tenant.id}/backups/0190d1f2-0000-7000-8000-000000000000`,
      cookies: { ta_session: session! },
      headers: { origin: ORIGIN },
    })
    expect(json(deleteBackup.body).error.code).toBe('step_up_required')
  })

  it('an API token needs the destructive scope by name', async () => {
    const tenant = await ctx.factories.tenant()
    const owner = await ctx.factories.userWithToken()
    await ctx.factories.member(tenant.id, owner.user, 'owner')
    const url = `/api/tenants/${tenant.id}/backups/0190d1f2-0000-7000-8000-000000000000`
    const full = await ctx.request({ method: 'DELETE', url, token: owner.token })
    expect(full.statusCode).toBe(403)
    expect(json(full.body).error.message).toMatch(/destructive/)
    const created = await ctx.request({
      method: 'POST',
      url: '/api/tokens',
      token: owner.token,
      payload: { name: 'restore bot', scope: 'backups.manage,destructive' },
    })
    expect(created.statusCode, created.body).toBe(201)
    const scoped = json<{ token: string }>(created.body).token
    expect((await ctx.request({ method: 'DELETE', url, token: scoped })).statusCode).toBe(404)
  })
})
