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

describe('tenant group', () => {
  it('limits a token to the tenants of a tenant group: others are a 404 to it, lists show the group only', async () => {
    const admin = await ctx.factories.userWithToken({ isAdmin: true })
    const [inside, outside] = [await ctx.factories.tenant(), await ctx.factories.tenant()]
    for (const t of [inside, outside]) await ctx.factories.member(t.id, admin.user, 'owner')
    const group = await ctx.request({
      method: 'POST',
      url: '/api/tenant-groups',
      token: admin.token,
      payload: { name: `Limited ${inside.id}`, tenant_ids: [inside.id] },
    })
    expect(group.statusCode, group.body).toBe(201)
    const groupId = (JSON.parse(group.body) as { id: string }).id
    const limited = await create(admin.token, { name: 'limited', tenant_group_id: groupId })
    expect(limited.response.statusCode, limited.response.body).toBe(201)
    expect((limited.body as Created & { tenant_group_id: string }).tenant_group_id).toBe(groupId)
    const get = (url: string, token = limited.body.token) => ctx.request({ method: 'GET', url, token })
    expect((await get(`/api/tenants/${inside.id}`)).statusCode).toBe(200)
    expect((await get(`/api/tenants/${outside.id}`)).statusCode).toBe(404)
    expect((await get(`/api/tenants/${outside.id}/inventory/items`)).statusCode).toBe(404)
    const me = JSON.parse((await get('/api/me')).body) as { tenants: { id: string }[] }
    expect(me.tenants.map((t) => t.id)).toEqual([inside.id])
    const tenants = JSON.parse((await get('/api/tenants')).body) as { data: { id: string }[] }
    expect(tenants.data.map((t) => t.id)).toEqual([inside.id])
    const overview = JSON.parse((await get('/api/overview')).body) as { data: { tenant: { id: string } }[] }
    expect(overview.data.map((r) => r.tenant.id)).toEqual([inside.id])
    // The owner's session and unlimited tokens still reach both.
    expect((await get(`/api/tenants/${outside.id}`, admin.token)).statusCode).toBe(200)

    // A tenant added to the group is reached at once; the group's deletion deletes the token.
    const patched = await ctx.request({
      method: 'PATCH',
      url: `/api/tenant-groups/${groupId}`,
      token: admin.token,
      payload: { tenant_ids: [inside.id, outside.id] },
    })
    expect(patched.statusCode, patched.body).toBe(200)
    expect((await get(`/api/tenants/${outside.id}`)).statusCode).toBe(200)
    // A limited token makes only tokens of the same group.
    const child = await create(limited.body.token, { name: 'child' })
    expect((child.body as Created & { tenant_group_id: string }).tenant_group_id).toBe(groupId)
    const other = await ctx.request({
      method: 'POST',
      url: '/api/tenant-groups',
      token: admin.token,
      payload: { name: `Other ${inside.id}`, tenant_ids: [outside.id] },
    })
    const otherId = (JSON.parse(other.body) as { id: string }).id
    expect((await create(limited.body.token, { name: 'wider', tenant_group_id: otherId })).response.statusCode).toBe(
      403,
    )
    expect(
      (await ctx.request({ method: 'DELETE', url: `/api/tenant-groups/${groupId}`, token: admin.token })).statusCode,
    ).toBe(204)
    expect((await get(`/api/tenants/${inside.id}`)).statusCode).toBe(401)
  })

  it('refuses a tenant group the owner cannot see, naming the field', async () => {
    const user = await ctx.factories.userWithToken()
    for (const id of ['not-a-uuid', '0195f3c2-0000-7000-8000-000000000000']) {
      const { response } = await create(user.token, { name: 'x', tenant_group_id: id })
      expect(response.statusCode).toBe(422)
      expect(errorOf(response.body).message).toMatch(/tenant_group_id/)
    }
  })
})
