import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { apiTokens } from '../src/db/schema.ts'
import { createApiToken } from '../src/modules/access/api-tokens.ts'
import { createTestContext, errorOf, type TestContext } from './harness.ts'

/** API tokens with scopes and expiry (issue 12, docs/cli.md and docs/api.md). */
let ctx: TestContext
beforeAll(async () => {
  ctx = await createTestContext({ worker: false })
})
afterAll(() => ctx.close())

type Created = { id: string; token: string; scope: string; expires_at: string | null }
const create = async (token: string, body: Record<string, unknown>) => {
  const response = await ctx.request({ method: 'POST', url: '/api/tokens', token, payload: body })
  return { response, body: JSON.parse(response.body) as Created }
}
const days = (iso: string | null) => (iso ? Math.round((Date.parse(iso) - Date.now()) / 86_400_000) : null)

describe('expiry', () => {
  it('defaults to 90 days, takes a number of days, and allows "never" for workspace admins only', async () => {
    const user = await ctx.factories.userWithToken()
    const admin = await ctx.factories.userWithToken({ isAdmin: true })
    expect(days((await create(user.token, { name: 'default' })).body.expires_at)).toBe(90)
    expect(days((await create(user.token, { name: 'week', expires_in_days: 7 })).body.expires_at)).toBe(7)
    const never = await create(user.token, { name: 'forever', expires_in_days: 'never' })
    expect(never.response.statusCode).toBe(422)
    expect(errorOf(never.response.body).message).toMatch(/expires_in_days: "never" is for workspace admins only/)
    const forever = (
      await createApiToken(ctx.db, { kind: 'system' }, admin.user.id, { name: 'forever', expires_in_days: 'never' })
    ).secret
    const adminNever = await create(forever, { name: 'forever too', expires_in_days: 'never' })
    expect(adminNever.response.statusCode).toBe(201)
    expect(adminNever.body.expires_at).toBeNull()
    // A token does not outlive the token that made it.
    expect(days((await create(admin.token, { name: 'capped', expires_in_days: 'never' })).body.expires_at)).toBe(90)
    for (const bad of [0, -1, 1.5, 3651, 'soon'])
      expect((await create(user.token, { name: 'bad', expires_in_days: bad })).response.statusCode).toBe(422)
  })

  it('answers an expired token 401 with a message saying it expired', async () => {
    const user = await ctx.factories.user()
    const { token, secret } = await createApiToken(ctx.db, { kind: 'system' }, user.id, { name: 'old' })
    expect((await ctx.request({ method: 'GET', url: '/api/me', token: secret })).statusCode).toBe(200)
    await ctx.db
      .update(apiTokens)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(apiTokens.id, token.id))
    const response = await ctx.request({ method: 'GET', url: '/api/me', token: secret })
    expect(response.statusCode).toBe(401)
    expect(errorOf(response.body)).toMatchObject({ code: 'unauthenticated', message: expect.stringMatching(/expired/) })
  })
})

describe('scope', () => {
  it('narrows what the owner may do, and never goes beyond what the owner may do at the time of use', async () => {
    const owner = await ctx.factories.userWithToken()
    const tenant = await ctx.factories.tenant()
    await ctx.factories.member(tenant.id, owner.user, 'owner')
    const viewOnly = (await create(owner.token, { name: 'view', scope: 'tenant.view' })).body
    expect(viewOnly.scope).toBe('tenant.view')
    const sync = (url: string, token: string) =>
      ctx.request({ method: 'POST', url, token, payload: { policy_types: ['deviceConfiguration'] } })
    const syncUrl = `/api/tenants/${tenant.id}/inventory-sync`
    expect(
      (await ctx.request({ method: 'GET', url: `/api/tenants/${tenant.id}`, token: viewOnly.token })).statusCode,
    ).toBe(200)
    const refused = await sync(syncUrl, viewOnly.token)
    expect(refused.statusCode).toBe(403)
    expect(errorOf(refused.body).message).toMatch(/scope does not include inventory.sync/)
    const me = JSON.parse((await ctx.request({ method: 'GET', url: '/api/me', token: viewOnly.token })).body) as {
      tenants: { capabilities: string[] }[]
    }
    expect(me.tenants[0]!.capabilities).toEqual(['tenant.view'])

    const syncer = (await create(owner.token, { name: 'sync', scope: 'tenant.view,inventory.sync' })).body
    expect((await sync(syncUrl, syncer.token)).statusCode).toBe(202)
    // The owner becomes readonly: the token's scope names inventory.sync, but its owner no longer may.
    await ctx.factories.member(tenant.id, owner.user, 'readonly')
    expect((await sync(syncUrl, syncer.token)).statusCode).toBe(403)
  })

  it('names an unknown capability', async () => {
    const { token } = await ctx.factories.userWithToken()
    const response = await ctx.request({
      method: 'POST',
      url: '/api/tokens',
      token,
      payload: { name: 'x', scope: 'tenant.view,root' },
    })
    expect(response.statusCode).toBe(422)
    expect(errorOf(response.body).message).toMatch(/scope: unknown capability root/)
  })

  it('lets a token create tokens only when its scope allows it, with no more scope and no longer life than its own', async () => {
    const { user, token: full } = await ctx.factories.userWithToken()
    const read = (await create(full, { name: 'read', scope: 'read' })).body
    expect((await create(read.token, { name: 'child' })).response.statusCode).toBe(403)
    const noTokens = (await create(full, { name: 'no tokens', scope: 'tenant.view' })).body
    const refused = await create(noTokens.token, { name: 'child', scope: 'tenant.view' })
    expect(refused.response.statusCode).toBe(403)
    expect(errorOf(refused.response.body).message).toMatch(/tokens.manage/)

    const manager = (await create(full, { name: 'maker', scope: 'tenant.view,tokens.manage', expires_in_days: 10 }))
      .body
    expect((await create(manager.token, { name: 'wider', scope: 'full' })).response.statusCode).toBe(403)
    expect((await create(manager.token, { name: 'wider', scope: 'inventory.sync' })).response.statusCode).toBe(403)
    const child = await create(manager.token, { name: 'child', scope: 'tenant.view', expires_in_days: 90 })
    expect(child.response.statusCode).toBe(201)
    expect(days(child.body.expires_at)).toBe(10)
    // Revoking needs tokens.manage too.
    expect(
      (await ctx.request({ method: 'DELETE', url: `/api/tokens/${child.body.id}`, token: noTokens.token })).statusCode,
    ).toBe(403)
    expect(
      (await ctx.request({ method: 'DELETE', url: `/api/tokens/${child.body.id}`, token: manager.token })).statusCode,
    ).toBe(204)
    expect(user.id).toBeDefined()
  })

  it('keeps workspace administration out of a scope that does not name it', async () => {
    const admin = await ctx.factories.userWithToken({ isAdmin: true })
    const narrow = (await create(admin.token, { name: 'narrow', scope: 'tenant.view' })).body
    const response = await ctx.request({
      method: 'POST',
      url: '/api/users',
      token: narrow.token,
      payload: { email: 'n@example.com', name: 'N', password: 'long enough password' },
    })
    expect(response.statusCode).toBe(403)
    const { token } = await ctx.factories.userWithToken()
    expect((await create(token, { name: 'admin', scope: 'workspace.admin' })).response.statusCode).toBe(422)
  })
})

describe('listing', () => {
  it('lists each token with its scope, expiry and last use, never the token', async () => {
    const { token } = await ctx.factories.userWithToken()
    const made = (await create(token, { name: 'listed', scope: 'read', expires_in_days: 30 })).body
    await ctx.request({ method: 'GET', url: '/api/me', token: made.token })
    const list = await ctx.request({ method: 'GET', url: '/api/tokens', token })
    expect(list.body).not.toContain(made.token)
    const row = (JSON.parse(list.body) as { data: (Created & { last_used_at: string | null })[] }).data.find(
      (t) => t.id === made.id,
    )
    expect(row).toMatchObject({ scope: 'read', last_used_at: expect.any(String) })
    expect(days(row!.expires_at)).toBe(30)
  })
})
