import type { OperationRunRow } from '../../db/schema.ts'
import { conflict } from '../../lib/errors.ts'
import { authorizeDestructive, authorizeStart } from '../access/authority.ts'
import type { TenantAccess } from '../access/policy.ts'
import type { Actor } from '../audit/record-audit-event.ts'
import type { OperationsEngine } from './engine.ts'
import { validatedInput } from './start-run.ts'

/**
 * Re-run: the same type with the run's stored input, validated again by the type's catalog entry
 * (the catalog may have changed since), started like any start (so deduplicated against an
 * active twin). The caller must be allowed to start the type: role and token scope (ADR 022).
 */
export async function rerunRun(
  engine: OperationsEngine,
  access: TenantAccess,
  actor: Actor,
  userId: string,
  run: OperationRunRow,
) {
  const { catalog } = engine
  if (!catalog.has(run.type)) throw conflict('Runs of an unknown operation cannot be re-run')
  const spec = catalog.spec(run.type)
  if (!spec.rerunnable) throw conflict(`${spec.label} runs cannot be re-run`)
  authorizeStart(access, spec.capability)
  // Re-running a restore or a bulk delete destroys as much as the first run did: the same fresh sign-in.
  if (run.type === 'restore.execute') authorizeDestructive(access, 'restore.execute')
  if ((run.context as { action?: unknown } | null)?.action === 'delete') authorizeDestructive(access, 'bulk.delete')
  if (run.status !== 'completed') throw conflict('The run is still active: wait for it to complete, or cancel it')
  const context = validatedInput(catalog, run.type, run.context)
  return engine.startRun({ tenantId: run.tenantId, type: run.type, context, initiatorUserId: userId, actor })
}
