import { z } from 'zod'
import { RUN_ITEM_STATUSES, RUN_OUTCOMES, RUN_STATUSES } from '../../db/schema.ts'
import { validationError } from '../../lib/errors.ts'
import { UUID_PATTERN } from '../../lib/ids.ts'

export const runParams = z.object({ tenantId: z.string(), runId: z.string() })

export const listRunsQuery = z.strictObject({
  type: z.string().max(100).optional(),
  status: z.enum(RUN_STATUSES, { error: `must be one of ${RUN_STATUSES.join(', ')}` }).optional(),
  outcome: z.enum(RUN_OUTCOMES, { error: `must be one of ${RUN_OUTCOMES.join(', ')}` }).optional(),
  initiator: z
    .string()
    .refine((v) => v === 'system' || UUID_PATTERN.test(v), { error: 'must be a user id or "system"' })
    .optional(),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number({ error: 'must be a number' }).int().min(1).max(200).default(50),
})

/** A status, or a group of results the console shows apart (ADR 026: the writes first, blocked counted as blocked). */
export const RUN_ITEM_FILTERS = [...RUN_ITEM_STATUSES, 'written', 'blocked'] as const
export type RunItemFilter = (typeof RUN_ITEM_FILTERS)[number]

export const listRunItemsQuery = z.strictObject({
  status: z
    .enum(RUN_ITEM_FILTERS, { error: `must be one of ${RUN_ITEM_FILTERS.join(', ')}` })
    .optional()
    .describe(
      '`written`: succeeded or failed (what the run wrote or tried to); `blocked`: skipped because they cannot be written; `skipped`: the other skips',
    ),
  cursor: z.string().max(40).optional(),
  limit: z.coerce.number({ error: 'must be a number' }).int().min(1).max(500).default(100),
})

/** An items cursor is the last item's id (a positive integer); anything else is a 422 naming `cursor`. */
export function decodeItemCursor(cursor: string | undefined): number | undefined {
  if (cursor === undefined) return undefined
  const id = /^[1-9][0-9]{0,17}$/.test(cursor) ? Number(cursor) : Number.NaN
  if (!Number.isSafeInteger(id))
    throw validationError([{ field: 'cursor', message: 'is not a cursor this API returned' }])
  return id
}

export const operationTypeResponse = z
  .object({
    type: z.string(),
    label: z.string(),
    description: z.string(),
    capability: z.string().describe('The capability that starts the type'),
    cancellable: z.boolean(),
    rerunnable: z.boolean(),
    schedulable: z.boolean(),
    failure_codes: z.array(
      z.object({ code: z.string(), fix: z.string().describe('What a person should do about it') }),
    ),
  })
  .meta({ id: 'OperationType' })
