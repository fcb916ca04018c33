import { z } from 'zod'
import type { OperationSpec } from '../operations/catalog.ts'
import { graphFailureCodes } from '../../graph/failure-codes.ts'
import { canonicalSelection, emptySelectionReason, selectionInput } from '../inventory/selection.ts'

export const backupCreateInput = z
  .strictObject({
    name: z
      .string()
      .trim()
      .min(1, { error: 'must not be empty' })
      .max(200, { error: 'at most 200 characters' })
      .nullish(),
    /** null (or omitted with item_ids): the picked items only. */
    selection: selectionInput.nullish(),
    item_ids: z
      .array(z.uuid({ error: 'each item id must be an inventory item id (a UUID)' }))
      .max(10_000, { error: 'at most 10000 item ids' })
      .optional(),
  })
  .transform((input, ctx) => {
    const itemIds = [...new Set(input.item_ids ?? [])].sort()
    // Items alone: no selection sent. Otherwise the selection (omitted fields: everything) plus the items.
    if (input.selection === null || (input.selection === undefined && itemIds.length > 0)) {
      if (itemIds.length === 0) {
        ctx.addIssue({ code: 'custom', message: 'a backup without a selection needs item_ids', path: ['selection'] })
        return z.NEVER
      }
      return { name: input.name ?? null, selection: null, item_ids: itemIds }
    }
    const selection = canonicalSelection(input.selection ?? undefined)
    const empty = emptySelectionReason(selection)
    if (empty && itemIds.length === 0) {
      ctx.addIssue({ code: 'custom', message: empty, path: ['selection'] })
      return z.NEVER
    }
    return { name: input.name ?? null, selection, item_ids: itemIds }
  })

/** Canonical: `{}`, or `{delete_last_full_backup: true}` to let the prune delete the tenant's last full backup. */
export const backupPruneInput = z
  .strictObject({ delete_last_full_backup: z.boolean({ error: 'must be true or false' }).optional() })
  .transform((input): Record<string, unknown> =>
    input.delete_last_full_backup ? { delete_last_full_backup: true } : {},
  )

/** The backups module's operation types (issue 14). */
export const backupOperationTypes = {
  // Idempotent: a re-queued attempt empties the set it started and reads everything again.
  'backup.create': {
    label: 'Backup',
    description: 'Reads the selected configuration fresh from Microsoft Graph and keeps it as an immutable backup set.',
    capability: 'backups.manage',
    cancellable: true,
    rerunnable: true,
    schedulable: true,
    input: backupCreateInput,
    failureCodes: {
      ...graphFailureCodes,
      object_unreadable:
        'An object could not be read from Microsoft Graph: it is listed as missing in the set. Re-run the backup later.',
    },
    idempotent: true,
    maxAttempts: 3,
    perTenantConcurrency: 1,
  },
  'backup.prune': {
    label: 'Backup retention',
    description:
      "Deletes the tenant's backup sets its retention policy no longer keeps (protected sets, and the last full backup unless asked, are always kept).",
    capability: 'backups.manage',
    cancellable: false,
    rerunnable: true,
    schedulable: true,
    input: backupPruneInput,
    failureCodes: {},
    idempotent: true,
    maxAttempts: 3,
    perTenantConcurrency: 1,
  },
} as const satisfies Record<string, OperationSpec>
