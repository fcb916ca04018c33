import { eq } from 'drizzle-orm'
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auditEvents, tenants, users } from '../src/db/schema.ts'
import { CAPABILITIES } from '../src/modules/access/policy.ts'
import { readClientSecret } from '../src/modules/tenants/update-tenant.ts'
import { createTestContext, errorOf, type TestContext } from './harness.ts'

let ctx: TestContext
let admin: { user: { id: string }; token: string }
beforeAll(async () => {
  ctx = await createTestContext()
  admin = await ctx.factories.userWithToken({ isAdmin: true })
})
afterAll(() => ctx.close())

const newTenant = (overrides: Record<string, unknown> = {}) => ({
  name: 'Fabrikam',
  entra_tenant_id: randomUUID(),
  client_id: randomUUID(),
  client_secret: `s3cr3t-${randomUUID()}`,
  ...overrides,
})

const auditOf = (tenantId: string) => ctx.db.select().from(auditEvents).where(eq(auditEvents.tenantId, tenantId))

describe('adding a tenant', () => {
  it('lets a workspace admin add a tenant, makes them owner, and encrypts the secret at rest', async () => {
    const input = newTenant({ cloud: 'usgov' })
    const response = await ctx.request({ method: 'POST', url: '/api/tenants', token: admin.token, payload: input })
    expect(response.statusCode, response.body).toBe(201)
    const body = JSON.parse(response.body) as Record<string, unknown> & { id: string }
    expect(body).toMatchObject({
      name: 'Fabrikam',
      cloud: 'usgov',
      entra_tenant_id: input.entra_tenant_id,
      role: 'owner',
      has_client_secret: true,
    })
    expect(body.capabilities).toEqual([...CAPABILITIES])
    expect(response.body).not.toContain(input.client_secret)
    expect(Object.keys(body)).not.toContain('client_secret')

    const [row] = await ctx.db.select().from(tenants).where(eq(tenants.id, body.id))
    expect(row!.clientSecretEncrypted).not.toContain(input.client_secret)
    expect(readClientSecret(ctx.secrets, row!)).toBe(input.client_secret)
    // Bound to its row: the same ciphertext under another tenant id does not decrypt.
    expect(() => readClientSecret(ctx.secrets, { ...row!, id: randomUUID() })).toThrow()

    const events = await auditOf(body.id)
    expect(events.map((e) => e.action).sort()).toEqual(['member.added', 'tenant.created'])
    expect(JSON.stringify(events)).not.toContain(input.client_secret)
    expect(events[0]!.actorUserId).toBe(admin.user.id)
  })

  it('refuses a non-admin with 403', async () => {
    const { token } = await ctx.factories.userWithToken()
    const response = await ctx.request({ method: 'POST', url: '/api/tenants', token, payload: newTenant() })
    expect(response.statusCode).toBe(403)
  })

  it('names the field that is wrong', async () => {
    const response = await ctx.request({
      method: 'POST',
      url: '/api/tenants',
      token: admin.token,
      payload: newTenant({ entra_tenant_id: 'contoso.onmicrosoft.com', cloud: 'mars' }),
    })
    expect(response.statusCode).toBe(422)
    const error = errorOf(response.body)
    expect(error.code).toBe('validation_failed')
    expect(error.message).toContain('entra_tenant_id')
    expect(error.message).toContain('cloud')
    expect((error.details as { fields: { field: string }[] }).fields.map((f) => f.field).sort()).toEqual([
      'cloud',
      'entra_tenant_id',
    ])
  })

  it('rejects unknown fields by name', async () => {
    const response = await ctx.request({
      method: 'POST',
      url: '/api/tenants',
      token: admin.token,
      payload: newTenant({ colour: 'blue' }),
    })
    expect(response.statusCode).toBe(422)
    expect(errorOf(response.body).message).toContain('colour')
  })

  it('answers 409 when the Entra tenant is already connected', async () => {
    const input = newTenant()
    expect(
      (await ctx.request({ method: 'POST', url: '/api/tenants', token: admin.token, payload: input })).statusCode,
    ).toBe(201)
    const again = await ctx.request({
      method: 'POST',
      url: '/api/tenants',
      token: admin.token,
      payload: { ...input, name: 'Other' },
    })
    expect(again.statusCode).toBe(409)
    expect(errorOf(again.body).message).toContain(input.entra_tenant_id)
  })
})

describe('reading and editing a tenant', () => {
  it('lists only the caller’s tenants, with role and capabilities per tenant in /api/me', async () => {
    const { user, token } = await ctx.factories.userWithToken()
    const mine = await ctx.factories.tenant({ name: 'Mine' })
    await ctx.factories.tenant({ name: 'Not mine' })
    await ctx.factories.member(mine.id, user, 'operator')
    const list = JSON.parse((await ctx.request({ method: 'GET', url: '/api/tenants', token })).body) as {
      data: { id: string; role: string }[]
    }
    expect(list.data.map((t) => t.id)).toEqual([mine.id])
    const me = JSON.parse((await ctx.request({ method: 'GET', url: '/api/me', token })).body) as { tenants: unknown[] }
    expect(me.tenants).toEqual([
      {
        id: mine.id,
        name: 'Mine',
        role: 'operator',
        capabilities: [
          'tenant.view',
          'inventory.sync',
          'operations.view',
          'operations.manage',
          'backups.manage',
          'findings.manage',
        ],
      },
    ])
  })

  it('updates the connection, re-encrypts a new secret and audits the changed fields only', async () => {
    const { user, token } = await ctx.factories.userWithToken()
    const tenant = await ctx.factories.tenant()
    await ctx.factories.member(tenant.id, user, 'manager')
    const secret = `rotated-${randomUUID()}`
    const response = await ctx.request({
      method: 'PATCH',
      url: `/api/tenants/${tenant.id}`,
      token,
      payload: { name: 'Renamed', client_secret: secret },
    })
    expect(response.statusCode, response.body).toBe(200)
    expect(response.body).not.toContain(secret)
    const [row] = await ctx.db.select().from(tenants).where(eq(tenants.id, tenant.id))
    expect(row!.name).toBe('Renamed')
    expect(readClientSecret(ctx.secrets, row!)).toBe(secret)
    const event = (await auditOf(tenant.id)).find((e) => e.action === 'tenant.updated')!
    expect(event.metadata).toEqual({ changed: ['client_secret', 'name'], name: 'Renamed' })
  })

  it('refuses an empty edit with 422', async () => {
    const { user, token } = await ctx.factories.userWithToken()
    const tenant = await ctx.factories.tenant()
    await ctx.factories.member(tenant.id, user, 'owner')
    const response = await ctx.request({ method: 'PATCH', url: `/api/tenants/${tenant.id}`, token, payload: {} })
    expect(response.statusCode).toBe(422)
  })
})

describe('members', () => {
  it('adds, changes and removes members, auditing each change', async () => {
    const owner = await ctx.factories.userWithToken()
    const tenant = await ctx.factories.tenant()
    await ctx.factories.member(tenant.id, owner.user, 'owner')
    const colleague = await ctx.factories.user()
    const base = `/api/tenants/${tenant.id}/members`

    const added = await ctx.request({
      method: 'POST',
      url: base,
      token: owner.token,
      payload: { email: colleague.email, role: 'operator' },
    })
    expect(added.statusCode, added.body).toBe(201)
    expect(
      (
        await ctx.request({
          method: 'POST',
          url: base,
          token: owner.token,
          payload: { email: colleague.email, role: 'operator' },
        })
      ).statusCode,
    ).toBe(409)
    const changed = await ctx.request({
      method: 'PATCH',
      url: `${base}/${colleague.id}`,
      token: owner.token,
      payload: { role: 'manager' },
    })
    expect(JSON.parse(changed.body)).toMatchObject({ user_id: colleague.id, role: 'manager' })
    const list = JSON.parse((await ctx.request({ method: 'GET', url: base, token: owner.token })).body) as {
      data: { user_id: string; role: string }[]
    }
    expect(list.data.map((m) => [m.user_id, m.role]).sort()).toEqual(
      [
        [owner.user.id, 'owner'],
        [colleague.id, 'manager'],
      ].sort(),
    )
    expect(
      (await ctx.request({ method: 'DELETE', url: `${base}/${colleague.id}`, token: owner.token })).statusCode,
    ).toBe(204)
    expect(
      (await ctx.request({ method: 'DELETE', url: `${base}/${colleague.id}`, token: owner.token })).statusCode,
    ).toBe(404)

    const actions = (await auditOf(tenant.id)).map((e) => e.action)
    expect(actions).toEqual(expect.arrayContaining(['member.added', 'member.role_changed', 'member.removed']))
  })

  it('names the e-mail when no such user exists', async () => {
    const owner = await ctx.factories.userWithToken()
    const tenant = await ctx.factories.tenant()
    await ctx.factories.member(tenant.id, owner.user, 'owner')
    const response = await ctx.request({
      method: 'POST',
      url: `/api/tenants/${tenant.id}/members`,
      token: owner.token,
      payload: { email: 'nobody@example.com', role: 'readonly' },
    })
    expect(response.statusCode).toBe(422)
    expect(errorOf(response.body).message).toMatch(/^email: no user/)
  })

  it('keeps at least one owner', async () => {
    const owner = await ctx.factories.userWithToken()
    const tenant = await ctx.factories.tenant()
    await ctx.factories.member(tenant.id, owner.user, 'owner')
    const base = `/api/tenants/${tenant.id}/members/${owner.user.id}`
    expect(
      (await ctx.request({ method: 'PATCH', url: base, token: owner.token, payload: { role: 'manager' } })).statusCode,
    ).toBe(409)
    expect((await ctx.request({ method: 'DELETE', url: base, token: owner.token })).statusCode).toBe(409)
  })
})

describe('policy types', () => {
  it('lists the catalog with categories and the permission each type needs', async () => {
    const { user, token } = await ctx.factories.userWithToken()
    const tenant = await ctx.factories.tenant()
    await ctx.factories.member(tenant.id, user, 'readonly')
    const response = await ctx.request({ method: 'GET', url: `/api/tenants/${tenant.id}/policy-types`, token })
    expect(response.statusCode).toBe(200)
    const body = JSON.parse(response.body) as {
      data: { key: string; kind: string; category: string; permission: string }[]
      categories: string[]
    }
    const keys = body.data.map((t) => t.key)
    expect(new Set(keys).size).toBe(keys.length)
    expect(body.data.find((t) => t.key === 'deviceConfiguration')).toMatchObject({
      kind: 'policy',
      permission: 'DeviceManagementConfiguration.Read.All',
    })
    expect(body.data.some((t) => t.kind === 'foundation')).toBe(true)
    expect(body.data.find((t) => t.kind === 'dependency')).toMatchObject({ key: 'group' })
    for (const type of body.data) expect(body.categories).toContain(type.category)
  })
})

describe('audit trail', () => {
  it('filters by actor, action (or its domain) and date; bad filters are 422 naming them', async () => {
    const owner = await ctx.factories.userWithToken()
    const other = await ctx.factories.userWithToken()
    const tenant = await ctx.factories.tenant()
    await ctx.factories.member(tenant.id, owner.user, 'owner')
    await ctx.factories.member(tenant.id, other.user, 'owner')
    const [ownerRow] = await ctx.db.select().from(users).where(eq(users.id, owner.user.id))
    for (const [token, name] of [
      [owner.token, 'By the owner'],
      [other.token, 'By the other'],
    ] as const)
      await ctx.request({ method: 'PATCH', url: `/api/tenants/${tenant.id}`, token, payload: { name } })
    await ctx.db.insert(auditEvents).values({
      id: randomUUID(),
      tenantId: tenant.id,
      actorKind: 'system',
      action: 'backup.deleted',
      createdAt: new Date('2020-01-01T00:00:00Z'),
    })
    const list = async (query: string) => {
      const response = await ctx.request({
        method: 'GET',
        url: `/api/tenants/${tenant.id}/audit-events?${query}`,
        token: owner.token,
      })
      return {
        status: response.statusCode,
        body: response.body,
        data:
          (
            JSON.parse(response.body) as {
              data?: { action: string; actor: { id: string | null }; metadata: { name?: string } }[]
            }
          ).data ?? [],
      }
    }
    const byOwner = await list(`actor=${encodeURIComponent(ownerRow!.email.slice(0, 6))}`)
    expect(byOwner.data.map((e) => e.metadata.name)).toEqual(['By the owner'])
    expect((await list('action=tenant.updated')).data).toHaveLength(2)
    const domain = (await list('action=tenant')).data.map((e) => e.action)
    expect(domain.filter((a) => a === 'tenant.updated')).toHaveLength(2)
    expect(domain.every((a) => a.startsWith('tenant.'))).toBe(true)
    expect((await list('action=backup')).data.map((e) => e.action)).toEqual(['backup.deleted'])
    expect((await list('until=2021-01-01T00:00:00Z')).data.map((e) => e.action)).toEqual(['backup.deleted'])
    expect((await list('since=2021-01-01T00:00:00Z')).data.map((e) => e.action)).not.toContain('backup.deleted')
    const badDate = await list('since=yesterday')
    expect(badDate.status).toBe(422)
    expect(badDate.body).toContain('since')
    const badAction = await list('action=DROP%20TABLE')
    expect(badAction.status).toBe(422)
    expect(badAction.body).toContain('action')
  })

  it('pages newest first with a keyset cursor', async () => {
    const owner = await ctx.factories.userWithToken()
    const tenant = await ctx.factories.tenant()
    await ctx.factories.member(tenant.id, owner.user, 'owner')
    for (let i = 0; i < 5; i++) {
      await ctx.request({
        method: 'PATCH',
        url: `/api/tenants/${tenant.id}`,
        token: owner.token,
        payload: { name: `Name ${i}` },
      })
    }
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const url: string = `/api/tenants/${tenant.id}/audit-events?limit=2${cursor ? `&cursor=${cursor}` : ''}`
      const page = JSON.parse((await ctx.request({ method: 'GET', url, token: owner.token })).body) as {
        data: { id: string; action: string; metadata: { name?: string } }[]
        next_cursor: string | null
      }
      seen.push(...page.data.map((e) => (e.action === 'tenant.updated' ? e.metadata.name! : e.action)))
      cursor = page.next_cursor
    } while (cursor)
    expect(seen).toEqual(['Name 4', 'Name 3', 'Name 2', 'Name 1', 'Name 0', 'tenant.created'])
  })

  it('rejects a cursor it did not issue', async () => {
    const owner = await ctx.factories.userWithToken()
    const tenant = await ctx.factories.tenant()
    await ctx.factories.member(tenant.id, owner.user, 'owner')
    const response = await ctx.request({
      method: 'GET',
      url: `/api/tenants/${tenant.id}/audit-events?cursor=garbage`,
      token: owner.token,
    })
    expect(response.statusCode).toBe(422)
    expect(errorOf(response.body).message).toContain('cursor')
  })
})
