import type { OperationsEngine } from '../operations/engine.ts'
import { validationError } from '../../lib/errors.ts'
import { parseInput } from '../../lib/validation.ts'
import type { Actor } from '../audit/record-audit-event.ts'
import { canonicalSelection, emptySelectionReason, selectionInput, type SelectionInput } from './selection.ts'

export type StartInventorySync = {
  tenantId: string
  /** As sent: validated and canonicalised here. Omitted: the full inventory. */
  selection: SelectionInput | undefined
  /** null for a system run (the CLI). */
  initiatorUserId: string | null
  actor: Actor
}

/**
 * Starts an inventory sync of a tenant, or returns the active one with the same selection
 * (`deduplicated`). The canonical selection is the run's context and identity.
 */
export async function startInventorySync(engine: OperationsEngine, request: StartInventorySync) {
  const selection = canonicalSelection(
    request.selection === undefined ? undefined : parseInput(selectionInput, request.selection),
  )
  const empty = emptySelectionReason(selection)
  if (empty) throw validationError([{ field: '(body)', message: empty }])
  return engine.startRun({
    tenantId: request.tenantId,
    type: 'inventory.sync',
    context: { selection },
    initiatorUserId: request.initiatorUserId,
    actor: request.actor,
  })
}
