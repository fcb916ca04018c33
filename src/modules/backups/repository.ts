import { and, asc, desc, eq, ilike, sql } from 'drizzle-orm'
import type { Executor } from '../../db/engine.ts'
import { inventoryContents, backupRetention, backupSetItems, backupSets, users } from '../../db/schema.ts'
import type { Cursor } from '../../lib/cursor.ts'
import { UUID_PATTERN } from '../../lib/ids.ts'

const setColumns = { set: backupSets, initiatorName: users.name }

export type BackupListRow = { set: typeof backupSets.$inferSelect; initiatorName: string | null }

export async function listBackups(db: Executor, tenantId: string, page: { cursor: Cursor | undefined; limit: number }): Promise<BackupListRow[]> {
  const { cursor } = page
  return db
    .select(setColumns)
    .from(backupSets)
    .leftJoin(users, eq(users.id, backupSets.initiatorUserId))
    .where(
      and(
        eq(backupSets.tenantId, tenantId),
        cursor ? sql`(${backupSets.createdAt}, ${backupSets.id}) < (${cursor.at}::timestamptz, ${cursor.id}::uuid)` : undefined,
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
export async function listBackupItems(db: Executor, backupId: string, filters: BackupItemFilters, page: { after: { type: string; name: string; id: string } | undefined; limit: number }) {
  const { after } = page
  return db
    .select({ type: backupSetItems.policyType, id: backupSetItems.externalId, name: backupSetItems.displayName, hash: backupSetItems.contentHash })
    .from(backupSetItems)
    .where(
      and(
        eq(backupSetItems.backupId, backupId),
        filters.type ? eq(backupSetItems.policyType, filters.type) : undefined,
        filters.q ? ilike(backupSetItems.displayName, `%${filters.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`) : undefined,
        after ? sql`(${backupSetItems.policyType}, ${backupSetItems.displayName}, ${backupSetItems.externalId}) > (${after.type}, ${after.name}, ${after.id})` : undefined,
      ),
    )
    .orderBy(asc(backupSetItems.policyType), asc(backupSetItems.displayName), asc(backupSetItems.externalId))
    .limit(page.limit)
}

/** One pinned object with its content. */
export async function findBackupItem(db: Executor, tenantId: string, backupId: string, type: string, externalId: string) {
  const [row] = await db
    .select({ type: backupSetItems.policyType, id: backupSetItems.externalId, name: backupSetItems.displayName, hash: backupSetItems.contentHash, payload: inventoryContents.payload, assignments: inventoryContents.assignments })
    .from(backupSetItems)
    .innerJoin(inventoryContents, and(eq(inventoryContents.tenantId, tenantId), eq(inventoryContents.contentHash, backupSetItems.contentHash)))
    .where(and(eq(backupSetItems.backupId, backupId), eq(backupSetItems.policyType, type), eq(backupSetItems.externalId, externalId)))
  return row
}

export async function findRetention(db: Executor, tenantId: string) {
  const [row] = await db.select().from(backupRetention).where(eq(backupRetention.tenantId, tenantId))
  return row
}
