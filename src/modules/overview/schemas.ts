import { z } from 'zod'
import { RUN_OUTCOMES, RUN_STATUSES } from '../../db/schema.ts'
import { ROLES } from '../access/policy.ts'
import { HEALTHS } from './attention.ts'

export const overviewQuery = z.strictObject({ tenant_group_id: z.string().max(100).optional() })

const link = z.string().describe("The console's page for this cell")

export const overviewRow = z
  .object({
    tenant: z.object({ id: z.string(), name: z.string(), role: z.enum(ROLES) }),
    health: z.enum(HEALTHS).describe('The health dot: the worst severity among `attention`'),
    attention: z.array(z.object({ code: z.string(), severity: z.enum(['critical', 'warning']), message: z.string() })),
    sync: z.object({
      last_success_at: z.string().nullable(),
      age_seconds: z.number().nullable(),
      fresh: z.boolean().describe('A successful sync within the last 24 hours'),
      last_run: z
        .object({
          id: z.string(),
          status: z.enum(RUN_STATUSES),
          outcome: z.enum(RUN_OUTCOMES).nullable(),
          created_at: z.string(),
          link,
        })
        .nullable(),
      link,
    }),
    permission_gaps: z.array(z.object({ policy_type: z.string(), permission: z.string() })),
    changes_7d: z.object({
      count: z.number(),
      by: z
        .array(z.object({ name: z.string(), count: z.number() }))
        .describe('Who made the newest 20 of them, most active first'),
      link,
    }),
    newest_backup: z.object({ id: z.string(), created_at: z.string(), age_seconds: z.number(), link }).nullable(),
    expiring_credentials: z.array(
      z.object({
        item_id: z.string(),
        policy_type: z.string(),
        display_name: z.string(),
        expires_at: z.string(),
        link,
      }),
    ),
    findings: z
      .object({ low: z.number(), medium: z.number(), high: z.number(), critical: z.number(), link })
      .nullable()
      .describe('Open and acknowledged findings by severity; null: no enabled baseline'),
    alignment: z
      .object({
        entries: z.number(),
        deviating: z.number(),
        unknown: z.number(),
        score: z.number().nullable().describe('Entries without a standing finding per hundred judged ones'),
        coverage: z.number().describe('Judged entries per hundred (entries with unknown findings are not judged)'),
        link,
      })
      .nullable()
      .describe('Alignment with the enabled baselines; null: none'),
  })
  .meta({ id: 'OverviewRow' })

export const overviewResponse = z.object({
  data: z.array(overviewRow),
  next_cursor: z.null(),
  generated_at: z.string(),
})
export type OverviewRow = z.output<typeof overviewRow>
