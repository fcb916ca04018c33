import { z } from 'zod'
import type { OperationSpec } from '../operations/catalog.ts'
import { graphFailureCodes } from '../../graph/failure-codes.ts'
import { type BulkAction, canonicalParams } from './actions.ts'

/** The inventory list's filter a selection was made with (kept for people: the items are frozen at start). */
export const bulkFilter = z.strictObject({
  type: z.string().max(100).nullish(),
  category: z.string().max(100).nullish(),
  q: z.string().max(200).nullish(),
})
export type BulkFilter = { type: string | null; category: string | null; q: string | null }

export const canonicalFilter = (f: z.infer<typeof bulkFilter>): BulkFilter => ({
  type: f.type || null,
  category: f.category || null,
  q: f.q?.trim() || null,
})

/**
 * A bulk run's context: the action's canonical params, how the items were chosen, and the frozen
 * selection's size and digest (the items themselves are rows of bulk_operation_items, written
 * with the run). Canonical: parsing it again returns it.
 */
const bulkRunInput = (action: BulkAction) =>
  z
    .strictObject({
      params: z.record(z.string(), z.unknown()),
      filter: bulkFilter.nullable(),
      item_count: z.number().int().min(1),
      /** sha256 of the frozen item ids in order: two different selections are two runs. */
      selection_digest: z.string().regex(/^[0-9a-f]{64}$/),
    })
    .transform((input, ctx) => {
      const parsed = canonicalParams(action, input.params)
      if ('issues' in parsed) {
        for (const issue of parsed.issues)
          ctx.addIssue({ code: 'custom', message: issue.message, path: issue.field.split('.') })
        return z.NEVER
      }
      return {
        params: parsed.params,
        filter: input.filter ? canonicalFilter(input.filter) : null,
        item_count: input.item_count,
        selection_digest: input.selection_digest,
      }
    })

export type BulkRunContext = {
  params: Record<string, unknown>
  filter: BulkFilter | null
  item_count: number
  selection_digest: string
}

const LABELS: Record<BulkAction, { label: string; description: string }> = {
  assign: {
    label: 'Bulk assign',
    description: 'Adds a group assignment to many policies, keeping every other assignment of each.',
  },
  unassign: {
    label: 'Bulk unassign',
    description: "Removes a group's assignment from many policies, keeping every other assignment of each.",
  },
  add_scope_tag: { label: 'Bulk add scope tag', description: 'Adds a scope tag to many policies.' },
  remove_scope_tag: { label: 'Bulk remove scope tag', description: 'Removes a scope tag from many policies.' },
  rename: { label: 'Bulk rename', description: 'Renames many policies: prefix, suffix, find and replace.' },
  duplicate: {
    label: 'Bulk duplicate',
    description: 'Copies many policies within the tenant under new names, with or without their assignments.',
  },
  delete: { label: 'Bulk delete', description: 'Deletes many policies, after backing them up.' },
}

function spec(action: BulkAction): OperationSpec {
  return {
    ...LABELS[action],
    capability: 'bulk.execute',
    cancellable: true,
    // A bulk run acts on the selection frozen when it started: running it again later would act on a stale one.
    rerunnable: false,
    undoable: true,
    schedulable: false,
    input: bulkRunInput(action),
    failureCodes: {
      ...graphFailureCodes,
      not_found: 'The object was deleted in Intune after the last inventory sync: run a sync and select again.',
      write_refused:
        'Microsoft Graph refused the change (its message is on the item): fix what it names, then run the action again for that item.',
      backup_failed:
        'The backup taken before the change could not read every object: nothing was changed. Run the action again.',
    },
    // Resumable: each item's write goes through the write journal, so a re-queued attempt continues where the lost worker stopped without writing an item twice.
    idempotent: true,
    maxAttempts: 3,
    perTenantConcurrency: 1,
  }
}

/** The bulk module's operation types (issue 16): `bulk.<action>`. */
export const bulkOperationTypes = {
  'bulk.assign': spec('assign'),
  'bulk.unassign': spec('unassign'),
  'bulk.add_scope_tag': spec('add_scope_tag'),
  'bulk.remove_scope_tag': spec('remove_scope_tag'),
  'bulk.rename': spec('rename'),
  'bulk.duplicate': spec('duplicate'),
  'bulk.delete': spec('delete'),
} as const satisfies Record<`bulk.${BulkAction}`, OperationSpec>
