import { sql } from 'drizzle-orm'
import type { Executor } from '../../db/engine.ts'

/** The channel the live surfaces listen on (one LISTEN per process, db/listen.ts). */
export const LIVE_CHANNEL = 'tenantatlas_live'

export type RunUpdatedEvent = {
  type: 'run.updated'
  tenant_id: string
  run_id: string
  status: string
  cancel_requested: boolean
}

/**
 * NOTIFY inside the caller's transaction: PostgreSQL delivers it at commit, and not at all on
 * rollback, so a live surface never hears of a change that did not happen. Ids only: the payload
 * limit is 8 kB and listeners load the run themselves.
 */
export async function publishRunUpdated(
  tx: Executor,
  run: { id: string; tenantId: string; status: string; cancelRequestedAt: Date | null },
) {
  const event: RunUpdatedEvent = {
    type: 'run.updated',
    tenant_id: run.tenantId,
    run_id: run.id,
    status: run.status,
    cancel_requested: run.cancelRequestedAt !== null,
  }
  await tx.execute(sql`SELECT pg_notify(${LIVE_CHANNEL}, ${JSON.stringify(event)})`)
}
