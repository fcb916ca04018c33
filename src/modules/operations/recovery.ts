import { and, eq, sql, type SQLWrapper } from 'drizzle-orm'
import type { Database, Executor } from '../../db/engine.ts'
import { operationRunItems, operationRuns, type OperationRunRow } from '../../db/schema.ts'
import { recordAuditEvent } from '../audit/record-audit-event.ts'
import type { Catalog } from './catalog.ts'
import { finishRun } from './finish-run.ts'
import { publishRunUpdated } from './live.ts'
import type { JobQueue } from './queue.ts'

const SYSTEM = { kind: 'system' } as const

export type RecoveryResult = 'requeued' | 'failed' | 'cancelled' | 'skipped'

/**
 * A running run whose worker is gone (stale heartbeat, or this process shutting down): an
 * idempotent type gets another attempt, from the start, on any worker; any other type, or one
 * out of attempts, ends `failed` with `worker_lost`. A run whose cancel was requested ends
 * `cancelled`. Fenced on the attempt, so two reapers cannot both act on it. A graceful hand-back
 * (`handBack`) is not a failure: the new attempt does not count against the type's limit.
 */
export async function recoverRun(
  tx: Executor,
  catalog: Catalog,
  jobs: JobQueue,
  run: OperationRunRow,
  why: string,
  options: { handBack?: boolean } = {},
): Promise<RecoveryResult> {
  const from = ['running'] as const
  // The dead attempt's job would otherwise stay `active` in pg-boss and hold the tenant's slot.
  if (run.jobId) await jobs.retire(tx, run.type, run.jobId)
  if (run.cancelRequestedAt) {
    return (await finishRun(tx, catalog, {
      runId: run.id,
      attempt: run.attempt,
      from,
      outcome: 'cancelled',
      actor: SYSTEM,
    }))
      ? 'cancelled'
      : 'skipped'
  }
  const spec = catalog.has(run.type) ? catalog.spec(run.type) : undefined
  // The attempt number stays the fence; the limit counts attempts that were not handed back.
  const counted = run.attempt - run.handbacks
  if (spec?.idempotent && (options.handBack || counted < spec.maxAttempts)) {
    const attempt = run.attempt + 1
    const handbacks = run.handbacks + (options.handBack ? 1 : 0)
    const jobId = await jobs.enqueue(tx, {
      type: run.type,
      tenantId: run.tenantId,
      runId: run.id,
      attempt,
      perTenantConcurrency: spec.perTenantConcurrency,
    })
    // The new attempt starts over: the dead attempt's per-item results go with its counts.
    await tx.delete(operationRunItems).where(eq(operationRunItems.runId, run.id))
    const [requeued] = await tx
      .update(operationRuns)
      .set({
        status: 'queued',
        attempt,
        handbacks,
        jobId,
        heartbeatAt: null,
        startedAt: null,
        queuedAt: sql`now()`,
        summaryCounts: {},
        units: [],
        failures: [],
      })
      .where(
        and(eq(operationRuns.id, run.id), eq(operationRuns.attempt, run.attempt), eq(operationRuns.status, 'running')),
      )
      .returning()
    if (!requeued) throw new Error('lost the race to recover the run') // rolls back the job we just sent
    await recordAuditEvent(tx, SYSTEM, {
      tenantId: run.tenantId,
      action: 'operation_run.requeued',
      subject: { type: 'operation_run', id: run.id },
      metadata: { type: run.type, attempt, reason: why, hand_back: options.handBack === true },
    })
    await publishRunUpdated(tx, requeued)
    return 'requeued'
  }
  const reason = !spec
    ? 'its type is no longer known'
    : !spec.idempotent
      ? 'this operation is not safe to repeat automatically'
      : `it already had ${counted} attempts`
  const failed = await finishRun(tx, catalog, {
    runId: run.id,
    attempt: run.attempt,
    from,
    outcome: 'failed',
    failures: [
      {
        code: 'worker_lost',
        message: `The worker running this operation stopped (${why}); it was not retried because ${reason}. Start it again.`,
        subject: null,
      },
    ],
    actor: SYSTEM,
  })
  return failed ? 'failed' : 'skipped'
}

export type ReaperTimings = { staleAfterMs: number; cancelTimeoutMs: number; vanishedAfterMs: number }

/**
 * One reaper pass. Every worker runs it; rows are claimed with FOR UPDATE SKIP LOCKED and every
 * transition is conditional, so concurrent reapers neither block nor double-act.
 */
export async function reap(db: Database, catalog: Catalog, jobs: JobQueue, timings: ReaperTimings) {
  const counts = { requeued: 0, failed: 0, cancelled: 0, resent: 0 }
  const ms = (value: number) => sql`now() - make_interval(secs => ${value / 1000})`
  /** Up to 100 runs in a status, oldest first by `since`, locked for this pass and skipped by others. */
  const claim = (tx: Executor, status: 'queued' | 'running', since: SQLWrapper, olderThanMs: number) =>
    tx
      .select()
      .from(operationRuns)
      .where(and(eq(operationRuns.status, status), sql`${since} < ${ms(olderThanMs)}`))
      .orderBy(sql`${since}`)
      .limit(100)
      .for('update', { skipLocked: true })

  // Running runs whose heartbeat stopped.
  await db.transaction(async (tx) => {
    const stale = await claim(tx, 'running', operationRuns.heartbeatAt, timings.staleAfterMs)
    for (const run of stale) {
      const result = await recoverRun(
        tx,
        catalog,
        jobs,
        run,
        `no heartbeat for ${Math.round(timings.staleAfterMs / 1000)} s`,
      )
      if (result !== 'skipped') counts[result]++
    }
  })

  // Runs that ignore a cancel request.
  await db.transaction(async (tx) => {
    const stubborn = await claim(tx, 'running', operationRuns.cancelRequestedAt, timings.cancelTimeoutMs)
    for (const run of stubborn) {
      const failed = await finishRun(tx, catalog, {
        runId: run.id,
        attempt: run.attempt,
        from: ['running'],
        outcome: 'failed',
        failures: [
          {
            code: 'cancel_timeout',
            message: `The operation did not stop within ${Math.round(timings.cancelTimeoutMs / 1000)} s of being cancelled.`,
            subject: null,
          },
        ],
        actor: { kind: 'system' },
      })
      if (failed) counts.failed++
    }
  })

  // Queued runs whose job vanished (or whose type left the catalog): without this they would wait forever.
  await db.transaction(async (tx) => {
    const waiting = await claim(tx, 'queued', operationRuns.queuedAt, timings.vanishedAfterMs)
    for (const run of waiting) {
      const typeName = run.type
      if (!catalog.has(run.type)) {
        const failed = await finishRun(tx, catalog, {
          runId: run.id,
          from: ['queued'],
          outcome: 'failed',
          failures: [
            {
              code: 'unknown_operation',
              message: `No worker can run operations of type "${typeName}".`,
              subject: null,
            },
          ],
          actor: { kind: 'system' },
        })
        if (failed) counts.failed++
        continue
      }
      if (run.jobId && (await jobs.state(tx, run.type, run.jobId)) === 'live') continue
      const perTenantConcurrency = catalog.spec(run.type).perTenantConcurrency
      const jobId = await jobs.enqueue(tx, {
        type: run.type,
        tenantId: run.tenantId,
        runId: run.id,
        attempt: run.attempt,
        perTenantConcurrency,
      })
      await tx
        .update(operationRuns)
        .set({ jobId, queuedAt: sql`now()` })
        .where(eq(operationRuns.id, run.id))
      counts.resent++
    }
  })
  return counts
}
