import { sql } from 'drizzle-orm'
import { inventoryContents } from '../../db/schema.ts'
import type { Executor } from '../../db/engine.ts'

/**
 * The content store's one rule for writers and the garbage collector (ADR 018).
 *
 * `inventory_contents` holds one row per (tenant, SHA-256 of `{payload, assignments}`), shared by
 * versions (issue 13) and backup sets (issue 14). A writer inserts the content it needs (ON
 * CONFLICT DO NOTHING: a row that exists is used as it is, unlocked) and then a row referencing
 * it, in one transaction. Deleting content nothing references would race with such a writer: the
 * collector's snapshot does not see the writer's uncommitted reference and would delete the row
 * the writer has just found there. So, per tenant, writers hold a shared advisory lock for their
 * transaction (they never wait for each other), and the collector an exclusive one: it waits for
 * every writer in flight to commit, and its DELETE (a new snapshot, taken after the lock) sees their
 * references; a writer that comes later waits for it, then finds the row gone and inserts it again.
 */

/** Called by a writer before it inserts content it will reference; held until its transaction ends. */
export async function holdContentStore(tx: Executor, tenantId: string): Promise<void> {
  await tx.execute(sql`SELECT pg_advisory_xact_lock_shared(hashtext('inventory_contents'), hashtext(${tenantId}))`)
}

/**
 * Stores content rows (tenant, hash, payload, assignments) that are not stored yet: content is
 * addressed by its hash, so a row already there is the same content. The caller holds the store
 * (`holdContentStore`) for its transaction, since it references what it stores.
 */
export async function storeContents(
  tx: Executor,
  rows: readonly (typeof inventoryContents.$inferInsert)[],
): Promise<void> {
  if (rows.length === 0) return
  await tx
    .insert(inventoryContents)
    .values([...rows])
    .onConflictDoNothing()
}

/**
 * Deletes those of `candidates` (content hashes of the tenant) that no version and no backup set
 * references any more. Run it in a short transaction of its own, after the references were
 * deleted and committed: it holds the tenant's content store exclusively until that transaction ends.
 * Returns the number of content rows deleted.
 */
export async function collectContents(tx: Executor, tenantId: string, candidates: readonly string[]): Promise<number> {
  const hashes = [...new Set(candidates)].filter((h) => /^[0-9a-f]{64}$/.test(h))
  if (hashes.length === 0) return 0
  await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext('inventory_contents'), hashtext(${tenantId}))`)
  const { rows } = await tx.execute<{ n: number }>(sql`
    WITH gone AS (
      DELETE FROM inventory_contents c
      WHERE c.tenant_id = ${tenantId} AND c.content_hash = ANY(${`{${hashes.join(',')}}`}::text[])
        AND NOT EXISTS (SELECT 1 FROM inventory_versions v WHERE v.tenant_id = c.tenant_id AND v.content_hash = c.content_hash)
        AND NOT EXISTS (SELECT 1 FROM backup_set_items i JOIN backup_sets s ON s.id = i.backup_id WHERE s.tenant_id = c.tenant_id AND i.content_hash = c.content_hash)
      RETURNING 1)
    SELECT count(*)::int AS n FROM gone`)
  return rows[0]!.n
}
