import { and, asc, desc, eq, getTableColumns, ilike, sql } from 'drizzle-orm'
import type { Executor } from '../../db/engine.ts'
import { inventoryContents, backupRetention, backupSetItems, backupSets, users } from '../../db/schema.ts'
import type { Cursor } from '../../lib/cursor.ts'
import { UUID_PATTERN } from '../../lib/ids.ts'

/**
 * A set's summary: every column but the whole missing list (an import's may hold 250,000 entries,
 * issue 22); the manifest keeps the first few, the count is a column.
 */
const { missing: _wholeList, ...summaryColumns } = getTableColumns(backupSets)
const setColumns = { set: summaryColumns, initiatorName: users.name }

export type BackupListRow = { set: Omit<typeof backupSets.$inferSelect, 'missing'>; initiatorName: string | null }

/** One page of a set's missing entries, from position `after` (exclusive; 0: the start). */
export async function listMissing(db: Executor, backupId: string, page: { after: number; limit: number }) {
  const { rows } = await db.execute<{ e: Record<string, unknown>; n: string }>(sql`
    SELECT t.e, t.n FROM backup_sets s,
      jsonb_array_elements(coalesce(s.missing, CASE WHEN jsonb_typeof(s.manifest->'missing') = 'array' THEN s.manifest->'missing' END, '[]'::jsonb))
      WITH ORDINALITY AS t(e, n)
    WHERE s.id = ${backupId} AND t.n > ${page.after}
    ORDER BY t.n LIMIT ${page.limit}`)
  return rows.map((r) => ({ entry: r.e, position: Number(r.n) }))
}

export async function listBackups(
  db: Executor,
  tenantId: string,
  page: { cursor: Cursor | undefined; limit: number },
): Promise<BackupListRow[]> {
  const { cursor } = page
  return db
    .select(setColumns)
    .from(backupSets)
    .leftJoin(users, eq(users.id, backupSets.initiatorUserId))
    .where(
      and(
        eq(backupSets.tenantId, tenantId),
        cursor
          ? sql`(${backupSets.createdAt}, ${backupSets.id}) < (${cursor.at}::timestamptz, ${cursor.id}::uuid)`
          : undefined,
      ),
    )
    .orderBy(desc(backupSets.createdAt), desc(backupSets.id))
    .limit(page.limit)
}

export async function findBackup(db: Executor, tenantId: string, backupId: string): Promise<BackupListRow | undefined> {
  if (!UUID_PATTERN.test(backupId)) return undefined
  const [row] = await db
    .select(setColumns)
    .from(backupSets)
    .leftJoin(users, eq(users.id, backupSets.initiatorUserId))
    .where(and(eq(backupSets.tenantId, tenantId), eq(backupSets.id, backupId)))
  return row
}

export type BackupItemFilters = { type?: string | undefined; q?: string | undefined }

/** A set's objects by type and display name (keyset on type, name, id), without payloads. */
export async function listBackupItems(
  db: Executor,
  backupId: string,
  filters: BackupItemFilters,
  page: { after: { type: string; name: string; id: string } | undefined; limit: number },
) {
  const { after } = page
  return db
    .select({
      type: backupSetItems.policyType,
      id: backupSetItems.externalId,
      name: backupSetItems.displayName,
      hash: backupSetItems.contentHash,
    })
    .from(backupSetItems)
    .where(
      and(
        eq(backupSetItems.backupId, backupId),
        filters.type ? eq(backupSetItems.policyType, filters.type) : undefined,
        filters.q ? ilike(backupSetItems.displayName, `%${filters.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`) : undefined,
        after
          ? sql`(${backupSetItems.policyType}, ${backupSetItems.displayName}, ${backupSetItems.externalId}) > (${after.type}, ${after.name}, ${after.id})`
          : undefined,
      ),
    )
    .orderBy(asc(backupSetItems.policyType), asc(backupSetItems.displayName), asc(backupSetItems.externalId))
    .limit(page.limit)
}

/** One pinned object with its content. */
export async function findBackupItem(
  db: Executor,
  tenantId: string,
  backupId: string,
  type: string,
  externalId: string,
) {
  const [row] = await db
    .select({
      type: backupSetItems.policyType,
      id: backupSetItems.externalId,
      name: backupSetItems.displayName,
      hash: backupSetItems.contentHash,
      payload: inventoryContents.payload,
      assignments: inventoryContents.assignments,
    })
    .from(backupSetItems)
    .innerJoin(
      inventoryContents,
      and(eq(inventoryContents.tenantId, tenantId), eq(inventoryContents.contentHash, backupSetItems.contentHash)),
    )
    .where(
      and(
        eq(backupSetItems.backupId, backupId),
        eq(backupSetItems.policyType, type),
        eq(backupSetItems.externalId, externalId),
      ),
    )
  return row
}

export async function findRetention(db: Executor, tenantId: string) {
  const [row] = await db.select().from(backupRetention).where(eq(backupRetention.tenantId, tenantId))
  return row
}
