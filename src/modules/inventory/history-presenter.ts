import { z } from 'zod'
import { CHANGE_KINDS, type ChangedBy, type InventoryChangeRow, type InventoryVersionRow } from '../../db/schema.ts'

const changedByResponse = z
  .object({
    user_principal_name: z.string().optional(),
    app_name: z.string().optional(),
    activity: z.string(),
    at: z.string(),
    run_id: z
      .string()
      .optional()
      .describe('Set when a TenantAtlas run made the change (app_name "TenantAtlas", activity the run\'s action)'),
    initiated_by: z.string().nullable().optional().describe('Who started that run (null: a schedule or the system)'),
  })
  .nullable()
  .describe(
    "Who made the change: from Intune's audit log, or the TenantAtlas run that wrote it (run_id); null when unknown",
  )

export const versionResponse = z
  .object({
    id: z.string(),
    number: z.number().int(),
    content_hash: z.string(),
    captured_at: z.string(),
    run_id: z.string(),
    changed_by: changedByResponse,
  })
  .meta({ id: 'InventoryVersion' })

export const versionDetailResponse = versionResponse
  .extend({
    payload: z.record(z.string(), z.unknown()),
    assignments: z.array(z.record(z.string(), z.unknown())),
  })
  .meta({ id: 'InventoryVersionDetail' })

export const diffResponse = z
  .object({
    from: versionResponse.nullable().describe('The older version; null when the item has one version only'),
    to: versionResponse.nullable(),
    changes: z.array(
      z.object({
        path: z.string().describe('A stable key of what changed'),
        label: z.string().describe('What changed, named as the admin knows it'),
        kind: z.enum(['added', 'removed', 'changed']),
        before: z.unknown(),
        after: z.unknown(),
      }),
    ),
  })
  .meta({ id: 'InventoryDiff' })

export const changeResponse = z
  .object({
    id: z.string(),
    item_id: z.string(),
    policy_type: z.string(),
    display_name: z.string(),
    kind: z.enum(CHANGE_KINDS),
    version_id: z.string().nullable(),
    previous_version_id: z.string().nullable(),
    detected_at: z.string(),
    run_id: z.string(),
    changed_by: changedByResponse,
  })
  .meta({ id: 'InventoryChange' })

const presentChangedBy = (value: ChangedBy | null) => value ?? null

export function presentVersion(row: InventoryVersionRow) {
  return {
    id: row.id,
    number: row.number,
    content_hash: row.contentHash,
    captured_at: row.capturedAt.toISOString(),
    run_id: row.runId,
    changed_by: presentChangedBy(row.changedBy),
  }
}

export function presentChange(row: InventoryChangeRow) {
  return {
    id: row.id,
    item_id: row.itemId,
    policy_type: row.policyType,
    display_name: row.displayName,
    kind: row.kind,
    version_id: row.versionId,
    previous_version_id: row.previousVersionId,
    detected_at: row.detectedAt.toISOString(),
    run_id: row.runId,
    changed_by: presentChangedBy(row.changedBy),
  }
}
