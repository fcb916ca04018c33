import { and, asc, eq, sql } from 'drizzle-orm'
import { alias } from 'drizzle-orm/pg-core'
import type { Executor } from '../../db/engine.ts'
import { operationRuns, schedules } from '../../db/schema.ts'

const lastRun = alias(operationRuns, 'last_run')
const withLastRun = {
  schedule: schedules,
  lastRun: { id: lastRun.id, status: lastRun.status, outcome: lastRun.outcome, createdAt: lastRun.createdAt },
}

export type ScheduleWithLastRun = Awaited<ReturnType<typeof listSchedules>>[number]

/** A tenant's schedules by name, with their last run. */
export async function listSchedules(db: Executor, tenantId: string) {
  return db
    .select(withLastRun)
    .from(schedules)
    .leftJoin(lastRun, eq(lastRun.id, schedules.lastRunId))
    .where(eq(schedules.tenantId, tenantId))
    .orderBy(asc(schedules.name), asc(schedules.id))
}

export async function findSchedule(db: Executor, tenantId: string, id: string) {
  const [row] = await db
    .select(withLastRun)
    .from(schedules)
    .leftJoin(lastRun, eq(lastRun.id, schedules.lastRunId))
    .where(and(eq(schedules.tenantId, tenantId), eq(schedules.id, id)))
  return row
}

export async function lockSchedule(db: Executor, tenantId: string, id: string) {
  const [row] = await db
    .select()
    .from(schedules)
    .where(and(eq(schedules.tenantId, tenantId), eq(schedules.id, id)))
    .for('update')
  return row
}

/**
 * The next due schedule of any tenant, locked for this transaction and skipped by every other
 * scheduler: many workers fire schedules side by side, never the same one twice.
 */
export async function claimDueSchedule(db: Executor, now: Date) {
  const [row] = await db
    .select()
    .from(schedules)
    .where(and(eq(schedules.enabled, true), sql`${schedules.nextRunAt} <= ${now.toISOString()}::timestamptz`))
    .orderBy(asc(schedules.nextRunAt))
    .limit(1)
    .for('update', { skipLocked: true })
  return row
}
