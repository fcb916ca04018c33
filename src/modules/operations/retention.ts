import { and, eq, isNotNull, sql } from 'drizzle-orm'
import type { Database } from '../../db/engine.ts'
import { notifications, operationRuns } from '../../db/schema.ts'

export type RetentionPolicy = { runDays: number; readNotificationDays: number }
export const DEFAULT_RETENTION: RetentionPolicy = { runDays: 180, readNotificationDays: 30 }

const RETENTION_LOCK = 7_415_002

/**
 * Deletes completed runs older than the policy and notifications read long ago. A notification
 * outlives its run (run_id becomes null); unread notifications stay. One worker at a time does it (advisory lock); pg-boss
 * prunes its own job rows on its own schedule (deleteAfterSeconds on each queue).
 */
export async function applyRetention(db: Database, policy: RetentionPolicy) {
  return db.transaction(async (tx) => {
    const [lock] = (
      await tx.execute<{ locked: boolean }>(sql`SELECT pg_try_advisory_xact_lock(${RETENTION_LOCK}) AS locked`)
    ).rows
    if (!lock?.locked) return null
    const runs = await tx
      .delete(operationRuns)
      .where(
        and(
          eq(operationRuns.status, 'completed'),
          sql`${operationRuns.completedAt} < now() - make_interval(days => ${policy.runDays})`,
        ),
      )
      .returning({ id: operationRuns.id })
    const read = await tx
      .delete(notifications)
      .where(
        and(
          isNotNull(notifications.readAt),
          sql`${notifications.readAt} < now() - make_interval(days => ${policy.readNotificationDays})`,
        ),
      )
      .returning({ id: notifications.id })
    return { runs: runs.length, notifications: read.length }
  })
}
