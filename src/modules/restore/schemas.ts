import { z } from 'zod'
import { MAPPING_KINDS } from '../../db/schema.ts'

/** The bodies and parameters of the restore routes (validated once, by Fastify). */
export const planParams = z.object({ tenantId: z.string(), planId: z.string() })
const uuid = (what: string) => z.uuid({ error: `must be ${what} (a UUID)` })

export const createPlanBody = z
  .strictObject({
    backup_id: uuid('a backup set id').optional(),
    item_ids: z
      .array(uuid("an inventory item id of the backup's tenant"))
      .min(1, { error: 'must name at least one item' })
      .max(10_000, { error: 'at most 10000 item ids' })
      .optional(),
    version_id: uuid("a version id from an item's timeline").optional(),
  })
  .refine((b) => (b.backup_id === undefined) !== (b.version_id === undefined), {
    error: 'send backup_id (a backup set) or version_id (one version of an item), not both',
    path: ['backup_id'],
  })
  .refine((b) => b.version_id === undefined || b.item_ids === undefined, {
    error: 'item_ids go with backup_id, not version_id',
    path: ['item_ids'],
  })
  .meta({
    id: 'RestorePlanCreate',
    description:
      "A plan for a backup set (optionally only `item_ids`, inventory items of the backup's tenant), or for one version of an item (`version_id`)",
  })

export const mappingEdit = z.strictObject({
  kind: z.enum(MAPPING_KINDS, { error: `must be one of ${MAPPING_KINDS.join(', ')}` }),
  source_id: z.string().min(1).max(200),
  target_id: z.string().min(1).max(200).nullable(),
})
export const updatePlanBody = z
  .strictObject({
    mapping: z.array(mappingEdit).max(10_000).optional(),
    excluded_item_ids: z.array(uuid('a plan item id')).max(10_000).optional(),
    included_item_ids: z.array(uuid('a plan item id')).max(10_000).optional(),
    refresh: z.boolean({ error: 'must be true or false' }).optional(),
  })
  .meta({
    id: 'RestorePlanUpdate',
    description:
      'Edit the mapping (remembered for the tenant pair), leave items out or back in, or rebuild the plan against the current inventory (`refresh`)',
  })

export type CreatePlanBody = z.infer<typeof createPlanBody>
export type UpdatePlanBody = z.infer<typeof updatePlanBody>
