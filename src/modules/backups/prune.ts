import { and, eq, inArray, sql } from 'drizzle-orm'
import type { Executor } from '../../db/engine.ts'
import { backupRetention, backupSets } from '../../db/schema.ts'
import type { RunHandler } from '../operations/handlers.ts'
import { contentsOfSets, releaseContents } from './store.ts'

/**
 * The sets retention no longer keeps: beyond the newest `keepLast`, older than `keepDays`, not
 * protected, not being written. Full backups (backup runs' complete or partial sets, made by people
 * or schedules) are ranked on their own: imports, version snapshots and other runs' sets never
 * push one out (ADR 022); they are ranked among themselves by the same policy.
 */
export async function setsToPrune(
  db: Executor,
  tenantId: string,
  policy: { keepLast: number; keepDays: number },
  now = new Date(),
) {
  const cutoff = new Date(now.getTime() - policy.keepDays * 86_400_000)
  const { rows } = await db.execute<{ id: string; name: string; full_backup: boolean }>(sql`
    SELECT id, name, full_backup FROM (
      SELECT id, name, protected, created_at, full_backup,
             row_number() OVER (PARTITION BY full_backup ORDER BY created_at DESC, id DESC) AS position
      FROM (
        SELECT *, (kind = 'backup' AND status IN ('complete', 'partial')) AS full_backup
        FROM backup_sets WHERE tenant_id = ${tenantId} AND status <> 'running'
      ) sets
    ) ranked
    WHERE NOT protected AND position > ${policy.keepLast} AND created_at < ${cutoff.toISOString()}
    ORDER BY created_at, id`)
  return rows
}

/** How many full backups the tenant has (complete or partial backup runs' sets). */
async function fullBackupCount(db: Executor, tenantId: string): Promise<number> {
  const { rows } = await db.execute<{ n: string }>(sql`
    SELECT count(*) AS n FROM backup_sets WHERE tenant_id = ${tenantId} AND kind = 'backup' AND status IN ('complete', 'partial')`)
  return Number(rows[0]?.n ?? 0)
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
    const candidates = await setsToPrune(run.db, tenantId, policy)
    // The tenant's last full backup goes only when the run was asked to (delete_last_full_backup).
    const full = candidates.filter((c) => c.full_backup)
    const deleteLast = (run.context as { delete_last_full_backup?: boolean }).delete_last_full_backup === true
    const lastGoes = !deleteLast && full.length > 0 && full.length >= (await fullBackupCount(run.db, tenantId))
    const keptLast = lastGoes ? full.at(-1)! : undefined
    const doomed = candidates.filter((c) => c !== keptLast)
    await run.progress({ total: candidates.length, processed: 0 })
    if (keptLast) {
      await run.recordItems([
        {
          target: { type: 'backup', id: keptLast.id, name: keptLast.name },
          action: 'delete',
          status: 'skipped',
          code: 'last_full_backup',
          message: "The tenant's last full backup: kept (prune with delete_last_full_backup to delete it)",
        },
      ])
    }
    if (doomed.length === 0) return
    // Re-checked in the deleting statement: a set protected meanwhile is kept.
    const { deleted, hashes } = await run.transaction(async (tx) => {
      const hashes = await contentsOfSets(
        tx,
        doomed.map((d) => d.id),
      )
      const deleted = await tx
        .delete(backupSets)
        .where(
          and(
            eq(backupSets.tenantId, tenantId),
            inArray(
              backupSets.id,
              doomed.map((d) => d.id),
            ),
            eq(backupSets.protected, false),
          ),
        )
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
