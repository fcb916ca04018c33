import { and, eq, inArray, sql } from 'drizzle-orm'
import type { Executor } from '../../db/engine.ts'
import {
  notifications,
  operationRuns,
  type OperationRunRow,
  type RunFailure,
  type RunOutcome,
  type RunStatus,
} from '../../db/schema.ts'
import { uuidv7 } from '../../lib/ids.ts'
import type { Actor } from '../audit/record-audit-event.ts'
import { recordAuditEvent } from '../audit/record-audit-event.ts'
import { runNotificationBody, runNotificationTitle } from '../notifications/run-notification.ts'
import type { Catalog } from './catalog.ts'
import { runViewPath } from './links.ts'
import { publishRunUpdated } from './live.ts'
import { recordRunFinished } from '../alerts/events.ts'

export type FinishRequest = {
  runId: string
  outcome: RunOutcome
  /** The run must be in one of these statuses; anything else means someone else finished it. */
  from: readonly RunStatus[]
  /** The attempt that is finishing: a worker whose run was re-queued cannot finish the new attempt. */
  attempt?: number
  failures?: RunFailure[]
  actor: Actor
}

/**
 * The one transition to `completed`. Conditional, so of any number of concurrent finishers
 * exactly one wins; the winner writes the initiator's notification (unique per run), the audit
 * event and the live NOTIFY in the caller's transaction. Returns null when it did not win.
 */
export async function finishRun(
  tx: Executor,
  catalog: Catalog,
  request: FinishRequest,
): Promise<OperationRunRow | null> {
  const extra = request.failures ?? []
  const [run] = await tx
    .update(operationRuns)
    .set({
      status: 'completed',
      outcome: request.outcome,
      completedAt: sql`now()`,
      heartbeatAt: null,
      failures: extra.length > 0 ? sql`${operationRuns.failures} || ${JSON.stringify(extra)}::jsonb` : undefined,
    })
    .where(
      and(
        eq(operationRuns.id, request.runId),
        inArray(operationRuns.status, [...request.from]),
        request.attempt === undefined ? undefined : eq(operationRuns.attempt, request.attempt),
      ),
    )
    .returning()
  if (!run) return null

  if (run.initiatorUserId) {
    await tx
      .insert(notifications)
      .values({
        id: uuidv7(),
        userId: run.initiatorUserId,
        tenantId: run.tenantId,
        kind: 'operation_run.completed',
        title: runNotificationTitle(catalog.label(run.type), request.outcome),
        body: runNotificationBody(run),
        runId: run.id,
        outcome: request.outcome,
        url: runViewPath(run.tenantId, run.id),
      })
      .onConflictDoNothing({ target: notifications.runId })
  }
  await recordAuditEvent(tx, request.actor, {
    tenantId: run.tenantId,
    action: 'operation_run.completed',
    subject: { type: 'operation_run', id: run.id },
    metadata: {
      type: run.type,
      outcome: request.outcome,
      attempt: run.attempt,
      summary_counts: run.summaryCounts,
      failures: run.failures.length,
    },
  })
  // The alerts outbox (ADR 030): the run's events are released, a failed or partial run is one.
  await recordRunFinished(tx, run, request.outcome, catalog.label(run.type))
  await publishRunUpdated(tx, run)
  return run
}
