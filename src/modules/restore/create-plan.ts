import type { Database } from '../../db/engine.ts'
import { conflict, notFound, validationError } from '../../lib/errors.ts'
import { uuidv7 } from '../../lib/ids.ts'
import { type Actor, recordAuditEvent } from '../audit/record-audit-event.ts'
import { pinVersion } from '../backups/pin-version.ts'
import { definitionCheck, type GraphDeps } from './definitions.ts'
import { buildPlan, type BuiltPlan, type PlanSelection } from './plan.ts'
import { backupSetById, insertPlan, pinnedSelection, savePlan, versionWithContent } from './repository.ts'
import type { CreatePlanBody } from './schemas.ts'

/**
 * Stores a built plan with its audit event, in one transaction; returns its id. The one way a
 * restore plan comes into being: the restore routes and bulk's Undo (with `metadata.undo_of_run_id`) call it.
 */
export async function savePlanOf(
  db: Database,
  actor: Actor,
  plan: {
    targetTenantId: string
    sourceTenantId: string
    backupId: string
    selection: PlanSelection
    createdByUserId: string
    metadata?: Record<string, unknown>
  },
  built: BuiltPlan,
): Promise<string> {
  const id = uuidv7()
  const { metadata, ...row } = plan
  await db.transaction(async (tx) => {
    await insertPlan(tx, { id, ...row })
    await savePlan(tx, id, built)
    await recordAuditEvent(tx, actor, {
      tenantId: plan.targetTenantId,
      action: 'restore_plan.created',
      subject: { type: 'restore_plan', id },
      metadata: {
        backup_id: plan.backupId,
        source_tenant_id: plan.sourceTenantId,
        items: built.items.length,
        ...metadata,
      },
    })
  })
  return id
}

/**
 * `POST …/restore-plans`: a plan for a backup set (optionally some of its items), or for one
 * version of an item — pinned first in a one-item set of the target tenant (backups' pinVersion).
 * `canView` says whether the caller may see a source tenant (else its sets and versions are a 404).
 */
export async function createPlan(
  db: Database,
  deps: GraphDeps,
  request: {
    tenantId: string
    user: { id: string; name: string }
    actor: Actor
    canView: (tenantId: string) => Promise<boolean>
  },
  body: CreatePlanBody,
): Promise<string> {
  let backupId: string
  let sourceTenantId: string
  let selection: PlanSelection = null
  if (body.version_id !== undefined) {
    const found = await versionWithContent(db, body.version_id)
    if (!found || !(await request.canView(found.version.tenantId))) throw notFound('Version')
    if (!found.content) throw notFound('Version')
    const { version, item, content } = found
    sourceTenantId = version.tenantId
    backupId = await db.transaction((tx) =>
      pinVersion(tx, {
        tenantId: request.tenantId,
        sourceTenantId,
        versionId: version.id,
        name: `Version ${version.number} of ${item.displayName}`,
        initiator: request.user,
        object: {
          policyType: item.policyType,
          externalId: item.externalId,
          displayName: item.displayName,
          contentHash: content.contentHash,
          payload: content.payload,
          assignments: content.assignments,
        },
      }),
    )
  } else {
    const set = await backupSetById(db, body.backup_id!)
    if (!set || !(await request.canView(set.tenantId))) throw notFound('Backup')
    if (set.status === 'running' || set.status === 'failed')
      throw conflict(
        `Backup "${set.name}" is ${set.status === 'running' ? 'still being written' : 'a failed set'}: it cannot be restored`,
      )
    backupId = set.id
    sourceTenantId = set.tenantId
    if (body.item_ids) {
      const pinned = await pinnedSelection(db, set, body.item_ids)
      const { missing } = pinned
      if (missing.length > 0)
        throw validationError([
          {
            field: 'item_ids',
            message: `not in this backup: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}`,
          },
        ])
      selection = pinned.selection
    }
  }
  const built = await buildPlan(
    db,
    { targetTenantId: request.tenantId, sourceTenantId, backupId, selection },
    definitionCheck(db, deps, request.tenantId),
  )
  return savePlanOf(
    db,
    request.actor,
    { targetTenantId: request.tenantId, sourceTenantId, backupId, selection, createdByUserId: request.user.id },
    built,
  )
}
