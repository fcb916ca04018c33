import { z } from 'zod'
import { MAPPING_KINDS, RESTORE_ACTIONS, type RestorePlanItemRow, type RestorePlanRow } from '../../db/schema.ts'
import { findPolicyType } from '../../graph/policy-types.ts'
import type { PlanMappingEntry } from './plan.ts'

const change = z.object({
  path: z.string(),
  label: z.string(),
  kind: z.enum(['added', 'removed', 'changed']),
  before: z.unknown(),
  after: z.unknown(),
})

export const restorePlanItemResponse = z.object({
  id: z.string(),
  position: z.number(),
  policy_type: z.string(),
  type_label: z.string(),
  display_name: z.string(),
  action: z.enum(RESTORE_ACTIONS),
  reason: z.string().nullable(),
  warnings: z.array(z.string()),
  excluded: z.boolean(),
  source_id: z.string().describe("The object's id in the backup"),
  target_id: z.string().nullable().describe('The target object it updates or matches (update, skip)'),
  changes: z.array(change).nullable().describe('What an update changes, readable (null for other actions)'),
})

export const restoreMappingResponse = z.object({
  kind: z.enum(MAPPING_KINDS),
  source_id: z.string(),
  source_name: z.string(),
  target_id: z.string().nullable(),
  target_name: z.string().nullable(),
  proposed_by: z
    .enum(['remembered', 'name', 'same', 'restore'])
    .nullable()
    .describe(
      'remembered for the tenant pair, matched by name, the same object (same tenant), or the object this plan restores',
    ),
  gone: z
    .boolean()
    .describe(
      'Same tenant: the group or filter no longer exists there, so assignments to it are left out with a warning (Graph refuses them)',
    ),
})

export const restorePlanResponse = z
  .object({
    id: z.string(),
    backup_id: z.string(),
    source_tenant_id: z.string(),
    target_tenant_id: z.string(),
    built_at: z.string(),
    target_synced_at: z.string().nullable(),
    stale: z.boolean().describe('The target was synced after the plan was built: refresh before executing'),
    run_id: z.string().nullable(),
    counts: z.object({
      create: z.number(),
      update: z.number(),
      skip: z.number(),
      blocked: z.number(),
      excluded: z.number(),
    }),
    items: z.array(restorePlanItemResponse),
    mapping: z.array(restoreMappingResponse),
  })
  .meta({ id: 'RestorePlan' })

export function presentPlan(
  plan: RestorePlanRow,
  items: readonly RestorePlanItemRow[],
  syncedAt: Date | null,
): z.output<typeof restorePlanResponse> {
  const counts = { create: 0, update: 0, skip: 0, blocked: 0, excluded: 0 }
  for (const i of items) {
    if (i.excluded) counts.excluded++
    else counts[i.action]++
  }
  return {
    id: plan.id,
    backup_id: plan.backupId,
    source_tenant_id: plan.sourceTenantId,
    target_tenant_id: plan.targetTenantId,
    built_at: plan.builtAt.toISOString(),
    target_synced_at: plan.targetSyncedAt?.toISOString() ?? null,
    stale: syncedAt !== null && (plan.targetSyncedAt === null || syncedAt.getTime() > plan.targetSyncedAt.getTime()),
    run_id: plan.runId,
    counts,
    items: items.map((i) => ({
      id: i.id,
      position: i.position,
      policy_type: i.policyType,
      type_label: findPolicyType(i.policyType)?.label ?? i.policyType,
      display_name: i.displayName,
      action: i.action,
      reason: i.reason,
      warnings: i.warnings,
      excluded: i.excluded,
      source_id: i.sourceExternalId,
      target_id: i.targetExternalId,
      changes: (i.changes as z.output<typeof change>[] | null) ?? null,
    })),
    mapping: (plan.mapping as PlanMappingEntry[]).map((m) => ({
      kind: m.kind,
      source_id: m.source_id,
      source_name: m.source_name,
      target_id: m.target_id,
      target_name: m.target_name ?? null,
      proposed_by: m.proposed_by ?? null,
      gone: m.gone === true,
    })),
  }
}
