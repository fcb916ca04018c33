import { and, eq, sql } from 'drizzle-orm'
import type { Database, Executor } from '../../db/engine.ts'
import { operationRuns, type OperationRunRow } from '../../db/schema.ts'
import type { Catalog } from './catalog.ts'
import { publishRunUpdated } from './live.ts'
import type { JobQueue, RunJobData } from './queue.ts'
import { recoverRun } from './recovery.ts'
import { RunOwnershipLostError } from './run-errors.ts'

/**
 * The worker's side of a run's life: claim (queued → running), defer, heartbeat and hand-back.
 * With start-run, finish-run, cancel-run and recovery these are every transition of a run; each
 * is conditional on (run id, attempt, status), the fence that stops a stale worker.
 */

/** The fence: this run's attempt, in this status. */
export const attemptIs = (runId: string, attempt: number, status: OperationRunRow['status']) =>
  and(eq(operationRuns.id, runId), eq(operationRuns.attempt, attempt), eq(operationRuns.status, status))

/**
 * A handler's own transaction, fenced on its attempt: the work runs only while the attempt is
 * still running, and a re-queue or finish waits for it to commit (share lock on the run row). A
 * stale worker's write throws RunOwnershipLostError and writes nothing.
 */
export async function fencedTransaction<T>(
  db: Database,
  scope: { runId: string; attempt: number },
  work: (tx: Executor) => Promise<T>,
): Promise<T> {
  return db.transaction(async (tx) => {
    const owned = await tx
      .select({ id: operationRuns.id })
      .from(operationRuns)
      .where(attemptIs(scope.runId, scope.attempt, 'running'))
      .for('share')
    if (owned.length === 0) throw new RunOwnershipLostError(scope.runId, scope.attempt)
    return work(tx)
  })
}

/**
 * Claims a job's run for its attempt: the running run, `full` when the tenant is at the type's
 * limit, or undefined when there is nothing to do (cancelled while queued, finished elsewhere, or
 * a job of an attempt that was superseded).
 */
export async function claimRun(
  db: Database,
  catalog: Catalog,
  data: RunJobData,
): Promise<OperationRunRow | 'full' | undefined> {
  return db.transaction(async (tx) => {
    const [queued] = await tx
      .select()
      .from(operationRuns)
      .where(attemptIs(data.runId, data.attempt, 'queued'))
    if (!queued) return undefined
    if (await atTenantLimit(tx, catalog, queued)) return 'full' as const
    const [claimed] = await tx
      .update(operationRuns)
      .set({ status: 'running', startedAt: sql`coalesce(${operationRuns.startedAt}, now())`, heartbeatAt: sql`now()` })
      .where(attemptIs(data.runId, data.attempt, 'queued'))
      .returning()
    if (claimed) await publishRunUpdated(tx, claimed)
    return claimed
  })
}

/**
 * pg-boss's group limit counts active jobs, and two fetches at once can each pass it; the
 * limit a type asks for is therefore also checked here, under a per-tenant-and-type lock.
 */
async function atTenantLimit(tx: Executor, catalog: Catalog, run: { tenantId: string; type: string }) {
  const limit = catalog.has(run.type) ? catalog.spec(run.type).perTenantConcurrency : undefined
  if (!limit) return false
  await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtextextended(${`${run.tenantId}:${run.type}`}, 7415))`)
  const [row] = await tx
    .select({ n: sql<number>`count(*)::int` })
    .from(operationRuns)
    .where(
      and(
        eq(operationRuns.tenantId, run.tenantId),
        eq(operationRuns.type, run.type),
        eq(operationRuns.status, 'running'),
      ),
    )
  return (row?.n ?? 0) >= limit
}

/** Leaves the run queued behind a new job that becomes fetchable after a delay. */
export async function deferRun(
  db: Database,
  catalog: Catalog,
  queue: JobQueue,
  data: RunJobData,
  seconds: number,
): Promise<void> {
  await db.transaction(async (tx) => {
    const [run] = await tx
      .select()
      .from(operationRuns)
      .where(attemptIs(data.runId, data.attempt, 'queued'))
      .for('update')
    if (!run) return
    const perTenantConcurrency = catalog.has(run.type) ? catalog.spec(run.type).perTenantConcurrency : undefined
    const jobId = await queue.enqueue(tx, {
      type: run.type,
      tenantId: run.tenantId,
      runId: run.id,
      attempt: run.attempt,
      startAfterSeconds: seconds,
      perTenantConcurrency,
    })
    await tx.update(operationRuns).set({ jobId }).where(eq(operationRuns.id, run.id))
  })
}

/** One heartbeat of a running attempt: `lost` when the run is no longer this attempt's, else whether a cancel was requested. */
export async function beat(
  db: Database,
  run: Pick<OperationRunRow, 'id' | 'attempt'>,
): Promise<'lost' | 'cancel_requested' | 'ok'> {
  const [row] = await db
    .update(operationRuns)
    .set({ heartbeatAt: sql`now()` })
    .where(attemptIs(run.id, run.attempt, 'running'))
    .returning({ cancelRequestedAt: operationRuns.cancelRequestedAt })
  if (!row) return 'lost'
  return row.cancelRequestedAt ? 'cancel_requested' : 'ok'
}

/**
 * Graceful shutdown: the process hands its running attempt back without waiting for the reaper.
 * A hand-back is not a failure: it does not use up one of the type's attempts.
 */
export async function handBack(
  db: Database,
  catalog: Catalog,
  queue: JobQueue,
  run: Pick<OperationRunRow, 'id' | 'attempt'>,
): Promise<void> {
  await db.transaction(async (tx) => {
    const [current] = await tx
      .select()
      .from(operationRuns)
      .where(attemptIs(run.id, run.attempt, 'running'))
      .for('update')
    if (current) await recoverRun(tx, catalog, queue, current, 'the worker shut down', { handBack: true })
  })
}
