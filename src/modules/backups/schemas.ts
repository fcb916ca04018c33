import { z } from 'zod'
import { cursorQuery } from '../../http/schemas.ts'

/** The params, queries and bodies of the backup routes (validated once, by Fastify). */
export const backupParams = z.object({ tenantId: z.string(), backupId: z.string() })
export const text = (max: number) =>
  z
    .string()
    .max(max)
    .refine((v) => !v.includes('\0'), { error: 'must not contain a NUL character' })

export const createBody = z
  .strictObject({
    name: z.string().optional(),
    selection: z.record(z.string(), z.unknown()).optional(),
    item_ids: z.array(z.string()).optional(),
  })
  .meta({
    id: 'BackupCreate',
    description:
      'Omitted: a backup of everything. `selection` as for an inventory sync; `item_ids` adds individual inventory items',
  })

export const updateBody = z
  .strictObject({
    name: text(200).trim().min(1, { error: 'must not be empty' }).optional(),
    labels: z
      .array(text(50).trim().min(1, { error: 'must not be empty' }))
      .max(20, { error: 'at most 20 labels' })
      .optional(),
    protected: z.boolean({ error: 'must be true or false' }).optional(),
  })
  .meta({ id: 'BackupUpdate' })

export const retentionBody = z.strictObject({
  keep_last: z.number({ error: 'must be a number' }).int().min(0).max(10_000),
  keep_days: z.number({ error: 'must be a number' }).int().min(0).max(36_500),
})
export const retentionResponse = z.object({ keep_last: z.number(), keep_days: z.number() }).nullable()

export const itemsQuery = cursorQuery.extend({
  type: text(100).optional(),
  q: text(200).optional().describe('Text search in display names'),
})
export const itemQuery = z.object({ type: text(100), id: text(500) })
export const missingQuery = cursorQuery.extend({
  cursor: z.coerce
    .number({ error: 'must be the next_cursor of the previous page' })
    .int()
    .min(0)
    .max(1_000_000)
    .optional(),
})
export const pruneBody = z
  .strictObject({
    delete_last_full_backup: z
      .boolean({ error: 'must be true or false' })
      .optional()
      .describe("Allow the prune to delete the tenant's last full backup"),
  })
  .nullish()
