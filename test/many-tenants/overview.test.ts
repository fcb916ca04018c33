import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestContext, errorOf, type TestContext } from '../harness.ts'
import { hoursAgo, seedBackup, seedChange, seedItem, seedSync } from './seed.ts'

let ctx: TestContext
const ids = {} as Record<'never' | 'stale' | 'partial' | 'healthy' | 'foreign', string>
let member: { user: { id: string }; token: string }
let admin: { user: { id: string }; token: string }

type Row = {
  tenant: { id: string; name: string; role: string }
  health: string
  attention: { code: string; severity: string; message: string }[]
  sync: { last_success_at: string | null; fresh: boolean; last_run: { outcome: string | null } | null }
  permission_gaps: { policy_type: string; permission: string }[]
  changes_7d: { count: number; by: { name: string; count: number }[]; link: string }
  newest_backup: { id: string; age_seconds: number } | null
  expiring_credentials: { display_name: string; expires_at: string }[]
  findings: null
  alignment: null
}

beforeAll(async () => {
  ctx = await createTestContext({ worker: false })
  member = await ctx.factories.userWithToken()
  admin = await ctx.factories.userWithToken({ isAdmin: true })
  for (const key of ['never', 'stale', 'partial', 'healthy', 'foreign'] as const) {
    ids[key] = (await ctx.factories.tenant({ name: `${key[0]!.toUpperCase()}${key.slice(1)} tenant` })).id
    await ctx.factories.member(ids[key], admin.user, 'owner')
    if (key !== 'foreign')
      await ctx.factories.member(ids[key], member.user, key === 'healthy' ? 'readonly' : 'operator')
  }
  // Never synced: one failed attempt, nothing else.
  await seedSync(ctx.db, ids.never, 2, 'failed', [
    { code: 'invalid_client', message: 'The client secret is wrong', subject: null },
  ])
  // Stale: last success three days ago, a backup, changes by two actors, and an APNs certificate expiring in ten days.
  await seedSync(ctx.db, ids.stale, 72, 'succeeded')
  await seedBackup(ctx.db, ids.stale, 30)
  const item = await seedItem(ctx.db, ids.stale, { policyType: 'deviceConfiguration', displayName: 'Baseline' })
  await seedChange(ctx.db, ids.stale, item, 5, {
    user_principal_name: 'alice@contoso.com',
    activity: 'Patch',
    at: hoursAgo(5).toISOString(),
  })
  await seedChange(ctx.db, ids.stale, item, 6, {
    user_principal_name: 'alice@contoso.com',
    activity: 'Patch',
    at: hoursAgo(6).toISOString(),
  })
  await seedChange(ctx.db, ids.stale, item, 7, {
    app_name: 'Intune sync app',
    activity: 'Patch',
    at: hoursAgo(7).toISOString(),
  })
  await seedChange(ctx.db, ids.stale, item, 24 * 10, {
    user_principal_name: 'old@contoso.com',
    activity: 'Patch',
    at: hoursAgo(240).toISOString(),
  })
  await seedItem(ctx.db, ids.stale, {
    policyType: 'applePushNotificationCertificate',
    displayName: 'Apple MDM push certificate',
    payload: { expirationDateTime: new Date(Date.now() + 10 * 24 * 3_600_000).toISOString() },
  })
  // Partial: synced an hour ago without scripts (missing permission), backed up.
  const gap = {
    code: 'missing_permission',
    message: 'The app lacks DeviceManagementScripts.Read.All',
    subject: 'deviceManagementScript',
  }
  await seedSync(ctx.db, ids.partial, 1, 'partially_succeeded', [gap])
  await seedBackup(ctx.db, ids.partial, 2)
  // Healthy: fresh sync and backup; an older failure does not count, the newest run does.
  await seedSync(ctx.db, ids.healthy, 30, 'failed')
  await seedSync(ctx.db, ids.healthy, 1, 'succeeded')
  await seedBackup(ctx.db, ids.healthy, 1)
  await seedSync(ctx.db, ids.foreign, 500, 'failed')
})
afterAll(() => ctx.close())

const overview = async (token: string, query = '') => {
  const response = await ctx.request({ method: 'GET', url: `/api/overview${query}`, token })
  expect(response.statusCode, response.body).toBe(200)
  return (JSON.parse(response.body) as { data: Row[] }).data
}

describe('GET /api/overview', () => {
  it("shows each of a member's tenants in its state, most in need of attention first", async () => {
    const rows = await overview(member.token)
    expect(rows.map((r) => r.tenant.id)).toEqual([ids.never, ids.stale, ids.partial, ids.healthy])
    const [never, stale, partial, healthy] = rows as [Row, Row, Row, Row]

    expect(never).toMatchObject({
      health: 'critical',
      sync: { last_success_at: null, fresh: false, last_run: { outcome: 'failed' } },
    })
    expect(never.attention.map((a) => a.code)).toEqual(['never_synced', 'sync_failed', 'no_backup'])
    expect(never.attention[1]!.message).toContain('The client secret is wrong')

    expect(stale.health).toBe('warning')
    expect(stale.sync.fresh).toBe(false)
    expect(stale.attention.map((a) => a.code)).toEqual(['stale', 'credential_expiring'])
    expect(stale.attention[0]!.message).toBe('Last successful sync 3 days ago')
    expect(stale.changes_7d).toEqual({
      count: 3,
      by: [
        { name: 'alice@contoso.com', count: 2 },
        { name: 'Intune sync app', count: 1 },
      ],
      link: `/t/${ids.stale}/changes`,
    })
    expect(stale.expiring_credentials.map((c) => c.display_name)).toEqual(['Apple MDM push certificate'])
    expect(stale.newest_backup!.age_seconds).toBeGreaterThanOrEqual(30 * 3600)

    expect(partial).toMatchObject({
      health: 'warning',
      sync: { fresh: true, last_run: { outcome: 'partially_succeeded' } },
      permission_gaps: [{ policy_type: 'deviceManagementScript', permission: 'DeviceManagementScripts.Read.All' }],
    })
    expect(partial.attention.map((a) => a.code)).toEqual(['permission_gap'])

    expect(healthy).toMatchObject({ health: 'ok', attention: [], permission_gaps: [], tenant: { role: 'readonly' } })
    expect(healthy.sync.fresh).toBe(true)
    // No tenant here has an enabled baseline: no findings or alignment (test/drift/two-tenants.test.ts has them).
    expect(rows.every((r) => r.findings === null && r.alignment === null)).toBe(true)
  })

  it('shows only tenants the caller belongs to, and nothing to a stranger', async () => {
    expect((await overview(member.token)).map((r) => r.tenant.id)).not.toContain(ids.foreign)
    expect((await overview(admin.token)).map((r) => r.tenant.id)).toContain(ids.foreign)
    const stranger = await ctx.factories.userWithToken()
    expect(await overview(stranger.token)).toEqual([])
    expect((await ctx.request({ method: 'GET', url: '/api/overview' })).statusCode).toBe(401)
  })

  it('filters by a tenant group the caller can see; any other group is a 404', async () => {
    const created = await ctx.request({
      method: 'POST',
      url: '/api/tenant-groups',
      token: admin.token,
      payload: { name: 'Watch list', tenant_ids: [ids.partial, ids.stale, ids.foreign] },
    })
    const group = JSON.parse(created.body) as { id: string }
    expect((await overview(member.token, `?tenant_group_id=${group.id}`)).map((r) => r.tenant.id)).toEqual([
      ids.stale,
      ids.partial,
    ])
    const foreignOnly = await ctx.request({
      method: 'POST',
      url: '/api/tenant-groups',
      token: admin.token,
      payload: { name: 'Foreign', tenant_ids: [ids.foreign] },
    })
    const hidden = JSON.parse(foreignOnly.body) as { id: string }
    for (const id of [hidden.id, 'not-a-uuid', '0195f3c2-0000-7000-8000-000000000000']) {
      const response = await ctx.request({
        method: 'GET',
        url: `/api/overview?tenant_group_id=${id}`,
        token: member.token,
      })
      expect(response.statusCode).toBe(404)
      expect(errorOf(response.body).message).toBe('Tenant group not found or no access')
    }
    const unknown = await ctx.request({ method: 'GET', url: '/api/overview?bogus=1', token: member.token })
    expect(unknown.statusCode).toBe(422)
    expect(errorOf(unknown.body).message).toContain('bogus')
  })
})
