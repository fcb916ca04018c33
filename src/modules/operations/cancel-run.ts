import { eq, sql } from 'drizzle-orm'
import type { Database } from '../../db/engine.ts'
import { operationRuns, type OperationRunRow } from '../../db/schema.ts'
import { conflict, notFound } from '../../lib/errors.ts'
import { type Actor, recordAuditEvent } from '../audit/record-audit-event.ts'
import type { Catalog } from './catalog.ts'
import { finishRun } from './finish-run.ts'
import { publishRunUpdated } from './live.ts'
import { lockRun } from './repository.ts'

/**
 * Cancel: a queued run ends `cancelled` at once (its job finds nothing to do); a running run
 * gets cancel_requested_at ("Cancelling…") and ends at the handler's next check, or is failed
 * by the reaper when it ignores the request.
 */
export async function cancelRun(
  db: Database,
  catalog: Catalog,
  actor: Actor,
  tenantId: string,
  runId: string,
): Promise<OperationRunRow> {
  return db.transaction(async (tx) => {
    const run = await lockRun(tx, tenantId, runId)
    if (!run) throw notFound('Run')
    if (run.status === 'completed') throw conflict(`The run has already completed (${run.outcome})`)
    await recordAuditEvent(tx, actor, {
      tenantId,
      action: 'operation_run.cancel_requested',
      subject: { type: 'operation_run', id: run.id },
      metadata: { type: run.type, status: run.status },
    })
    if (run.status === 'queued') {
      const finished = await finishRun(tx, catalog, { runId, outcome: 'cancelled', from: ['queued'], actor })
      return finished!
    }
    if (run.cancelRequestedAt) return run
    const [updated] = await tx
      .update(operationRuns)
      .set({ cancelRequestedAt: sql`now()` })
      .where(eq(operationRuns.id, runId))
      .returning()
    await publishRunUpdated(tx, updated!)
    return updated!
  })
}
