import { and, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backupSets, operationRunItems } from '../../src/db/schema.ts'
import { createTestContext, ORIGIN, type TestContext } from '../harness.ts'
import { waitForCompletion } from '../inventory/helpers.ts'
import { seedBackupSet } from './seed.ts'

let ctx: TestContext
beforeAll(async () => {
  ctx = await createTestContext()
})
afterAll(() => ctx.close())

const DAY = 86_400_000
const object = (i: number) => ({
  policyType: 'deviceConfiguration',
  externalId: `o${i}`,
  displayName: `Object ${i}`,
  payload: { i },
  assignments: [],
})

describe('backup retention', () => {
  it('keeps the newest N, anything younger than D days and protected sets; a system run deletes the rest with per-item results', async () => {
    const tenant = await ctx.factories.tenant()
    const { user, token } = await ctx.factories.userWithToken()
    await ctx.factories.member(tenant.id, user, 'operator')
    const now = Date.now()
    const seed = (name: string, ageDays: number, prot = false) =>
      seedBackupSet(ctx.db, tenant.id, [object(ageDays)], {
        name,
        createdAt: new Date(now - ageDays * DAY),
        protected: prot,
      })
    const ancient = await seed('Ancient', 400)
    const protectedOld = await seed('Protected', 300, true)
    const old = await seed('Old', 100)
    const recentA = await seed('Recent A', 20)
    const recentB = await seed('Recent B', 10)
    const recentC = await seed('Recent C', 5)
    const latest = await seed('Latest', 1)
    // Another tenant's old sets are none of this policy's business.
    const other = await ctx.factories.tenant()
    const foreign = await seedBackupSet(ctx.db, other.id, [object(1)], { createdAt: new Date(now - 500 * DAY) })

    const put = await ctx.request({
      method: 'PUT',
      url: `/api/tenants/${tenant.id}/backup-retention`,
      token,
      headers: { origin: ORIGIN },
      payload: { keep_last: 2, keep_days: 30 },
    })
    expect(put.statusCode).toBe(200)
    expect(
      JSON.parse((await ctx.request({ method: 'GET', url: `/api/tenants/${tenant.id}/backup-retention`, token })).body),
    ).toEqual({ keep_last: 2, keep_days: 30 })
    const bad = await ctx.request({
      method: 'PUT',
      url: `/api/tenants/${tenant.id}/backup-retention`,
      token,
      headers: { origin: ORIGIN },
      payload: { keep_last: -1, keep_days: 30 },
    })
    expect(bad.statusCode).toBe(422)

    const started = await ctx.request({
      method: 'POST',
      url: `/api/tenants/${tenant.id}/backup-retention/prune`,
      token,
      headers: { origin: ORIGIN },
    })
    expect(started.statusCode).toBe(202)
    const { run } = JSON.parse(started.body) as { run: { id: string } }
    const done = await waitForCompletion(ctx, run.id)
    expect(done.outcome).toBe('succeeded')
    expect(done.initiatorUserId).toBeNull()
    const left = (await ctx.db.select({ id: backupSets.id }).from(backupSets).where(eq(backupSets.tenantId, tenant.id)))
      .map((r) => r.id)
      .sort()
    expect(left).toEqual([protectedOld.id, recentA.id, recentB.id, recentC.id, latest.id].sort())
    const items = await ctx.db
      .select()
      .from(operationRunItems)
      .where(and(eq(operationRunItems.runId, run.id)))
    expect(items.map((i) => [i.targetId, i.action, i.status]).sort()).toEqual(
      [
        [ancient.id, 'delete', 'succeeded'],
        [old.id, 'delete', 'succeeded'],
      ].sort(),
    )
    expect(done.summaryCounts).toMatchObject({ total: 2, processed: 2, succeeded: 2 })
    expect((await ctx.db.select().from(backupSets).where(eq(backupSets.id, foreign.id))).length).toBe(1)
  })
})
