import { and, asc, eq, isNull } from 'drizzle-orm'
import { bulkOperationItems, inventoryItems } from '../../src/db/schema.ts'
import { ORIGIN, type TestContext } from '../harness.ts'

export type PlanBody = {
  action: string
  item_count: number
  counts: { change: number; skip: number }
  skipped_by_reason: { code: string; reason: string; count: number }[]
  items: { id: string; policy_type: string; display_name: string; action: 'change' | 'skip'; code: string | null; reason: string | null; summary: string | null; new_name: string | null }[]
  items_truncated: boolean
}

export const bulkRequest = (ctx: TestContext, tenantId: string, token: string, payload: Record<string, unknown>) =>
  ctx.request({ method: 'POST', url: `/api/tenants/${tenantId}/bulk-operations`, token, headers: { origin: ORIGIN }, payload })

export async function plan(ctx: TestContext, tenantId: string, token: string, payload: Record<string, unknown>): Promise<PlanBody> {
  const response = await bulkRequest(ctx, tenantId, token, { ...payload, dry_run: true })
  if (response.statusCode !== 200) throw new Error(`plan: ${response.statusCode} ${response.body}`)
  return JSON.parse(response.body) as PlanBody
}

export async function startBulk(ctx: TestContext, tenantId: string, token: string, payload: Record<string, unknown>) {
  const response = await bulkRequest(ctx, tenantId, token, { ...payload, dry_run: false })
  if (response.statusCode !== 202) throw new Error(`bulk not started: ${response.statusCode} ${response.body}`)
  return JSON.parse(response.body) as { run: { id: string; type: string }; deduplicated: boolean }
}

/** Present inventory items of a type, by name. */
export const itemsOfType = (ctx: TestContext, tenantId: string, type: string) =>
  ctx.db
    .select()
    .from(inventoryItems)
    .where(and(eq(inventoryItems.tenantId, tenantId), eq(inventoryItems.policyType, type), isNull(inventoryItems.removedAt)))
    .orderBy(asc(inventoryItems.displayName), asc(inventoryItems.id))

export const frozen = (ctx: TestContext, runId: string) => ctx.db.select().from(bulkOperationItems).where(eq(bulkOperationItems.runId, runId)).orderBy(asc(bulkOperationItems.position))
