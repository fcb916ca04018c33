import { z } from 'zod'

export const scheduleParams = z.object({ tenantId: z.string(), scheduleId: z.string() })

const name = z
  .string({ error: 'must be a string' })
  .trim()
  .min(1, { error: 'is required' })
  .max(100, { error: 'must be at most 100 characters' })
const cron = z.string({ error: 'must be a string' }).max(200, { error: 'must be at most 200 characters' })
const timezone = z.string({ error: 'must be a string' }).max(64, { error: 'must be at most 64 characters' })
const input = z.record(z.string(), z.unknown(), { error: 'must be an object' })

export const createScheduleBody = z.strictObject({
  name,
  operation_type: z.string({ error: 'must be a string' }).max(100),
  input: input.optional(),
  cron,
  timezone: timezone.default('UTC'),
  enabled: z.boolean({ error: 'must be true or false' }).default(true),
})

export const updateScheduleBody = z.strictObject({
  name: name.optional(),
  input: input.optional(),
  cron: cron.optional(),
  timezone: timezone.optional(),
  enabled: z.boolean({ error: 'must be true or false' }).optional(),
})

export type CreateScheduleBody = z.output<typeof createScheduleBody>
export type UpdateScheduleBody = z.output<typeof updateScheduleBody>
