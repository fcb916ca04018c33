import { z } from 'zod'
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
    failureCodes: {
      missing_permission:
        'Grant the missing application permission (named above) to the app registration in Entra ID and admin-consent it, then re-run.',
      invalid_credentials: 'Check the client id and secret on the Tenants page, then re-run.',
      app_not_found: 'The app registration was not found in the tenant: check the client id on the Tenants page.',
      tenant_not_found:
        'The Microsoft tenant (or the TenantAtlas tenant) was not found: check the tenant id, or remove the tenant.',
      throttled_exhausted: 'Microsoft Graph kept throttling the tenant: re-run later, outside busy hours.',
      graph_unavailable: 'Microsoft Graph did not answer: re-run later.',
      bad_request: 'Microsoft Graph refused a request for this type: re-run, and report it if it persists.',
      not_found: 'An object disappeared while it was read: re-run.',
      emulator_not_configured:
        'The tenant is on the emulator cloud: set GRAPH_EMULATOR_URL for the worker, then re-run.',
    },
    idempotent: true,
    maxAttempts: 3,
    perTenantConcurrency: 1,
  },
} as const satisfies Record<string, OperationSpec>
