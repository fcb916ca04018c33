import { and, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auditEvents } from '../../src/db/schema.ts'
import { createTestContext, errorOf, type TestContext } from '../harness.ts'

let ctx: TestContext
const tenants = {} as Record<'a' | 'b' | 'c', string>
let admin: { user: { id: string }; token: string }
let otherAdmin: { user: { id: string }; token: string }
let member: { user: { id: string }; token: string }
let stranger: { user: { id: string }; token: string }

type Group = { id: string; name: string; tenant_ids: string[] }

beforeAll(async () => {
  ctx = await createTestContext({ worker: false })
  admin = await ctx.factories.userWithToken({ isAdmin: true })
  otherAdmin = await ctx.factories.userWithToken({ isAdmin: true })
  member = await ctx.factories.userWithToken()
  stranger = await ctx.factories.userWithToken()
  for (const [key, name] of [
    ['a', 'Alpha'],
    ['b', 'Bravo'],
    ['c', 'Charlie'],
  ] as const) {
    tenants[key] = (await ctx.factories.tenant({ name })).id
    await ctx.factories.member(tenants[key], admin.user, 'owner')
  }
  await ctx.factories.member(tenants.a, member.user, 'readonly')
  // Charlie is the other admin's too; Bravo is not.
  await ctx.factories.member(tenants.c, otherAdmin.user, 'owner')
})
afterAll(() => ctx.close())

const api = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, token: string, payload?: unknown) =>
  ctx.request({ method, url: `/api/tenant-groups${path}`, token, payload: payload as never })
const list = async (token: string) => (JSON.parse((await api('GET', '', token)).body) as { data: Group[] }).data

describe('tenant groups', () => {
  it('are created, renamed, re-membered and deleted by workspace admins, each audited', async () => {
    const created = await api('POST', '', admin.token, {
      name: 'Retail customers',
      tenant_ids: [tenants.b, tenants.a, tenants.a],
    })
    expect(created.statusCode, created.body).toBe(201)
    const group = JSON.parse(created.body) as Group
    // By tenant name, each once.
    expect(group).toMatchObject({ name: 'Retail customers', tenant_ids: [tenants.a, tenants.b] })

    const renamed = await api('PATCH', `/${group.id}`, admin.token, { name: 'Retail', tenant_ids: [tenants.c] })
    expect(renamed.statusCode, renamed.body).toBe(200)
    expect(JSON.parse(renamed.body)).toMatchObject({ name: 'Retail', tenant_ids: [tenants.c] })

    expect((await api('DELETE', `/${group.id}`, admin.token)).statusCode).toBe(204)
    expect((await api('DELETE', `/${group.id}`, admin.token)).statusCode).toBe(404)
    const actions = await ctx.db
      .select({ action: auditEvents.action, metadata: auditEvents.metadata })
      .from(auditEvents)
      .where(and(eq(auditEvents.subjectType, 'tenant_group'), eq(auditEvents.subjectId, group.id)))
      .orderBy(auditEvents.createdAt, auditEvents.id)
    expect(actions.map((a) => a.action)).toEqual([
      'tenant_group.created',
      'tenant_group.updated',
      'tenant_group.deleted',
    ])
    expect(actions[1]!.metadata).toMatchObject({ previous_name: 'Retail customers', added_tenant_ids: [tenants.c] })
  })

  it('show members only the tenants they belong to, and only groups holding one', async () => {
    const both = JSON.parse(
      (await api('POST', '', admin.token, { name: 'Both', tenant_ids: [tenants.a, tenants.b] })).body,
    ) as Group
    const hidden = JSON.parse(
      (await api('POST', '', admin.token, { name: 'Hidden', tenant_ids: [tenants.b] })).body,
    ) as Group
    const empty = JSON.parse((await api('POST', '', admin.token, { name: 'Empty' })).body) as Group

    const seen = await list(member.token)
    expect(seen.find((g) => g.id === both.id)?.tenant_ids).toEqual([tenants.a])
    expect(seen.map((g) => g.id)).not.toContain(hidden.id)
    expect(seen.map((g) => g.id)).not.toContain(empty.id)
    expect((await list(stranger.token)).map((g) => g.id)).not.toContain(both.id)
    // Admins see every group, to manage it, but still only their own tenants in each.
    const other = await list(otherAdmin.token)
    expect(other.find((g) => g.id === hidden.id)?.tenant_ids).toEqual([])
    expect(other.map((g) => g.id)).toContain(empty.id)
  })

  it('keep the tenants an editing admin cannot see', async () => {
    const shared = JSON.parse(
      (await api('POST', '', admin.token, { name: 'Shared', tenant_ids: [tenants.b, tenants.c] })).body,
    ) as Group
    // The other admin sees Charlie only; clearing "their" list leaves Bravo in place.
    const cleared = await api('PATCH', `/${shared.id}`, otherAdmin.token, { tenant_ids: [] })
    expect(cleared.statusCode, cleared.body).toBe(200)
    expect(JSON.parse(cleared.body)).toMatchObject({ tenant_ids: [] })
    expect((await list(admin.token)).find((g) => g.id === shared.id)?.tenant_ids).toEqual([tenants.b])
  })

  it('refuse non-admins, foreign tenants, duplicates and bad input with a clear 4xx', async () => {
    const forbidden = await api('POST', '', member.token, { name: 'Mine', tenant_ids: [tenants.a] })
    expect(forbidden.statusCode).toBe(403)
    const foreign = await api('POST', '', otherAdmin.token, { name: 'Grab', tenant_ids: [tenants.c, tenants.b] })
    expect(foreign.statusCode).toBe(422)
    expect(errorOf(foreign.body).details).toEqual({
      fields: [{ field: 'tenant_ids.1', message: `no tenant ${tenants.b} that you belong to` }],
    })
    await api('POST', '', admin.token, { name: 'Unique' })
    const duplicate = await api('POST', '', admin.token, { name: 'UNIQUE' })
    expect(duplicate.statusCode).toBe(409)
    const bad = await api('POST', '', admin.token, { name: '', tenant_ids: ['nope'] })
    expect(bad.statusCode).toBe(422)
    const fields = (errorOf(bad.body).details as { fields: { field: string }[] }).fields
    expect(fields.map((f) => f.field)).toEqual(['name', 'tenant_ids.0'])
    expect((await api('PATCH', '/not-a-uuid', admin.token, { name: 'x' })).statusCode).toBe(404)
    const absent = '/0195f3c2-0000-7000-8000-000000000000'
    expect((await api('PATCH', absent, admin.token, { name: 'x' })).statusCode).toBe(404)
    expect((await api('PATCH', absent, admin.token, {})).statusCode).toBe(422)
  })
})
