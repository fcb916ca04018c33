import { and, eq, inArray, sql } from 'drizzle-orm'
import type { Executor } from '../../db/engine.ts'
import { backupRetention, backupSets } from '../../db/schema.ts'
import type { RunHandler } from '../operations/handlers.ts'
import { contentsOfSets, releaseContents } from './store.ts'

/** The sets retention no longer keeps: beyond the newest `keepLast`, older than `keepDays`, not protected, not being written. */
export async function setsToPrune(db: Executor, tenantId: string, policy: { keepLast: number; keepDays: number }, now = new Date()) {
  const cutoff = new Date(now.getTime() - policy.keepDays * 86_400_000)
  const { rows } = await db.execute<{ id: string; name: string }>(sql`
    SELECT id, name FROM (
      SELECT id, name, protected, status, created_at,
             row_number() OVER (ORDER BY created_at DESC, id DESC) AS position
      FROM backup_sets WHERE tenant_id = ${tenantId} AND status <> 'running'
    ) ranked
    WHERE NOT protected AND position > ${policy.keepLast} AND created_at < ${cutoff.toISOString()}
    ORDER BY created_at, id`)
  return rows
}

/** The `backup.prune` handler: deletes what the tenant's retention policy no longer keeps, one per-item result per set, and the content only those sets used. */
export function createPruneHandler(): RunHandler {
  return async (run) => {
    const tenantId = run.run.tenantId
    const [policy] = await run.db.select().from(backupRetention).where(eq(backupRetention.tenantId, tenantId))
    if (!policy) {
      await run.progress({ total: 0, processed: 0 })
      return
    }
    const doomed = await setsToPrune(run.db, tenantId, policy)
    await run.progress({ total: doomed.length, processed: 0 })
    if (doomed.length === 0) return
    // Re-checked in the deleting statement: a set protected meanwhile is kept.
    const { deleted, hashes } = await run.transaction(async (tx) => {
      const hashes = await contentsOfSets(tx, doomed.map((d) => d.id))
      const deleted = await tx
        .delete(backupSets)
        .where(and(eq(backupSets.tenantId, tenantId), inArray(backupSets.id, doomed.map((d) => d.id)), eq(backupSets.protected, false)))
        .returning({ id: backupSets.id })
      return { deleted, hashes }
    })
    // Content the deleted sets used and nothing else references any more (ADR 018).
    await releaseContents(run.db, tenantId, hashes)
    const gone = new Set(deleted.map((d) => d.id))
    // Outside the transaction: results are written through the run's own connection.
    await run.recordItems(
        doomed.map((d) => ({
          target: { type: 'backup', id: d.id, name: d.name },
          action: 'delete',
          status: gone.has(d.id) ? ('succeeded' as const) : ('skipped' as const),
          ...(gone.has(d.id) ? {} : { code: 'protected', message: 'Protected while retention ran: kept' }),
        })),
    )
  }
}
