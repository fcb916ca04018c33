import { and, asc, eq, gt, ilike, isNull, or, type SQL, sql } from 'drizzle-orm'
import type { Executor } from '../../db/engine.ts'
import { inventoryItems, inventoryReferences, inventoryTypeStates, type InventoryItemRow } from '../../db/schema.ts'
import type { TextCursor } from '../../lib/cursor.ts'
import { UUID_PATTERN } from '../../lib/ids.ts'

export type ItemFilters = {
  type?: string | undefined
  category?: string | undefined
  q?: string | undefined
  includeRemoved: boolean
}

const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`)

/**
 * While an item is present, the last complete sync of its type saw it (a sync marks what it did
 * not see as removed), so its last-seen run comes from the type's state, not from a write per item.
 */
const lastSeenRunId = sql<string>`CASE WHEN ${inventoryItems.removedAt} IS NULL THEN GREATEST(${inventoryTypeStates.lastRunId}, ${inventoryItems.lastSeenRunId}) ELSE ${inventoryItems.lastSeenRunId} END`

const listColumns = {
  id: inventoryItems.id,
  tenantId: inventoryItems.tenantId,
  policyType: inventoryItems.policyType,
  externalId: inventoryItems.externalId,
  displayName: inventoryItems.displayName,
  category: inventoryItems.category,
  platform: inventoryItems.platform,
  graphLastModifiedAt: inventoryItems.graphLastModifiedAt,
  firstSeenRunId: inventoryItems.firstSeenRunId,
  lastSeenRunId,
  removedAt: inventoryItems.removedAt,
  updatedAt: inventoryItems.updatedAt,
}

export type ItemListRow = {
  [K in keyof typeof listColumns]: K extends 'lastSeenRunId' ? string : InventoryItemRow[K & keyof InventoryItemRow]
}

const stateJoin = and(
  eq(inventoryTypeStates.tenantId, inventoryItems.tenantId),
  eq(inventoryTypeStates.policyType, inventoryItems.policyType),
)

/** Items of a tenant by display name (then id), filtered; served by the (tenant, [type|category,] name, id) indexes. */
export async function listItems(
  db: Executor,
  tenantId: string,
  filters: ItemFilters,
  page: { cursor: TextCursor | undefined; limit: number },
): Promise<ItemListRow[]> {
  const where: (SQL | undefined)[] = [eq(inventoryItems.tenantId, tenantId)]
  if (filters.type) where.push(eq(inventoryItems.policyType, filters.type))
  if (filters.category) where.push(eq(inventoryItems.category, filters.category))
  if (filters.q) where.push(ilike(inventoryItems.displayName, `%${escapeLike(filters.q)}%`))
  if (!filters.includeRemoved) where.push(isNull(inventoryItems.removedAt))
  if (page.cursor) {
    const { text: name, id } = page.cursor
    where.push(
      or(gt(inventoryItems.displayName, name), and(eq(inventoryItems.displayName, name), gt(inventoryItems.id, id))),
    )
  }
  return db
    .select(listColumns)
    .from(inventoryItems)
    .leftJoin(inventoryTypeStates, stateJoin)
    .where(and(...where))
    .orderBy(asc(inventoryItems.displayName), asc(inventoryItems.id))
    .limit(page.limit)
}

export async function findItem(db: Executor, tenantId: string, itemId: string) {
  if (!UUID_PATTERN.test(itemId)) return undefined
  const [row] = await db
    .select({ item: inventoryItems, lastSeenRunId })
    .from(inventoryItems)
    .leftJoin(inventoryTypeStates, stateJoin)
    .where(and(eq(inventoryItems.tenantId, tenantId), eq(inventoryItems.id, itemId)))
  return row
}

export type ReferenceRow = {
  kind: 'group' | 'foundation'
  target_type: string
  target_external_id: string
  target_item_id: string | null
  display_name: string | null
  orphaned: boolean
}

/**
 * An item's references with their targets resolved in the inventory. A reference is orphaned
 * when the dependency unit found the group deleted, or when the target's type was synced and
 * the target is not (or no longer) in it.
 */
export async function referencesOf(db: Executor, tenantId: string, itemId: string): Promise<ReferenceRow[]> {
  const { rows } = await db.execute<ReferenceRow>(sql`
    SELECT r.kind, r.target_type, r.target_external_id, t.id AS target_item_id, t.display_name,
      (r.orphaned OR (s.policy_type IS NOT NULL AND t.id IS NULL)) AS orphaned
    FROM ${inventoryReferences} r
    LEFT JOIN ${inventoryItems} t ON t.tenant_id = r.tenant_id AND t.policy_type = r.target_type
      AND t.external_id = r.target_external_id AND t.removed_at IS NULL
    LEFT JOIN ${inventoryTypeStates} s ON s.tenant_id = r.tenant_id AND s.policy_type = r.target_type
    WHERE r.item_id = ${itemId} AND r.tenant_id = ${tenantId}
    ORDER BY r.kind, r.target_type, t.display_name NULLS LAST, r.target_external_id`)
  return rows
}
