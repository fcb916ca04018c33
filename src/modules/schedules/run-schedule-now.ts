import { conflict } from '../../lib/errors.ts'
import { authorizeStart } from '../access/authority.ts'
import type { TenantAccess } from '../access/policy.ts'
import type { Actor } from '../audit/record-audit-event.ts'
import type { OperationsEngine } from '../operations/engine.ts'
import { validatedInput } from '../operations/start-run.ts'
import type { ScheduleRow } from '../../db/schema.ts'

/**
 * "Run now": the schedule's type with its stored input, started at once by the caller (not as a
 * system run), under the one rule of every start (role and token scope for the type's capability,
 * ADR 022), deduplicated against an active twin like any start. The schedule's own slots are unchanged.
 */
export async function runScheduleNow(
  engine: OperationsEngine,
  access: TenantAccess,
  actor: Actor,
  userId: string,
  schedule: ScheduleRow,
) {
  const { catalog } = engine
  if (!catalog.has(schedule.operationType) || !catalog.spec(schedule.operationType).schedulable)
    throw conflict(`"${schedule.operationType}" is no longer a schedulable operation type`)
  const spec = catalog.spec(schedule.operationType)
  authorizeStart(access, spec.capability)
  const context = validatedInput(catalog, schedule.operationType, schedule.input)
  return engine.startRun({
    tenantId: access.tenantId,
    type: schedule.operationType,
    context,
    initiatorUserId: userId,
    actor,
  })
}
