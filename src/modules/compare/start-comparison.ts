import { eq } from 'drizzle-orm'
import { z } from 'zod'
import type { Database } from '../../db/engine.ts'
import { comparisons, type OperationRunRow } from '../../db/schema.ts'
import { notFound } from '../../lib/errors.ts'
import { uuidv7 } from '../../lib/ids.ts'
import { type Actor, recordAuditEvent } from '../audit/record-audit-event.ts'
import type { OperationsEngine } from '../operations/engine.ts'
import { computeComparison } from './compute.ts'
import { presentSide, resolveSide, sideInput, sideSize } from './sides.ts'

/** Sides holding together at most this many objects are compared inline (201); larger ones by a `compare.run` run (202). */
export const INLINE_LIMIT = 2_000

export const comparisonBody = z
  .strictObject({
    left: sideInput,
    right: sideInput,
    background: z
      .boolean({ error: 'must be true or false' })
      .optional()
      .describe('Compute as a `compare.run` operation even when the sides are small'),
  })
  .meta({ id: 'ComparisonCreate' })

export type StartComparison = {
  body: z.output<typeof comparisonBody>
  userId: string | null
  actor: Actor
  /** Refuses a tenant the caller may not view (404: a side they cannot see reads as one that does not exist). */
  canView: (tenantId: string) => Promise<void>
}

/**
 * Creates a comparison: resolves both sides (each must be visible to the caller), then computes it
 * inline when small, or starts a `compare.run` run of the left side's tenant in the transaction
 * that stores it.
 */
export async function startComparison(
  db: Database,
  /** null: always inline (the CLI, which runs no worker). */
  engine: OperationsEngine | null,
  { body, userId, actor, canView }: StartComparison,
): Promise<{ comparisonId: string; run: OperationRunRow | null }> {
  const left = await resolveSide(db, body.left, 'left', notFound)
  await canView(left.tenantId)
  const right = await resolveSide(db, body.right, 'right', notFound)
  await canView(right.tenantId)
  const id = uuidv7()
  const size = (await sideSize(db, left)) + (await sideSize(db, right))
  const background = engine !== null && (body.background === true || size > INLINE_LIMIT)
  const run = await db.transaction(async (tx) => {
    await tx.insert(comparisons).values({
      id,
      createdBy: userId,
      left: presentSide(left),
      right: presentSide(right),
      leftTenantId: left.tenantId,
      rightTenantId: right.tenantId,
      status: 'running',
    })
    await recordAuditEvent(tx, actor, {
      tenantId: left.tenantId,
      action: 'comparison.created',
      subject: { type: 'comparison', id },
      metadata: { left: presentSide(left), right: presentSide(right) },
    })
    if (!background || !engine) return null
    const started = await engine.startRunIn(tx, {
      tenantId: left.tenantId,
      type: 'compare.run',
      context: { comparison_id: id },
      initiatorUserId: userId,
      actor,
    })
    if (!started) throw new Error('A new comparison cannot have an active twin')
    await tx.update(comparisons).set({ runId: started.run.id }).where(eq(comparisons.id, id))
    return started.run
  })
  if (!run) {
    try {
      await computeComparison(db, id)
    } catch (error) {
      await db.update(comparisons).set({ status: 'failed' }).where(eq(comparisons.id, id))
      throw error
    }
  }
  return { comparisonId: id, run }
}
