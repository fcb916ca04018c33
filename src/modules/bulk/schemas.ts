import { z } from 'zod'
import { POLICY_TYPES, usedCategories } from '../../graph/policy-types.ts'
import { BULK_ACTIONS } from './actions.ts'
import { bulkFilter } from './operation-types.ts'

/** The bodies of the bulk routes: a bulk request (preview or start) and a selection to describe. */
const TYPE_KEYS = POLICY_TYPES.map((e) => e.key)
const CATEGORY_KEYS: readonly string[] = usedCategories()

export const bulkRequest = z
  .strictObject({
    action: z.enum(BULK_ACTIONS, { error: `must be one of ${BULK_ACTIONS.join(', ')}` }),
    params: z.record(z.string(), z.unknown(), { error: 'must be an object' }).optional(),
    item_ids: z
      .array(z.uuid({ error: 'each item id must be an inventory item id (a UUID)' }), {
        error: 'must be a list of inventory item ids',
      })
      .max(10_000, { error: 'at most 10000 item ids: select by filter for more' })
      .optional(),
    filter: bulkFilter
      .extend({
        type: z
          .string()
          .refine((v) => TYPE_KEYS.includes(v), { error: 'unknown policy type' })
          .nullish(),
        category: z
          .string()
          .refine((v) => CATEGORY_KEYS.includes(v), { error: 'unknown category' })
          .nullish(),
      })
      .optional()
      .describe("The inventory list's filter: every present item it matches when the run starts"),
    dry_run: z.boolean({ error: 'must be true (preview the plan) or false (start the run)' }),
    preview_limit: z
      .number()
      .int()
      .min(0)
      .max(100_000)
      .optional()
      .describe('How many plan items a dry run lists (default 1000); the counts always cover every item'),
  })
  .meta({ id: 'BulkOperationRequest' })

export const selectionRequest = bulkRequest.pick({ item_ids: true, filter: true }).meta({ id: 'BulkSelection' })
