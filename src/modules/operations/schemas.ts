import { z } from 'zod'
import { RUN_OUTCOMES, RUN_STATUSES } from '../../db/schema.ts'
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
