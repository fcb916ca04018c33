import { and, asc, eq, ilike, inArray, isNull, type SQL, sql } from 'drizzle-orm'
import type { Executor } from '../../db/engine.ts'
import { backupSets, bulkOperationItems, inventoryItems, type BulkItemState } from '../../db/schema.ts'
import type { BulkFilter } from './operation-types.ts'
import type { PlannedSource } from './plan.ts'

const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`)

export type BulkSelection = { itemIds: readonly string[] } | { filter: BulkFilter }

/**
 * The inventory item ids a selection names, in the inventory list's order (display name, id): a
 * filter matches present items as the list shows them; named ids are those of this tenant
 * (a removed one stays in, to be listed as skipped).
 */
function selectionWhere(tenantId: string, selection: BulkSelection): SQL | undefined {
  const where: (SQL | undefined)[] = [eq(inventoryItems.tenantId, tenantId)]
  if ('itemIds' in selection) {
    where.push(inArray(inventoryItems.id, [...selection.itemIds]))
  } else {
    const { type, category, q } = selection.filter
    if (type) where.push(eq(inventoryItems.policyType, type))
    if (category) where.push(eq(inventoryItems.category, category))
    if (q) where.push(ilike(inventoryItems.displayName, `%${escapeLike(q)}%`))
    where.push(isNull(inventoryItems.removedAt))
  }
  return and(...where)
}

/** How many items of each type a selection holds (the console's action bar). */
export async function countsByType(
  db: Executor,
  tenantId: string,
  selection: BulkSelection,
): Promise<{ type: string; count: number }[]> {
  if ('itemIds' in selection && selection.itemIds.length === 0) return []
  return db
    .select({ type: inventoryItems.policyType, count: sql<number>`count(*)::int` })
    .from(inventoryItems)
    .where(selectionWhere(tenantId, selection))
    .groupBy(inventoryItems.policyType)
    .orderBy(inventoryItems.policyType)
}

const plannedColumns = {
  id: inventoryItems.id,
  policyType: inventoryItems.policyType,
  externalId: inventoryItems.externalId,
  displayName: inventoryItems.displayName,
  removed: sql<boolean>`${inventoryItems.removedAt} IS NOT NULL`,
  assignments: inventoryItems.assignments,
  // Policy sets and assignment filters name the list roleScopeTags.
  scopeTagIds: sql<unknown>`COALESCE(${inventoryItems.payload} -> 'roleScopeTagIds', ${inventoryItems.payload} -> 'roleScopeTags')`,
}

/**
 * The selection's items as the planner reads them, in the inventory list's order, page by page
 * (keyset on the list's index: flat memory, no id lists sent back and forth).
 */
export async function* plannedPages(
  db: Executor,
  tenantId: string,
  selection: BulkSelection,
  pageSize: number,
): AsyncGenerator<PlannedSource[]> {
  if ('itemIds' in selection && selection.itemIds.length === 0) return
  let after: { name: string; id: string } | null = null
  for (;;) {
    const cursor: { name: string; id: string } | null = after
    const rows: PlannedSource[] = await db
      .select(plannedColumns)
      .from(inventoryItems)
      .where(
        and(
          selectionWhere(tenantId, selection),
          cursor
            ? sql`(${inventoryItems.displayName}, ${inventoryItems.id}) > (${cursor.name}, ${cursor.id})`
            : undefined,
        ),
      )
      .orderBy(asc(inventoryItems.displayName), asc(inventoryItems.id))
      .limit(pageSize)
    if (rows.length === 0) return
    yield rows
    if (rows.length < pageSize) return
    const last: PlannedSource = rows.at(-1)!
    after = { name: last.displayName, id: last.id }
  }
}

export type FrozenItem = {
  position: number
  itemId: string
  policyType: string
  externalId: string
  displayName: string
  state: BulkItemState
  result: Record<string, unknown> | null
}

/** Freezes a run's selection (one statement per chunk, set-based). */
export async function insertFrozenItems(db: Executor, runId: string, tenantId: string, items: readonly FrozenItem[]) {
  if (items.length === 0) return
  const rows = items.map((i) => ({
    position: i.position,
    item_id: i.itemId,
    policy_type: i.policyType,
    external_id: i.externalId,
    display_name: i.displayName,
    state: i.state,
    result: i.result,
  }))
  await db.execute(sql`
    INSERT INTO bulk_operation_items (run_id, position, tenant_id, item_id, policy_type, external_id, display_name, state, result)
    SELECT ${runId}, r.position, ${tenantId}, r.item_id, r.policy_type, r.external_id, r.display_name, r.state, r.result
    FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
      AS r(position int, item_id uuid, policy_type text, external_id text, display_name text, state text, result jsonb)
    ON CONFLICT DO NOTHING`)
}

/** A run's frozen items from a position on, in order. */
export function frozenItems(
  db: Executor,
  runId: string,
  options: { states?: readonly BulkItemState[]; after?: number; limit: number },
) {
  return db
    .select()
    .from(bulkOperationItems)
    .where(
      and(
        eq(bulkOperationItems.runId, runId),
        options.states ? inArray(bulkOperationItems.state, [...options.states]) : undefined,
        options.after !== undefined ? sql`${bulkOperationItems.position} > ${options.after}` : undefined,
      ),
    )
    .orderBy(asc(bulkOperationItems.position))
    .limit(options.limit)
}

export async function setItemState(
  db: Executor,
  runId: string,
  position: number,
  state: BulkItemState,
  result: Record<string, unknown> | null,
) {
  await db
    .update(bulkOperationItems)
    .set({ state, result })
    .where(and(eq(bulkOperationItems.runId, runId), eq(bulkOperationItems.position, position)))
}

/** The backup set a bulk run took before changing anything (one per run). */
export async function backupOfRun(db: Executor, tenantId: string, runId: string) {
  const [row] = await db
    .select()
    .from(backupSets)
    .where(and(eq(backupSets.tenantId, tenantId), eq(backupSets.runId, runId)))
  return row
}

/** A selection's item count and its skips grouped by key (null: the item changes), computed in SQL. */
export async function planCounts(
  db: Executor,
  tenantId: string,
  selection: BulkSelection,
  skipKey: SQL,
): Promise<{ key: string | null; count: number }[]> {
  if ('itemIds' in selection && selection.itemIds.length === 0) return []
  const rows = await db
    .select({ key: sql<string | null>`${skipKey}`.as('skip_key'), count: sql<number>`count(*)::int` })
    .from(inventoryItems)
    .where(selectionWhere(tenantId, selection))
    .groupBy(sql`1`)
  return rows
}

/** The first `limit` items of a selection as the planner reads them (the rows a preview lists). */
export async function plannedFirst(
  db: Executor,
  tenantId: string,
  selection: BulkSelection,
  limit: number,
): Promise<PlannedSource[]> {
  if (limit === 0 || ('itemIds' in selection && selection.itemIds.length === 0)) return []
  return db
    .select(plannedColumns)
    .from(inventoryItems)
    .where(selectionWhere(tenantId, selection))
    .orderBy(asc(inventoryItems.displayName), asc(inventoryItems.id))
    .limit(limit)
}

/** Which of these ids are inventory items of the tenant. */
export async function existingIds(db: Executor, tenantId: string, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set()
  const rows = await db
    .select({ id: inventoryItems.id })
    .from(inventoryItems)
    .where(and(eq(inventoryItems.tenantId, tenantId), inArray(inventoryItems.id, [...ids])))
  return new Set(rows.map((r) => r.id))
}
