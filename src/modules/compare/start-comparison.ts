import { eq, sql } from 'drizzle-orm'
import { z } from 'zod'
import type { Database } from '../../db/engine.ts'
import { comparisons, type OperationRunRow } from '../../db/schema.ts'
import { notFound, validationError } from '../../lib/errors.ts'
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
    mapping: z
      .array(
        z.strictObject({
          kind: z.enum(['group', 'assignment_filter', 'scope_tag'], {
            error: 'must be group, assignment_filter or scope_tag',
          }),
          left_id: z.string().min(1).max(200),
          right_id: z.string().min(1).max(200).nullable(),
        }),
      )
      .max(1000)
      .optional()
      .describe(
        'Your pairs, in place of the ones proposed by name: a left group, filter or scope tag and the right one it ' +
          "stands for (`right_id` null: it has none). Each `right_id` must be one of the right tenant's.",
      ),
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
  const overrides = body.mapping ?? []
  await checkOverrides(db, right.tenantId, overrides)
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
      // The person's pairs until the comparison is computed; then the whole mapping, theirs marked `user`.
      mapping: overrides.map((o) => ({ ...o, source: 'user' })),
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

const OVERRIDE_TYPES = { group: 'group', assignment_filter: 'assignmentFilter', scope_tag: 'roleScopeTag' } as const

/** Each pair names a right-side object of its kind that the right tenant has (the Default scope tag always); one pair per left id. */
async function checkOverrides(
  db: Database,
  rightTenantId: string,
  overrides: NonNullable<z.output<typeof comparisonBody>['mapping']>,
) {
  const issues: { field: string; message: string }[] = []
  const seen = new Set<string>()
  for (const [i, o] of overrides.entries()) {
    const key = `${o.kind}:${o.left_id.toLowerCase()}`
    if (seen.has(key)) issues.push({ field: `mapping.${i}.left_id`, message: `${o.left_id} is paired twice` })
    seen.add(key)
  }
  const wanted = overrides.filter((o) => o.right_id !== null && !(o.kind === 'scope_tag' && o.right_id === '0'))
  if (wanted.length > 0) {
    const { rows } = await db.execute<{ type: string; id: string }>(sql`
      SELECT policy_type AS type, external_id AS id FROM inventory_items
       WHERE tenant_id = ${rightTenantId} AND removed_at IS NULL
         AND policy_type IN ('group', 'assignmentFilter', 'roleScopeTag')
         AND lower(external_id) IN (${sql.join(
           wanted.map((o) => sql`${o.right_id!.toLowerCase()}`),
           sql`, `,
         )})`)
    const present = new Set(rows.map((r) => `${r.type}:${r.id.toLowerCase()}`))
    for (const [i, o] of overrides.entries()) {
      if (o.right_id === null || (o.kind === 'scope_tag' && o.right_id === '0')) continue
      if (!present.has(`${OVERRIDE_TYPES[o.kind]}:${o.right_id.toLowerCase()}`))
        issues.push({
          field: `mapping.${i}.right_id`,
          message: `the right side's tenant has no ${o.kind.replace('_', ' ')} ${o.right_id}`,
        })
    }
  }
  if (issues.length > 0) throw validationError(issues)
}
