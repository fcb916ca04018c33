import { z } from 'zod'
import {
  RUN_ITEM_STATUSES,
  RUN_OUTCOMES,
  RUN_STATUSES,
  type OperationRunItemRow,
  type OperationRunRow,
} from '../../db/schema.ts'
import { whyNot } from '../access/authority.ts'
import { can, canManageRun, type TenantAccess } from '../access/policy.ts'
import { FULL_SCOPE } from '../access/token-scope.ts'
import type { Catalog } from './catalog.ts'
import { runLinks } from './links.ts'
import type { RunWithNames } from './repository.ts'

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
    initiator: z
      .object({ id: z.string(), name: z.string() })
      .nullable()
      .describe('null for system runs (CLI, schedules)'),
    schedule: z
      .object({ id: z.string(), name: z.string() })
      .nullable()
      .describe('The schedule that started this system run; the console shows "Schedule: <name>"'),
    context: z.record(z.string(), z.unknown()),
    summary_counts: z.record(z.string(), z.number()),
    failures: z.array(
      z.object({
        code: z.string(),
        message: z.string(),
        subject: z.string().nullable(),
        severity: z
          .enum(['warning'])
          .optional()
          .describe('A warning: something was left out, the outcome is not affected'),
      }),
    ),
    units: z.array(
      z.object({
        key: z.string(),
        status: z.enum(['succeeded', 'failed', 'skipped']),
        counts: z.record(z.string(), z.number()),
        duration_ms: z.number(),
        error: z.object({ code: z.string(), message: z.string() }).nullable(),
        mode: z.enum(['full', 'quick']).optional().describe('Inventory sync: how the type was read'),
        note: z
          .string()
          .optional()
          .describe('Inventory sync: how a quick sync read the type (listed in full, or why it read it in full)'),
      }),
    ),
    attempt: z.number(),
    created_at: z.string(),
    started_at: z.string().nullable(),
    completed_at: z.string().nullable(),
    abilities: z
      .object({
        cancel: z.boolean(),
        rerun: z.boolean(),
        undo: z
          .boolean()
          .describe('A completed run of an undoable type (bulk) that the caller may undo (restore.execute)'),
      })
      .describe('What the caller may do with this run now: decided here, never re-derived by the console'),
    links: z.object({ self: z.string(), view: z.string() }),
  })
  .meta({ id: 'OperationRun' })

export const runItemResponse = z
  .object({
    id: z.string(),
    target: z.object({ type: z.string(), id: z.string(), name: z.string() }),
    action: z.string(),
    status: z.enum(RUN_ITEM_STATUSES),
    code: z.string().nullable(),
    message: z.string().nullable(),
  })
  .meta({ id: 'OperationRunItem' })

export const presentRunItem = (item: OperationRunItemRow): z.output<typeof runItemResponse> => ({
  id: String(item.id),
  target: { type: item.targetType, id: item.targetId, name: item.targetName },
  action: item.action,
  status: item.status,
  code: item.code,
  message: item.message,
})

export type RunResponse = z.output<typeof runResponse>

const statusLabel = (run: OperationRunRow) =>
  run.status === 'queued'
    ? 'Queued'
    : run.status === 'running'
      ? run.cancelRequestedAt
        ? 'Cancelling…'
        : 'Running'
      : 'Completed'

/**
 * What the caller may do with the run: cancel an active run of a cancellable type, re-run a
 * completed run of a re-runnable type they may start; operators only their own runs (modules/access/policy.ts).
 */
export function abilitiesOf(
  catalog: Catalog,
  access: TenantAccess,
  run: Pick<OperationRunRow, 'type' | 'status' | 'initiatorUserId'>,
) {
  const spec = catalog.has(run.type) ? catalog.spec(run.type) : undefined
  const manage = canManageRun(access, run)
  return {
    cancel: manage && spec?.cancellable === true && run.status !== 'completed',
    rerun: manage && spec?.rerunnable === true && run.status === 'completed' && can(access.role, spec.capability),
    // Undo plans and executes a restore: the one rule (role and token scope) for restore.execute.
    undo:
      spec?.undoable === true &&
      run.status === 'completed' &&
      whyNot(access.role, access.scope ?? FULL_SCOPE, 'restore.execute') === null,
  }
}

export function presentRun(catalog: Catalog, access: TenantAccess, row: RunWithNames): RunResponse {
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
    schedule: run.scheduleId ? { id: run.scheduleId, name: row.scheduleName ?? 'Deleted schedule' } : null,
    context: run.context,
    summary_counts: run.summaryCounts,
    failures: run.failures,
    units: run.units,
    attempt: run.attempt,
    created_at: run.createdAt.toISOString(),
    started_at: run.startedAt?.toISOString() ?? null,
    completed_at: run.completedAt?.toISOString() ?? null,
    abilities: abilitiesOf(catalog, access, run),
    links: runLinks(run.tenantId, run.id),
  }
}
