import { z } from 'zod'
import { UUID_PATTERN } from '../../lib/ids.ts'
import { requiredText } from '../../lib/validation.ts'

/** At most this many entries in one baseline (the benchmark's 1,000 with room). */
export const MAX_ENTRIES = 5_000

const uuid = (what: string) => z.uuid({ error: `must be ${what} (a UUID)` })
const itemIds = z
  .array(uuid('an inventory item id'), { error: 'must be a list of inventory item ids' })
  .min(1, { error: 'must name at least one item' })
  .max(MAX_ENTRIES, { error: `must hold at most ${MAX_ENTRIES} items` })
const settingPath = z
  .string()
  .min(1, { error: 'must not be empty' })
  .max(500, { error: 'must be at most 500 characters' })
const paths = z
  .array(settingPath, { error: 'must be a list of setting paths' })
  .max(500, { error: 'at most 500 paths' })

export const compareSchema = z.strictObject({
  mode: z.enum(['whole', 'settings'], { error: 'must be whole or settings' }),
  settings: paths.optional().describe('With mode settings: the setting paths compared (the diff’s paths)'),
  assignments: z.boolean({ error: 'must be true or false' }),
})

export const baselineFrom = z.union(
  [
    z.strictObject({ tenant_id: uuid('a tenant id'), item_ids: itemIds }),
    z.strictObject({ backup_id: uuid('a backup set id'), item_ids: itemIds.optional() }),
  ],
  { error: 'must be {tenant_id, item_ids} or {backup_id, item_ids?}' },
)

export const createBaselineBody = z
  .strictObject({
    name: requiredText(200),
    description: z.string({ error: 'must be a string' }).max(2000, { error: 'at most 2000 characters' }).optional(),
    from: baselineFrom,
  })
  .meta({ id: 'BaselineCreate' })

export const updateBaselineBody = z
  .strictObject({
    name: requiredText(200).optional(),
    description: z.string({ error: 'must be a string' }).max(2000, { error: 'at most 2000 characters' }).optional(),
  })
  .refine((v) => v.name !== undefined || v.description !== undefined, { error: 'name at least one field to change' })

export const addEntriesBody = z.strictObject({ from: baselineFrom }).meta({ id: 'BaselineEntriesAdd' })

export const updateEntryBody = z
  .strictObject({
    compare: compareSchema.optional(),
    ignore: paths.optional(),
    repin: z
      .string({ error: 'must be latest or an inventory version id of the source item' })
      .refine((v) => v === 'latest' || UUID_PATTERN.test(v), {
        error: 'must be latest or an inventory version id of the source item',
      })
      .optional()
      .describe("Pin the entry to its source item's latest version, or to one of its versions"),
  })
  .refine((v) => v.compare !== undefined || v.ignore !== undefined || v.repin !== undefined, {
    error: 'name at least one field to change',
  })

export const baselineParams = z.object({ baselineId: z.string() })
export const entryParams = z.object({ baselineId: z.string(), entryId: z.string() })
export const assignmentParams = z.object({ tenantId: z.string(), baselineId: z.string() })

export const mappingSchema = z.strictObject({
  kind: z.enum(['group', 'assignment_filter', 'scope_tag'], { error: 'must be group, assignment_filter or scope_tag' }),
  source_id: z.string().min(1).max(200),
  target_id: z.string().min(1).max(200).nullable(),
})

export const assignmentBody = z
  .strictObject({
    enabled: z.boolean({ error: 'must be true or false' }).optional(),
    mapping: z.array(mappingSchema, { error: 'must be a list of mappings' }).max(5000).optional(),
    overrides: z
      .array(z.strictObject({ entry_id: uuid('an entry id'), path: settingPath, value: z.unknown() }), {
        error: 'must be a list of {entry_id, path, value}',
      })
      .max(5000)
      .optional(),
    bindings: z
      .array(z.strictObject({ entry_id: uuid('an entry id'), item_id: uuid('an inventory item id').nullable() }), {
        error: 'must be a list of {entry_id, item_id}',
      })
      .max(MAX_ENTRIES)
      .optional(),
  })
  .meta({ id: 'BaselineAssignmentUpdate' })

export const versionsDiffQuery = z.object({
  from: z.coerce.number({ error: 'must be a version number' }).int().min(1).optional(),
  to: z.coerce.number({ error: 'must be a version number' }).int().min(1).optional(),
})

export type CreateBaselineBody = z.output<typeof createBaselineBody>
export type BaselineFrom = z.output<typeof baselineFrom>
export type AssignmentBody = z.output<typeof assignmentBody>
export type UpdateEntryBody = z.output<typeof updateEntryBody>
