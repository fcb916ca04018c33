import { and, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inventoryItems, operationRuns } from '../../src/db/schema.ts'
import { getPolicyType } from '../../src/graph/policy-types.ts'
import { normaliseRead } from '../../src/modules/inventory/normalise.ts'
import { writePage } from '../../src/modules/inventory/store.ts'
import type { TestContext } from '../harness.ts'
import { connectTenant, control, inventoryContext, syncAndWait, truthByType } from './helpers.ts'

/** Issue 12, item 4: untrusted text from Graph never blocks a type's mirroring. */
let env: Awaited<ReturnType<typeof inventoryContext>>
let ctx: TestContext
let tenant: Awaited<ReturnType<typeof connectTenant>>
beforeAll(async () => {
  env = await inventoryContext()
  ctx = env.ctx
  tenant = await connectTenant(ctx, env.emulator, { policies: 40 })
  expect((await syncAndWait(ctx, tenant.tenantId, tenant.token)).outcome).toBe('succeeded')
})
afterAll(async () => env.close())

const idsOf = async (type: string, atLeast = 3) => {
  const ids = (await truthByType(env.emulator, tenant.entraTenantId))[type]!.map((line) => line.split(' ')[0]!)
  expect(ids.length).toBeGreaterThanOrEqual(atLeast)
  return ids
}
const stored = async (externalId: string) =>
  (await ctx.db.select().from(inventoryItems).where(and(eq(inventoryItems.tenantId, tenant.tenantId), eq(inventoryItems.externalId, externalId))))[0]

describe('a lone UTF-16 surrogate in one Graph object', () => {
  it('is stored as U+FFFD, and the rest of its type (an update, a removal) is mirrored in the same sync', async () => {
    const [lone, updated, removed] = await idsOf('deviceConfiguration')
    const items = `/tenants/${tenant.entraTenantId}/items`
    expect((await control(env.emulator, 'PATCH', `${items}/${lone}`, { displayName: 'Lone \ud800 high', description: 'low \udfff' })).status).toBe(200)
    expect((await control(env.emulator, 'PATCH', `${items}/${updated}`, { description: 'changed in Graph' })).status).toBe(200)
    expect((await control(env.emulator, 'DELETE', `${items}/${removed}`)).status).toBe(204)
    const done = await syncAndWait(ctx, tenant.tenantId, tenant.token)
    expect(done.failures).toEqual([])
    expect(done.outcome).toBe('succeeded')
    expect(done.summaryCounts).toMatchObject({ updated: 2, removed: 1 })
    expect((await stored(lone!))!).toMatchObject({ displayName: 'Lone \ufffd high', payload: expect.objectContaining({ description: 'low \ufffd' }) })
    expect((await stored(updated!))!.payload.description).toBe('changed in Graph')
    expect((await stored(removed!))!.removedAt).not.toBeNull()
  })
})

describe('an object the database refuses anyway', () => {
  it('costs only itself: the rest of the page is written and the refused one is reported', async () => {
    const [run] = await ctx.db.select().from(operationRuns).where(eq(operationRuns.tenantId, tenant.tenantId)).limit(1)
    // writePage is fenced on a running attempt: let the completed run stand for one here.
    await ctx.db.update(operationRuns).set({ status: 'running' }).where(eq(operationRuns.id, run!.id))
    try {
      const entry = getPolicyType('deviceConfiguration')
      const [a, b] = await idsOf('deviceConfiguration', 2)
      const good = normaliseRead(entry, { item: { id: a!, displayName: 'Written', description: 'new' }, assignments: [], details: {} })
      // A date no timestamptz can hold, past the normaliser (which drops such dates): PostgreSQL refuses the row.
      const bad = { ...normaliseRead(entry, { item: { id: b!, displayName: 'Refused', description: 'new' }, assignments: [], details: {} }), graphLastModifiedAt: '+275760-09-13T00:00:00.000Z' }
      const result = await writePage(ctx.db, { tenantId: tenant.tenantId, runId: run!.id, attempt: run!.attempt, entry }, [good, bad])
      expect(result).toMatchObject({ updated: 1, rejected: [expect.objectContaining({ externalId: b })] })
      expect((await stored(a!))!.displayName).toBe('Written')
      expect((await stored(b!))!.displayName).not.toBe('Refused')
    } finally {
      await ctx.db.update(operationRuns).set({ status: 'completed' }).where(eq(operationRuns.id, run!.id))
    }
  })
})
