import { z } from 'zod'
import { graphFailureCodes } from '../../graph/failure-codes.ts'
import type { OperationSpec } from '../operations/catalog.ts'
import { canonicalSelection, emptySelectionReason, selectionInput } from './selection.ts'

/**
 * The inventory's operation types. The input is the selection; its canonical form (sorted,
 * deduplicated, "everything" as the empty list) is the run's context and identity.
 */
const inventorySyncInput = z.strictObject({ selection: selectionInput.optional() }).transform((input, ctx) => {
  const selection = canonicalSelection(input.selection)
  const empty = emptySelectionReason(selection)
  if (empty) {
    ctx.addIssue({ code: 'custom', message: empty, path: ['selection'] })
    return z.NEVER
  }
  return { selection }
})

export const inventoryOperationTypes = {
  // Idempotent: every write is keyed by the Graph object id, so a re-queued sync starts over safely.
  'inventory.sync': {
    label: 'Inventory sync',
    description:
      "Reads the tenant's Intune configuration from Microsoft Graph and mirrors it: what changed, what appeared, what was removed.",
    capability: 'inventory.sync',
    cancellable: true,
    rerunnable: true,
    schedulable: true,
    input: inventorySyncInput,
    // Scheduled syncs are quick unless the schedule asks for full ones.
    scheduleDefaults: (input) => {
      const selection = input.selection
      if (selection !== undefined && (typeof selection !== 'object' || selection === null || Array.isArray(selection)))
        return input
      return { ...input, selection: { mode: 'quick', ...(selection as Record<string, unknown> | undefined) } }
    },
    failureCodes: graphFailureCodes,
    idempotent: true,
    maxAttempts: 3,
    perTenantConcurrency: 1,
  },
} as const satisfies Record<string, OperationSpec>
