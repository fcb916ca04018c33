import { z } from 'zod'
import { RUN_OUTCOMES, RUN_STATUSES, type OperationRunRow } from '../../db/schema.ts'
import type { Catalog } from './catalog.ts'
import { runLinks } from './links.ts'

export const runResponse = z
  .object({
    id: z.string(),
    tenant_id: z.string(),
    type: z.string(),
    type_label: z.string(),
    status: z.enum(RUN_STATUSES),
    status_label: z.string().describe('Queued, Running, Cancelling… or Completed'),
    outcome: z.enum(RUN_OUTCOMES).nullable(),
    cancel_requested: z.boolean(),
    initiator: z.object({ id: z.string(), name: z.string() }).nullable().describe('null for system runs (CLI, schedules)'),
    context: z.record(z.string(), z.unknown()),
    summary_counts: z.record(z.string(), z.number()),
    failures: z.array(z.object({ code: z.string(), message: z.string(), subject: z.string().nullable() })),
    units: z.array(
      z.object({
        key: z.string(),
        status: z.enum(['succeeded', 'failed', 'skipped']),
        counts: z.record(z.string(), z.number()),
        duration_ms: z.number(),
        error: z.object({ code: z.string(), message: z.string() }).nullable(),
      }),
    ),
    attempt: z.number(),
    created_at: z.string(),
    started_at: z.string().nullable(),
    completed_at: z.string().nullable(),
    links: z.object({ self: z.string(), view: z.string() }),
  })
  .meta({ id: 'OperationRun' })

export type RunResponse = z.output<typeof runResponse>

const statusLabel = (run: OperationRunRow) =>
  run.status === 'queued' ? 'Queued' : run.status === 'running' ? (run.cancelRequestedAt ? 'Cancelling…' : 'Running') : 'Completed'

export function presentRun(catalog: Catalog, row: { run: OperationRunRow; initiatorName: string | null }): RunResponse {
  const { run } = row
  return {
    id: run.id,
    tenant_id: run.tenantId,
    type: run.type,
    type_label: catalog.label(run.type),
    status: run.status,
    status_label: statusLabel(run),
    outcome: run.outcome,
    cancel_requested: run.cancelRequestedAt !== null,
    initiator: run.initiatorUserId ? { id: run.initiatorUserId, name: row.initiatorName ?? 'Deleted user' } : null,
    context: run.context,
    summary_counts: run.summaryCounts,
    failures: run.failures,
    units: run.units,
    attempt: run.attempt,
    created_at: run.createdAt.toISOString(),
    started_at: run.startedAt?.toISOString() ?? null,
    completed_at: run.completedAt?.toISOString() ?? null,
    links: runLinks(run.tenantId, run.id),
  }
}
