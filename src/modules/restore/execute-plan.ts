import type { Database } from '../../db/engine.ts'
import type { RestorePlanRow } from '../../db/schema.ts'
import { AppError } from '../../lib/errors.ts'
import type { Actor } from '../audit/record-audit-event.ts'
import type { OperationsEngine } from '../operations/engine.ts'
import { findRun } from '../operations/repository.ts'
import { lockPlanRun, setPlanRun, targetSyncedAt } from './repository.ts'

/** A plan executed (or executing) already: executing it again would write its changes a second time. */
export const executedConflict = (runId: string) =>
  new AppError(
    409,
    'plan_executed',
    `This plan was executed already (run ${runId}): to restore again, refresh the plan (PATCH with {"refresh": true}), review it and execute it`,
    { run_id: runId },
  )

/**
 * `POST …/execute`: starts the plan's `restore.execute` run. A plan executes once (ADR 023): the
 * plan row is locked in the run's start transaction, so of two executes at once the second sees
 * the first's run; a plan built before the tenant's last sync is stale. Returns the run with its names.
 */
export async function executePlan(
  db: Database,
  engine: OperationsEngine,
  request: { tenantId: string; user: { id: string; name: string }; actor: Actor },
  plan: RestorePlanRow,
) {
  if (plan.runId) throw executedConflict(plan.runId)
  const synced = await targetSyncedAt(db, request.tenantId)
  if (synced && (!plan.targetSyncedAt || synced.getTime() > plan.targetSyncedAt.getTime()))
    throw new AppError(
      409,
      'plan_stale',
      'The tenant\'s inventory was synced after this plan was built: refresh the plan (PATCH with {"refresh": true}) and review it again',
    )
  const started = await engine.startRunWith(async (tx, start) => {
    const executedBy = await lockPlanRun(tx, plan.id)
    if (executedBy) throw executedConflict(executedBy)
    const result = await start({
      tenantId: request.tenantId,
      type: 'restore.execute',
      context: { plan_id: plan.id },
      initiatorUserId: request.user.id,
      actor: request.actor,
    })
    await setPlanRun(tx, plan.id, result.run.id)
    return result
  })
  return (
    (await findRun(db, request.tenantId, started.run.id)) ?? {
      run: started.run,
      initiatorName: request.user.name,
      scheduleName: null,
    }
  )
}
