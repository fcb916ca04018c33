import { and, desc, eq, gte, inArray, lt, or, type SQL } from 'drizzle-orm'
import type { Executor } from '../../db/engine.ts'
import {
  inventoryChanges,
  inventoryContents,
  inventoryVersions,
  type ChangeKind,
  type ChangedBy,
  type InventoryChangeRow,
  type InventoryVersionRow,
} from '../../db/schema.ts'
import type { Cursor } from '../../lib/cursor.ts'
import { UUID_PATTERN } from '../../lib/ids.ts'

/** The versions and change history of the inventory (issue 13): reads only, the sync writes them (store.ts). */

export async function listVersions(db: Executor, tenantId: string, itemId: string): Promise<InventoryVersionRow[]> {
  return db
    .select()
    .from(inventoryVersions)
    .where(and(eq(inventoryVersions.tenantId, tenantId), eq(inventoryVersions.itemId, itemId)))
    .orderBy(desc(inventoryVersions.number))
}

export type VersionWithContent = InventoryVersionRow & {
  payload: Record<string, unknown>
  assignments: Record<string, unknown>[]
}

const versionColumns = {
  id: inventoryVersions.id,
  tenantId: inventoryVersions.tenantId,
  itemId: inventoryVersions.itemId,
  number: inventoryVersions.number,
  contentHash: inventoryVersions.contentHash,
  capturedAt: inventoryVersions.capturedAt,
  runId: inventoryVersions.runId,
  changedBy: inventoryVersions.changedBy,
  payload: inventoryContents.payload,
  assignments: inventoryContents.assignments,
}

/** One version of an item with its content, by id or by number. */
export async function findVersion(
  db: Executor,
  tenantId: string,
  itemId: string,
  ref: { id: string } | { number: number },
): Promise<VersionWithContent | undefined> {
  if ('id' in ref && !UUID_PATTERN.test(ref.id)) return undefined
  const [row] = await db
    .select(versionColumns)
    .from(inventoryVersions)
    .innerJoin(
      inventoryContents,
      and(
        eq(inventoryContents.tenantId, inventoryVersions.tenantId),
        eq(inventoryContents.contentHash, inventoryVersions.contentHash),
      ),
    )
    .where(
      and(
        eq(inventoryVersions.tenantId, tenantId),
        eq(inventoryVersions.itemId, itemId),
        'id' in ref ? eq(inventoryVersions.id, ref.id) : eq(inventoryVersions.number, ref.number),
      ),
    )
  return row
}

export type ChangeFilters = {
  since?: Date | undefined
  until?: Date | undefined
  type?: string | undefined
  kind?: ChangeKind | undefined
  itemId?: string | undefined
}

/** The change history, newest first, keyset-paginated on (detected_at, id); served by the (tenant, [type,] detected_at, id) indexes. */
export async function listChanges(
  db: Executor,
  tenantId: string,
  filters: ChangeFilters,
  page: { cursor: Cursor | undefined; limit: number },
): Promise<InventoryChangeRow[]> {
  const where: (SQL | undefined)[] = [eq(inventoryChanges.tenantId, tenantId)]
  if (filters.type) where.push(eq(inventoryChanges.policyType, filters.type))
  if (filters.kind) where.push(eq(inventoryChanges.kind, filters.kind))
  if (filters.itemId) where.push(eq(inventoryChanges.itemId, filters.itemId))
  if (filters.since) where.push(gte(inventoryChanges.detectedAt, filters.since))
  if (filters.until) where.push(lt(inventoryChanges.detectedAt, filters.until))
  if (page.cursor) {
    const at = new Date(page.cursor.at)
    where.push(
      or(
        lt(inventoryChanges.detectedAt, at),
        and(eq(inventoryChanges.detectedAt, at), lt(inventoryChanges.id, page.cursor.id)),
      ),
    )
  }
  return db
    .select()
    .from(inventoryChanges)
    .where(and(...where))
    .orderBy(desc(inventoryChanges.detectedAt), desc(inventoryChanges.id))
    .limit(page.limit)
}

/** Who made these change entries (`changed_by`, once the sync attributed them): the alerts dispatcher's actors. */
export async function changeAuthors(db: Executor, changeIds: readonly string[]): Promise<Map<string, ChangedBy>> {
  if (changeIds.length === 0) return new Map()
  const rows = await db
    .select({ id: inventoryChanges.id, changedBy: inventoryChanges.changedBy })
    .from(inventoryChanges)
    .where(inArray(inventoryChanges.id, [...changeIds]))
  return new Map(rows.flatMap((r) => (r.changedBy ? [[r.id, r.changedBy] as const] : [])))
}
