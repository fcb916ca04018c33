import type { Database } from '../../db/engine.ts'
import type { RestorePlanRow } from '../../db/schema.ts'
import { AppError, validationError } from '../../lib/errors.ts'
import { type Actor, recordAuditEvent } from '../audit/record-audit-event.ts'
import { findRun } from '../operations/repository.ts'
import { checkTargets, graphGroupConfirm } from '../tenant-objects/targets.ts'
import { KIND_TYPES } from './content.ts'
import { definitionCheck, type GraphDeps } from './definitions.ts'
import { buildPlan } from './plan.ts'
import {
  planItems,
  presentInInventory,
  rememberMappings,
  savePlan,
  setItemsExcluded,
  setPlanRun,
} from './repository.ts'
import type { UpdatePlanBody } from './schemas.ts'

/**
 * `PATCH …/restore-plans/:planId`: mapping edits (remembered for the tenant pair; their targets
 * must be the target tenant's, ADR 023), items left out or back in, or the plan rebuilt against
 * the current inventory. An executed plan rebuilt may execute again; one executing is not rebuilt.
 */
export async function updatePlan(
  db: Database,
  deps: GraphDeps,
  request: { tenantId: string; actor: Actor },
  plan: RestorePlanRow,
  body: UpdatePlanBody,
): Promise<void> {
  const { tenantId } = request
  const items = await planItems(db, plan.id)
  const known = new Set(items.map((i) => i.id))
  const unknownItems = [...(body.excluded_item_ids ?? []), ...(body.included_item_ids ?? [])].filter(
    (id) => !known.has(id),
  )
  if (unknownItems.length > 0)
    throw validationError([
      { field: 'excluded_item_ids', message: `not items of this plan: ${unknownItems.slice(0, 5).join(', ')}` },
    ])
  const edits = body.mapping ?? []
  const inPlan = new Set(plan.mapping.map((m) => `${m.kind}\n${m.source_id}`))
  const issues = edits
    .filter((e) => !inPlan.has(`${e.kind}\n${e.source_id}`))
    .map((e) => ({ field: 'mapping', message: `${e.kind} ${e.source_id} is not referenced by this plan` }))
  // Groups, filters and scope tags: objects of the target tenant (ADR 023), else 422 naming the id.
  const targetRefs = edits.flatMap((e, i) =>
    e.target_id !== null && e.kind !== 'notification_template'
      ? [{ field: `mapping[${i}].target_id`, kind: e.kind, id: e.target_id }]
      : [],
  )
  issues.push(...(await checkTargets(db, tenantId, targetRefs, graphGroupConfirm(db, deps, tenantId))))
  // A notification template must be mapped to one the target has.
  const foundationTargets = edits.filter((e) => e.target_id !== null && e.kind === 'notification_template')
  const present = await presentInInventory(
    db,
    tenantId,
    foundationTargets.map((e) => e.target_id!),
  )
  for (const e of foundationTargets)
    if (!present.has(`${KIND_TYPES[e.kind]}\n${e.target_id}`))
      issues.push({ field: 'mapping', message: `${e.kind} ${e.target_id} is not in the target tenant's inventory` })
  if (issues.length > 0) throw validationError(issues)
  const rebuild = edits.length > 0 || body.refresh === true
  // An executed plan rebuilt is a new plan (new items, new write intents); one still executing is not rebuilt under its run.
  const executed = rebuild && plan.runId ? await findRun(db, tenantId, plan.runId) : undefined
  if (executed && executed.run.status !== 'completed')
    throw new AppError(
      409,
      'plan_executing',
      `The plan is being executed (run ${executed.run.id}): wait for the run to end`,
      { run_id: executed.run.id },
    )
  await db.transaction(async (tx) => {
    await setItemsExcluded(tx, plan.id, body.excluded_item_ids ?? [], true)
    await setItemsExcluded(tx, plan.id, body.included_item_ids ?? [], false)
    if (edits.length > 0) await rememberMappings(tx, plan.sourceTenantId, plan.targetTenantId, edits)
  })
  if (!rebuild) return
  const excluded = new Set(
    (await planItems(db, plan.id)).filter((i) => i.excluded).map((i) => `${i.policyType}\n${i.sourceExternalId}`),
  )
  const built = await buildPlan(
    db,
    {
      targetTenantId: tenantId,
      sourceTenantId: plan.sourceTenantId,
      backupId: plan.backupId,
      selection: plan.selection ?? null,
      excluded,
    },
    definitionCheck(db, deps, tenantId),
  )
  await db.transaction(async (tx) => {
    await savePlan(tx, plan.id, built)
    if (plan.runId) await setPlanRun(tx, plan.id, null)
    await recordAuditEvent(tx, request.actor, {
      tenantId,
      action: 'restore_plan.updated',
      subject: { type: 'restore_plan', id: plan.id },
      metadata: { mapping_changes: edits.length, refreshed: body.refresh === true },
    })
  })
}
