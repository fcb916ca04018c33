import { and, desc, eq, inArray, isNull, ne, or, sql, type SQL } from 'drizzle-orm'
import type { Database, Executor } from '../../db/engine.ts'
import { preparedFor } from '../../db/prepared.ts'
import {
  operationRunItems,
  operationRuns,
  type RunItemStatus,
  type RunOutcome,
  type RunStatus,
  schedules,
  users,
} from '../../db/schema.ts'
import type { Cursor } from '../../lib/cursor.ts'

export const ACTIVE_STATUSES = ['queued', 'running'] as const

const runWithInitiator = {
  run: operationRuns,
  initiatorName: users.name,
  scheduleName: schedules.name,
}

export type RunWithNames = {
  run: typeof operationRuns.$inferSelect
  initiatorName: string | null
  scheduleName: string | null
}

export async function findRun(db: Executor, tenantId: string, runId: string) {
  const [row] = await db
    .select(runWithInitiator)
    .from(operationRuns)
    .leftJoin(users, eq(users.id, operationRuns.initiatorUserId))
    .leftJoin(schedules, eq(schedules.id, operationRuns.scheduleId))
    .where(and(eq(operationRuns.tenantId, tenantId), eq(operationRuns.id, runId)))
  return row
}

export async function lockRun(db: Executor, tenantId: string, runId: string) {
  const [row] = await db
    .select()
    .from(operationRuns)
    .where(and(eq(operationRuns.tenantId, tenantId), eq(operationRuns.id, runId)))
    .for('update')
  return row
}

export async function findActiveByIdentity(db: Executor, tenantId: string, type: string, identityKey: string) {
  const [row] = await db
    .select()
    .from(operationRuns)
    .where(
      and(
        eq(operationRuns.tenantId, tenantId),
        eq(operationRuns.type, type),
        eq(operationRuns.identityKey, identityKey),
        inArray(operationRuns.status, [...ACTIVE_STATUSES]),
      ),
    )
  return row
}

export type RunFilters = {
  type?: string | undefined
  status?: RunStatus | undefined
  outcome?: RunOutcome | undefined
  /** A user id, or "system" for runs nobody started. */
  initiator?: string | undefined
}

/** Monitoring: a tenant's runs, newest first, keyset-paginated on (created_at, id). */
export async function listRuns(
  db: Executor,
  tenantId: string,
  filters: RunFilters,
  page: { cursor?: Cursor | undefined; limit: number },
) {
  const conditions: (SQL | undefined)[] = [eq(operationRuns.tenantId, tenantId)]
  if (filters.type) conditions.push(eq(operationRuns.type, filters.type))
  if (filters.status) conditions.push(eq(operationRuns.status, filters.status))
  if (filters.outcome) conditions.push(eq(operationRuns.outcome, filters.outcome))
  if (filters.initiator === 'system') conditions.push(isNull(operationRuns.initiatorUserId))
  else if (filters.initiator) conditions.push(eq(operationRuns.initiatorUserId, filters.initiator))
  if (page.cursor) {
    conditions.push(
      sql`(${operationRuns.createdAt}, ${operationRuns.id}) < (${page.cursor.at}::timestamptz, ${page.cursor.id}::uuid)`,
    )
  }
  return db
    .select(runWithInitiator)
    .from(operationRuns)
    .leftJoin(users, eq(users.id, operationRuns.initiatorUserId))
    .leftJoin(schedules, eq(schedules.id, operationRuns.scheduleId))
    .where(and(...conditions))
    .orderBy(desc(operationRuns.createdAt), desc(operationRuns.id))
    .limit(page.limit)
}

// The progress widget polls this (when SSE is unavailable) for every viewer: prepared once per process.
const activeRunsQuery = preparedFor((db, name) =>
  db
    .select(runWithInitiator)
    .from(operationRuns)
    .leftJoin(users, eq(users.id, operationRuns.initiatorUserId))
    .leftJoin(schedules, eq(schedules.id, operationRuns.scheduleId))
    .where(
      and(eq(operationRuns.tenantId, sql.placeholder('tenantId')), inArray(operationRuns.status, [...ACTIVE_STATUSES])),
    )
    .orderBy(desc(operationRuns.createdAt))
    .limit(100)
    .prepare(name('active_runs')),
)

/** The progress widget: a tenant's queued and running runs (at most 100), newest first. */
export async function listActiveRuns(db: Database, tenantId: string) {
  return activeRunsQuery(db).execute({ tenantId })
}

/** A run's per-item results in recording order, keyset-paginated on the item id. */
/** `blocked` is a skip with the code `blocked` (it could not be written), `written` what the run wrote or tried to. */
function itemFilter(status: RunItemStatus | 'written' | 'blocked' | undefined): SQL | undefined {
  if (status === undefined) return undefined
  if (status === 'written') return inArray(operationRunItems.status, ['succeeded', 'failed'])
  if (status === 'blocked') return and(eq(operationRunItems.status, 'skipped'), eq(operationRunItems.code, 'blocked'))
  if (status === 'skipped')
    return and(
      eq(operationRunItems.status, 'skipped'),
      or(isNull(operationRunItems.code), ne(operationRunItems.code, 'blocked')),
    )
  return eq(operationRunItems.status, status)
}

export async function listRunItems(
  db: Executor,
  runId: string,
  filters: { status?: RunItemStatus | 'written' | 'blocked' | undefined },
  page: { after?: number | undefined; limit: number },
) {
  return db
    .select()
    .from(operationRunItems)
    .where(
      and(
        eq(operationRunItems.runId, runId),
        itemFilter(filters.status),
        page.after === undefined ? undefined : sql`${operationRunItems.id} > ${page.after}`,
      ),
    )
    .orderBy(operationRunItems.id)
    .limit(page.limit)
}
