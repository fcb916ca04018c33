import { and, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inventoryItems, type InventoryItemRow } from '../../src/db/schema.ts'
import { findPolicyType } from '../../src/graph/policy-types.ts'
import { notWritableReason } from '../../src/graph/writes/strategies.ts'
import { backupAndWait } from '../backups/helpers.ts'
import { startBulk } from '../bulk/helpers.ts'
import { control } from '../graph/emulator-helpers.ts'
import type { TestContext } from '../harness.ts'
import { connectTenant, syncAndWait, waitForCompletion } from '../inventory/helpers.ts'
import { executeAndWait, plan, restoreContext } from '../restore/helpers.ts'

/**
 * Issue 24, items 4 and 5 (the API): versions and changes a TenantAtlas run writes name the run,
 * its action and who started it; a deleted object restored continues its inventory item's history
 * (same item, its versions numbered on) instead of becoming a new item.
 */

let env: Awaited<ReturnType<typeof restoreContext>>
let ctx: TestContext
let tenant: Awaited<ReturnType<typeof connectTenant>>

type ChangedBy = { app_name?: string; activity: string; run_id?: string; initiated_by?: string | null } | null
type Version = { id: string; number: number; run_id: string; changed_by: ChangedBy }
type Change = { item_id: string; kind: string; run_id: string; changed_by: ChangedBy; display_name: string }

beforeAll(async () => {
  env = await restoreContext()
  ctx = env.ctx
  tenant = await connectTenant(ctx, env.emulator, { policies: 30 })
  await syncAndWait(ctx, tenant.tenantId, tenant.token)
})
afterAll(async () => env.close())

const get = async <T>(url: string): Promise<T> => {
  const response = await ctx.request({
    method: 'GET',
    url: `/api/tenants/${tenant.tenantId}${url}`,
    token: tenant.token,
  })
  expect(response.statusCode, response.body).toBe(200)
  return JSON.parse(response.body) as T
}
const changesOf = async (itemId: string) =>
  (await get<{ data: Change[] }>('/changes?limit=200')).data.filter((c) => c.item_id === itemId)

async function policies(): Promise<InventoryItemRow[]> {
  const rows = await ctx.db.select().from(inventoryItems).where(eq(inventoryItems.tenantId, tenant.tenantId))
  return rows.filter(
    (r) =>
      !r.removedAt &&
      findPolicyType(r.policyType)?.kind === 'policy' &&
      ['deviceConfiguration', 'deviceCompliancePolicy'].includes(r.policyType) &&
      !JSON.stringify(r.payload).includes('****') &&
      !notWritableReason(findPolicyType(r.policyType)!, r.payload),
  )
}

describe('TenantAtlas attributes its own writes', () => {
  it('a bulk rename: the new version and its change say "TenantAtlas — Bulk rename by <who> (run)"', async () => {
    const [item] = await policies()
    const { run } = await startBulk(ctx, tenant.tenantId, tenant.token, {
      action: 'rename',
      params: { prefix: 'Attr - ' },
      item_ids: [item!.id],
    })
    expect((await waitForCompletion(ctx, run.id)).outcome).toBe('succeeded')
    const expected = {
      app_name: 'TenantAtlas',
      activity: 'Bulk rename',
      run_id: run.id,
      initiated_by: tenant.owner.email,
    }
    const versions = (await get<{ data: Version[] }>(`/inventory/items/${item!.id}/versions`)).data
    const latest = versions.reduce((a, b) => (b.number > a.number ? b : a))
    expect(latest).toMatchObject({ run_id: run.id, changed_by: expected })
    const [change] = (await changesOf(item!.id)).filter((c) => c.run_id === run.id)
    expect(change).toMatchObject({ kind: 'updated', changed_by: expected, display_name: `Attr - ${item!.displayName}` })
  })

  it('a deleted object restored continues its item: same item, back from removed, a "restored" change attributed to the restore', async () => {
    const { backup } = await backupAndWait(ctx, tenant.tenantId, tenant.token)
    const [, victim] = await policies()
    const before = (await get<{ data: Version[] }>(`/inventory/items/${victim!.id}/versions`)).data
    await control(env.emulator, 'DELETE', `/tenants/${tenant.entraTenantId}/items/${victim!.externalId}`)
    await syncAndWait(ctx, tenant.tenantId, tenant.token)
    const [removed] = await ctx.db.select().from(inventoryItems).where(eq(inventoryItems.id, victim!.id))
    expect(removed!.removedAt).not.toBeNull()

    const p = await plan(ctx, tenant.tenantId, tenant.token, { backup_id: backup.id, item_ids: [victim!.id] })
    expect(p.items.map((i) => i.action)).toEqual(['create'])
    const done = await executeAndWait(ctx, tenant.tenantId, tenant.token, p.id)
    expect(done.outcome, JSON.stringify(done.failures)).toBe('succeeded')

    // The same inventory item, now naming the new Graph object; no second item of that name.
    const [now] = await ctx.db.select().from(inventoryItems).where(eq(inventoryItems.id, victim!.id))
    expect(now!.removedAt).toBeNull()
    expect(now!.externalId).not.toBe(victim!.externalId)
    const named = await ctx.db
      .select()
      .from(inventoryItems)
      .where(and(eq(inventoryItems.tenantId, tenant.tenantId), eq(inventoryItems.displayName, victim!.displayName)))
    expect(named.map((r) => r.id)).toEqual([victim!.id])
    // Its history goes on: the versions before the deletion are still its own, the restore's change follows them.
    const after = (await get<{ data: Version[] }>(`/inventory/items/${victim!.id}/versions`)).data
    expect(after.length).toBeGreaterThanOrEqual(before.length)
    const changes = await changesOf(victim!.id)
    expect(changes.map((c) => c.kind)).toEqual(expect.arrayContaining(['removed', 'restored']))
    const restored = changes.find((c) => c.kind === 'restored')!
    expect(restored).toMatchObject({
      run_id: done.id,
      changed_by: {
        app_name: 'TenantAtlas',
        activity: expect.stringContaining('Restore from backup') as unknown,
        run_id: done.id,
        initiated_by: tenant.owner.email,
      },
    })
    // A sync afterwards sees the same object: nothing new, no second item.
    await syncAndWait(ctx, tenant.tenantId, tenant.token)
    expect(
      await ctx.db
        .select()
        .from(inventoryItems)
        .where(and(eq(inventoryItems.tenantId, tenant.tenantId), eq(inventoryItems.displayName, victim!.displayName))),
    ).toHaveLength(1)
  })
})
