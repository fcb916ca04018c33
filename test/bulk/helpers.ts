import { and, asc, eq, isNull } from 'drizzle-orm'
import { bulkOperationItems, inventoryItems } from '../../src/db/schema.ts'
import type { EmulatorServer } from '../../src/emulator/server.ts'
import { control } from '../graph/emulator-helpers.ts'
import { ORIGIN, type TestContext } from '../harness.ts'

export type PlanBody = {
  action: string
  item_count: number
  counts: { change: number; skip: number }
  skipped_by_reason: { code: string; reason: string; count: number }[]
  items: {
    id: string
    policy_type: string
    display_name: string
    action: 'change' | 'skip'
    code: string | null
    reason: string | null
    summary: string | null
    new_name: string | null
  }[]
  items_truncated: boolean
}

export const bulkRequest = (ctx: TestContext, tenantId: string, token: string, payload: Record<string, unknown>) =>
  ctx.request({
    method: 'POST',
    url: `/api/tenants/${tenantId}/bulk-operations`,
    token,
    headers: { origin: ORIGIN },
    payload,
  })

export async function plan(
  ctx: TestContext,
  tenantId: string,
  token: string,
  payload: Record<string, unknown>,
): Promise<PlanBody> {
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
    .where(
      and(eq(inventoryItems.tenantId, tenantId), eq(inventoryItems.policyType, type), isNull(inventoryItems.removedAt)),
    )
    .orderBy(asc(inventoryItems.displayName), asc(inventoryItems.id))

export const frozen = (ctx: TestContext, runId: string) =>
  ctx.db
    .select()
    .from(bulkOperationItems)
    .where(eq(bulkOperationItems.runId, runId))
    .orderBy(asc(bulkOperationItems.position))

/**
 * The tenant's group that the fewest objects are assigned to (an emulated tenant's few groups are
 * all assigned somewhere): the bulk tests' target, a group of the tenant as the target check
 * demands. Tests leave out the objects already assigned to it (`assignedTo`).
 */
export async function leastAssignedGroup(ctx: TestContext, tenantId: string): Promise<string> {
  const groups = await itemsOfType(ctx, tenantId, 'group')
  const items = await ctx.db
    .select({ assignments: inventoryItems.assignments })
    .from(inventoryItems)
    .where(and(eq(inventoryItems.tenantId, tenantId), isNull(inventoryItems.removedAt)))
  const uses = (id: string) => items.filter((i) => JSON.stringify(i.assignments).includes(id)).length
  const [least] = groups.map((g) => ({ id: g.externalId, n: uses(g.externalId) })).sort((a, b) => a.n - b.n)
  if (!least) throw new Error('the tenant has no group in its inventory')
  return least.id
}

/** Whether an inventory item is assigned to the group already. */
export const assignedTo = (item: { assignments: unknown }, groupId: string) =>
  JSON.stringify(item.assignments).includes(groupId)

/** A new scope tag in the emulated tenant (before a sync: the sync brings it into the inventory); its id. */
export const addScopeTag = async (emulator: EmulatorServer, entraTenantId: string, name: string) =>
  (
    await control<{ id: string }>(emulator, 'POST', `/tenants/${entraTenantId}/items`, {
      type: 'roleScopeTag',
      displayName: name,
      description: 'for the bulk tests',
    })
  ).body.id
