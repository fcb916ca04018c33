import { and, asc, eq, inArray, sql } from 'drizzle-orm'
import type { Database, Executor } from '../../db/engine.ts'
import {
  inventoryContents,
  backupSetItems,
  backupSets,
  type BackupKind,
  type BackupSetRow,
  type BackupStatus,
} from '../../db/schema.ts'
import { uuidv7 } from '../../lib/ids.ts'
import { collectContents, holdContentStore, storeContents } from '../inventory/content-store.ts'

/** One object as a set pins it. */
export type BackupObject = {
  policyType: string
  externalId: string
  displayName: string
  contentHash: string
  payload: Record<string, unknown>
  assignments: Record<string, unknown>[]
}

export type MissingObject = { type: string; id: string; name: string; code: string; message: string }

/** The manifest a set keeps (and its ZIP carries, with every object's hash added). */
export type BackupManifest = {
  format: 'tenantatlas-backup'
  version: 1
  name: string
  /** An import's: what the file claims (ADR 022). */
  source_tenant: { id: string; name: string; entra_tenant_id: string }
  /** Imports only: the manifest carried this workspace's signature, so its source is a fact, not a claim. */
  source_verified?: boolean
  created_at: string
  initiator: { user_id: string | null; name: string }
  origin: 'created' | 'imported'
  item_count: number
  counts_by_type: Record<string, number>
  missing: MissingObject[]
  /** A version restore's one-item set: the version it pins. */
  version_id?: string
}

/**
 * The one place a manifest is written: the format, its version and the item count (from the
 * counts) are filled in; types with no object are left out of the counts.
 */
export function backupManifest(
  fields: Omit<BackupManifest, 'format' | 'version' | 'item_count' | 'created_at'> & { created_at?: string },
): BackupManifest {
  const counts = Object.fromEntries(Object.entries(fields.counts_by_type).filter(([, n]) => n > 0))
  return {
    format: 'tenantatlas-backup',
    version: 1,
    ...fields,
    created_at: fields.created_at ?? new Date().toISOString(),
    item_count: Object.values(counts).reduce((a, b) => a + b, 0),
    counts_by_type: counts,
  }
}

const ROWS_PER_INSERT = 500

/**
 * The set of a run: created by the start command or, for a re-run or a schedule, by the handler (one per run).
 * `kind`: `backup` for a backup.create run's set; another run's set (a bulk run's "before") is `system`.
 */
export async function ensureSetOfRun(
  db: Executor,
  input: { tenantId: string; runId: string; name: string; initiatorUserId: string | null; kind?: BackupKind },
): Promise<BackupSetRow> {
  await db
    .insert(backupSets)
    .values({
      id: uuidv7(),
      tenantId: input.tenantId,
      name: input.name,
      status: 'running',
      origin: 'created',
      kind: input.kind ?? 'system',
      runId: input.runId,
      initiatorUserId: input.initiatorUserId,
    })
    .onConflictDoNothing({ target: backupSets.runId })
  const [row] = await db.select().from(backupSets).where(eq(backupSets.runId, input.runId))
  return row!
}

/** Pins objects in a set. Content is stored once per tenant and hash in inventory_contents, shared with versions: an object the sync already saw adds no content row. */
export async function pinObjects(
  db: Executor,
  tenantId: string,
  backupId: string,
  objects: readonly BackupObject[],
): Promise<void> {
  if (objects.length === 0) return
  // The content is referenced by this transaction's items: no garbage collection meanwhile (content-store.ts).
  await holdContentStore(db, tenantId)
  for (let i = 0; i < objects.length; i += ROWS_PER_INSERT) {
    const chunk = objects.slice(i, i + ROWS_PER_INSERT)
    const payloads = new Map(
      chunk.map((o) => [
        o.contentHash,
        { tenantId, contentHash: o.contentHash, payload: o.payload, assignments: o.assignments },
      ]),
    )
    await storeContents(db, [...payloads.values()])
    await db
      .insert(backupSetItems)
      .values(
        chunk.map((o) => ({
          backupId,
          policyType: o.policyType,
          externalId: o.externalId,
          displayName: o.displayName,
          contentHash: o.contentHash,
        })),
      )
      .onConflictDoUpdate({
        target: [backupSetItems.backupId, backupSetItems.policyType, backupSetItems.externalId],
        set: { displayName: sql`excluded.display_name`, contentHash: sql`excluded.content_hash` },
      })
  }
}

/** Unpins a set's objects; returns the content hashes they used (for releaseContents once committed). */
export async function emptySet(db: Executor, backupId: string): Promise<string[]> {
  const gone = await db
    .delete(backupSetItems)
    .where(eq(backupSetItems.backupId, backupId))
    .returning({ hash: backupSetItems.contentHash })
  return [...new Set(gone.map((g) => g.hash))]
}

/** The content hashes the given sets use (read before deleting them, for releaseContents). */
export async function contentsOfSets(db: Executor, backupIds: readonly string[]): Promise<string[]> {
  if (backupIds.length === 0) return []
  const rows = await db
    .selectDistinct({ hash: backupSetItems.contentHash })
    .from(backupSetItems)
    .where(inArray(backupSetItems.backupId, [...backupIds]))
  return rows.map((r) => r.hash)
}

const COLLECT_BATCH = 5000

/**
 * Garbage-collects content rows among `hashes` that no version and no set references any more
 * (after the sets that used them were deleted and committed): short transactions of 5,000
 * hashes each, so writers of the tenant wait briefly. Returns the number of rows deleted.
 */
export async function releaseContents(db: Database, tenantId: string, hashes: readonly string[]): Promise<number> {
  let freed = 0
  for (let i = 0; i < hashes.length; i += COLLECT_BATCH) {
    const batch = hashes.slice(i, i + COLLECT_BATCH)
    freed += await db.transaction((tx) => collectContents(tx, tenantId, batch))
  }
  return freed
}

/** Counts per type of a set's pinned objects. */
export async function countsOf(db: Executor, backupId: string): Promise<Record<string, number>> {
  const rows = await db
    .select({ type: backupSetItems.policyType, n: sql<number>`count(*)::int` })
    .from(backupSetItems)
    .where(eq(backupSetItems.backupId, backupId))
    .groupBy(backupSetItems.policyType)
  return Object.fromEntries(rows.sort((a, b) => a.type.localeCompare(b.type)).map((r) => [r.type, r.n]))
}

/** How many missing entries the stored manifest keeps; the whole list is in its own column (paged by GET …/missing). */
export const MISSING_PREVIEW = 10

export async function finishSet(db: Executor, backupId: string, status: BackupStatus, manifest: BackupManifest) {
  const missing = manifest.missing
  await db
    .update(backupSets)
    .set({
      status,
      manifest: { ...manifest, missing: missing.slice(0, MISSING_PREVIEW) },
      missing: missing.length > MISSING_PREVIEW ? missing : null,
      missingCount: missing.length,
      itemCount: manifest.item_count,
      countsByType: manifest.counts_by_type,
      completedAt: new Date(),
    })
    .where(eq(backupSets.id, backupId))
}

/** A set's objects in a stable order (type, display name, id), page by page: flat memory whatever the set's size. */
export async function* objectsOf(
  db: Executor,
  tenantId: string,
  backupId: string,
  pageSize = 1000,
): AsyncGenerator<BackupObject[]> {
  let after: { type: string; name: string; id: string } | null = null
  for (;;) {
    const cursor: { type: string; name: string; id: string } | null = after
    const rows: BackupObject[] = await db
      .select({
        policyType: backupSetItems.policyType,
        externalId: backupSetItems.externalId,
        displayName: backupSetItems.displayName,
        contentHash: backupSetItems.contentHash,
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
          cursor
            ? sql`(${backupSetItems.policyType}, ${backupSetItems.displayName}, ${backupSetItems.externalId}) > (${cursor.type}, ${cursor.name}, ${cursor.id})`
            : undefined,
        ),
      )
      .orderBy(asc(backupSetItems.policyType), asc(backupSetItems.displayName), asc(backupSetItems.externalId))
      .limit(pageSize)
    if (rows.length === 0) return
    yield rows
    const last: BackupObject = rows.at(-1)!
    after = { type: last.policyType, name: last.displayName, id: last.externalId }
    if (rows.length < pageSize) return
  }
}
