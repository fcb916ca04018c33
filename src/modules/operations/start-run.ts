import { createHash } from 'node:crypto'
import { sql } from 'drizzle-orm'
import type { Database, Executor } from '../../db/engine.ts'
import { operationRuns, type OperationRunRow } from '../../db/schema.ts'
import { canonicalJson } from '../../lib/canonical.ts'
import { uuidv7 } from '../../lib/ids.ts'
import { parseInput } from '../../lib/validation.ts'
import { type Actor, recordAuditEvent } from '../audit/record-audit-event.ts'
import type { Catalog } from './catalog.ts'
import { publishRunUpdated } from './live.ts'
import type { JobQueue } from './queue.ts'
import { findActiveByIdentity } from './repository.ts'

export const identityKeyOf = (type: string, context: Record<string, unknown>) =>
  createHash('sha256')
    .update(`${type}\n${canonicalJson(context)}`)
    .digest('hex')

export type StartRunRequest<K extends string> = {
  tenantId: string
  type: K
  /** Already canonical for the type (e.g. a sorted selection); it becomes the identity key. */
  context: Record<string, unknown>
  /** The person who started it; null for a system run (CLI, schedule). */
  initiatorUserId: string | null
  /** The schedule that started this system run ("Schedule: Nightly sync" in Monitoring and the audit trail). */
  schedule?: { id: string; name: string } | null
  actor: Actor
}

/**
 * The input a start of `type` carries, validated and canonicalised by the type's catalog entry
 * (a bad field is a 422 naming it); what startRun takes as the context.
 */
export function validatedInput(catalog: Catalog, type: string, input: unknown): Record<string, unknown> {
  if (!catalog.has(type)) throw new Error(`Operation type "${String(type)}" is not in the catalog`)
  return parseInput(catalog.spec(type).input, input ?? {})
}

/**
 * Starts a run, or returns the active run with the same identity. One transaction: the insert
 * (ON CONFLICT on the active-identity index), the job, the audit event and the live NOTIFY —
 * no run without its job, no job without its run.
 */
export async function startRun<K extends string>(
  db: Database,
  catalog: Catalog<K>,
  queue: JobQueue,
  request: StartRunRequest<K>,
): Promise<{ run: OperationRunRow; deduplicated: boolean }> {
  return startRunWith(db, catalog, queue, (_tx, start) => start(request))
}

/** A run as a start returns it: the row, and whether it is an active twin the start joined. */
export type StartedRun = { run: OperationRunRow; deduplicated: boolean }

/** Starts the run inside startRunWith's transaction (a method type: a narrower catalog's engine still fits a wider one's). */
export type StartInTransaction<K extends string> = {
  start(request: StartRunRequest<K>): Promise<StartedRun>
}['start']

/** Thrown inside `startRunWith`'s transaction when the active twin changed under it: the work is tried again. */
class TwinChanged extends Error {}

/**
 * Starts a run together with a module's own work, in one transaction: `work` gets the
 * transaction and `start`, which starts the run in it (as startRun does). What `work` writes
 * before or after `start` commits with the run or not at all. When the run's active twin
 * finished between the insert's conflict and the read, the whole transaction is tried again
 * (at most five times), so `work` must only write in its transaction.
 */
export async function startRunWith<K extends string, R>(
  db: Database,
  catalog: Catalog<K>,
  queue: JobQueue,
  work: (tx: Executor, start: StartInTransaction<K>) => Promise<R>,
  config?: Parameters<Database['transaction']>[1],
): Promise<R> {
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      return await db.transaction(
        (tx) =>
          work(tx, async (request) => {
            const started = await startRunIn(tx, catalog, queue, request)
            if (!started) throw new TwinChanged()
            return started
          }),
        config,
      )
    } catch (error) {
      if (!(error instanceof TwinChanged)) throw error
    }
  }
  throw new Error('Could not start the run: its active twin kept changing')
}

/**
 * startRun in the caller's transaction (a schedule claims its slot in the same one); null when the
 * active twin finished between the conflict and the read (try again in a new transaction).
 */
export async function startRunIn<K extends string>(
  tx: Executor,
  catalog: Catalog<K>,
  queue: JobQueue,
  request: StartRunRequest<K>,
): Promise<{ run: OperationRunRow; deduplicated: boolean } | null> {
  const type: string = request.type
  // The types say this cannot happen; a caller outside TypeScript's reach still gets a clear error.
  if (!catalog.has(type)) throw new Error(`Operation type "${type}" is not in the catalog`)
  const context = JSON.parse(canonicalJson(request.context)) as Record<string, unknown>
  const identityKey = identityKeyOf(request.type, context)
  const audit = (run: OperationRunRow, deduplicated: boolean) => ({
    tenantId: run.tenantId,
    action: deduplicated ? 'operation_run.start_deduplicated' : 'operation_run.queued',
    subject: { type: 'operation_run', id: run.id },
    metadata: { type: run.type, context, ...(request.schedule ? { schedule: request.schedule } : {}) },
  })

  const id = uuidv7()
  const [inserted] = await tx
    .insert(operationRuns)
    .values({
      id,
      tenantId: request.tenantId,
      type: request.type,
      status: 'queued',
      initiatorUserId: request.initiatorUserId,
      scheduleId: request.schedule?.id ?? null,
      identityKey,
      context,
    })
    .onConflictDoNothing({
      target: [operationRuns.tenantId, operationRuns.type, operationRuns.identityKey],
      where: sql`${operationRuns.status} IN ('queued', 'running')`,
    })
    .returning()
  if (!inserted) {
    const active = await findActiveByIdentity(tx, request.tenantId, request.type, identityKey)
    if (!active) return null
    await recordAuditEvent(tx, request.actor, audit(active, true))
    return { run: active, deduplicated: true }
  }
  const perTenantConcurrency = catalog.spec(request.type).perTenantConcurrency
  const jobId = await queue.enqueue(tx, {
    type: request.type,
    tenantId: request.tenantId,
    runId: id,
    attempt: 1,
    perTenantConcurrency,
  })
  const [run] = await tx
    .update(operationRuns)
    .set({ jobId })
    .where(sql`${operationRuns.id} = ${id}`)
    .returning()
  await recordAuditEvent(tx, request.actor, audit(run!, false))
  await publishRunUpdated(tx, run!)
  return { run: run!, deduplicated: false }
}
