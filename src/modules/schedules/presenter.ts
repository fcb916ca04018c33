import { z } from 'zod'
import { RUN_OUTCOMES, RUN_STATUSES } from '../../db/schema.ts'
import type { Catalog } from '../operations/catalog.ts'
import { runLinks } from '../operations/links.ts'
import type { ScheduleWithLastRun } from './repository.ts'

export const scheduleResponse = z
  .object({
    id: z.string(),
    name: z.string(),
    operation_type: z.string(),
    operation_label: z.string(),
    input: z.record(z.string(), z.unknown()),
    cron: z.string(),
    timezone: z.string(),
    enabled: z.boolean(),
    next_run_at: z.string().nullable().describe('UTC; null while disabled'),
    blocked_reason: z
      .string()
      .nullable()
      .describe('Why its last slot started no run (e.g. its creator lost the capability); null when it did'),
    last_run: z
      .object({
        id: z.string(),
        status: z.enum(RUN_STATUSES),
        outcome: z.enum(RUN_OUTCOMES).nullable(),
        created_at: z.string(),
        links: z.object({ self: z.string(), view: z.string() }),
      })
      .nullable(),
  })
  .meta({ id: 'Schedule' })

export function presentSchedule(
  catalog: Catalog,
  { schedule, lastRun }: ScheduleWithLastRun,
): z.output<typeof scheduleResponse> {
  return {
    id: schedule.id,
    name: schedule.name,
    operation_type: schedule.operationType,
    operation_label: catalog.label(schedule.operationType),
    input: schedule.input,
    cron: schedule.cron,
    timezone: schedule.timezone,
    enabled: schedule.enabled,
    next_run_at: schedule.nextRunAt?.toISOString() ?? null,
    blocked_reason: schedule.blockedReason,
    last_run: lastRun
      ? {
          id: lastRun.id,
          status: lastRun.status,
          outcome: lastRun.outcome,
          created_at: lastRun.createdAt.toISOString(),
          links: runLinks(schedule.tenantId, lastRun.id),
        }
      : null,
  }
}
