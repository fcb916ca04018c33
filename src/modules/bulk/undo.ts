import { and, eq } from 'drizzle-orm'
import type { Database } from '../../db/engine.ts'
import { bulkOperationItems, graphWrites } from '../../db/schema.ts'
import { conflict, notFound } from '../../lib/errors.ts'
import type { Actor } from '../audit/record-audit-event.ts'
import { findRun } from '../operations/repository.ts'
import { buildPlan } from '../restore/plan.ts'
import { savePlanOf } from '../restore/create-plan.ts'
import { executedRunOfBackup } from '../restore/repository.ts'
import { backupOfRun } from './repository.ts'

/**
 * Undo of a finished bulk run (issue 16): a restore plan (issue 15) from the backup the run took
 * before changing anything, for exactly the items its journal says it changed — an update back to the backed-up
 * state, a re-creation (with its assignments) of what it deleted. The plan is reviewed and
 * executed like any restore. A duplicate is undone by deleting the copies, not by a restore.
 */

export type UndoState = {
  run_id: string
  action: string
  backup_id: string | null
  changed: number
  undo: { available: boolean; reason: string | null }
  /** The restore run that undid it (a plan from its backup executed), if one did */
  undone_by_run_id: string | null
}

async function undoState(db: Database, tenantId: string, runId: string): Promise<UndoState> {
  const row = await findRun(db, tenantId, runId)
  if (!row || !row.run.type.startsWith('bulk.')) throw notFound('Bulk run')
  const action = row.run.type.slice('bulk.'.length)
  const set = await backupOfRun(db, tenantId, runId)
  const changed = (
    await db
      .select({ p: bulkOperationItems.position })
      .from(bulkOperationItems)
      .where(and(eq(bulkOperationItems.runId, runId), eq(bulkOperationItems.state, 'succeeded')))
  ).length
  // Undone: a plan from the run's own safety backup was executed (the backup belongs to this run alone).
  const undoneBy = set ? await executedRunOfBackup(db, tenantId, set.id) : null
  const why =
    undoneBy !== null
      ? `This run was undone already (restore run ${undoneBy})`
      : row.run.status !== 'completed'
        ? 'The run has not finished yet'
        : action === 'duplicate'
          ? 'A duplicate is undone by deleting the copies: select them in the inventory and delete them'
          : !set || set.status !== 'complete'
            ? 'The run took no complete backup before changing anything'
            : changed === 0
              ? 'The run changed nothing'
              : null
  return {
    run_id: runId,
    action,
    backup_id: set?.id ?? null,
    changed,
    undo: { available: why === null, reason: why },
    undone_by_run_id: undoneBy,
  }
}

export { undoState }

/** Builds the undo's restore plan; returns its id. */
export async function planUndo(
  db: Database,
  tenantId: string,
  runId: string,
  user: { id: string },
  actor: Actor,
): Promise<string> {
  const state = await undoState(db, tenantId, runId)
  if (!state.undo.available) throw conflict(`Undo is not available: ${state.undo.reason}`)
  // What the run did, from its journal (ADR 023): the items a confirmed write changed, and the
  // objects it deleted — re-created whatever the inventory says of them meanwhile.
  const written = await db
    .select({ key: graphWrites.key, operation: graphWrites.operation, targetId: graphWrites.targetId })
    .from(graphWrites)
    .where(and(eq(graphWrites.runId, runId), eq(graphWrites.state, 'confirmed')))
  const changedItems = new Set(written.map((w) => w.key.split(':')[0]))
  const deleted = new Set(written.filter((w) => w.operation === 'delete' && w.targetId).map((w) => w.targetId!))
  const succeeded = await db
    .select({
      item_id: bulkOperationItems.itemId,
      policy_type: bulkOperationItems.policyType,
      external_id: bulkOperationItems.externalId,
    })
    .from(bulkOperationItems)
    .where(and(eq(bulkOperationItems.runId, runId), eq(bulkOperationItems.state, 'succeeded')))
  const items = succeeded
    .filter((i) => changedItems.has(i.item_id))
    .map((i) => ({ policy_type: i.policy_type, external_id: i.external_id }))
  if (items.length === 0) throw conflict('Undo is not available: the run wrote nothing to Graph')
  // The objects were read moments before the change: their setting definitions are known to the tenant.
  const built = await buildPlan(
    db,
    { targetTenantId: tenantId, sourceTenantId: tenantId, backupId: state.backup_id!, selection: items },
    () => Promise.resolve(null),
  )
  for (const item of built.items) {
    if (!deleted.has(item.sourceExternalId) || item.action === 'create' || item.action === 'blocked') continue
    Object.assign(item, {
      action: 'create',
      targetExternalId: null,
      reason: 'The run deleted it (its journal says so): re-created',
      changes: null,
    })
  }
  return savePlanOf(
    db,
    actor,
    {
      targetTenantId: tenantId,
      sourceTenantId: tenantId,
      backupId: state.backup_id!,
      selection: items,
      createdByUserId: user.id,
      metadata: { undo_of_run_id: runId },
    },
    built,
  )
}
