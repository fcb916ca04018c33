import { z } from 'zod'
import type { BaselineAssignmentRow, BaselineEntryRow, BaselineRow } from '../../db/schema.ts'

export const baselineResponse = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string(),
    home_tenant_id: z.string().describe('The tenant it was built from: its viewers see it, its managers change it'),
    version: z.number(),
    entry_count: z.number(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: 'Baseline' })

export const compareResponse = z.object({
  mode: z.enum(['whole', 'settings']),
  settings: z.array(z.string()).optional(),
  assignments: z.boolean(),
})

export const entryResponse = z
  .object({
    id: z.string(),
    policy_type: z.string(),
    display_name: z.string(),
    odata_type: z.string().nullable(),
    source: z.object({
      tenant_id: z.string(),
      item_id: z.string().nullable(),
      version_id: z.string().nullable(),
      backup_id: z.string().nullable(),
    }),
    compare: compareResponse,
    ignore: z.array(z.string()).describe('Setting paths never compared, besides the defaults (default_ignore)'),
    default_ignore: z.array(z.string()),
    content_hash: z.string(),
  })
  .meta({ id: 'BaselineEntry' })

export const versionResponse = z
  .object({ number: z.number(), summary: z.string(), entry_count: z.number(), created_at: z.string() })
  .meta({ id: 'BaselineVersion' })

export const versionDiffResponse = z
  .object({
    from: z.number(),
    to: z.number(),
    entries: z.array(
      z.object({
        entry_id: z.string(),
        policy_type: z.string(),
        display_name: z.string(),
        kind: z.enum(['added', 'removed', 'changed']),
        changes: z.array(
          z.object({
            path: z.string(),
            label: z.string(),
            kind: z.enum(['added', 'removed', 'changed']),
            before: z.unknown(),
            after: z.unknown(),
          }),
        ),
      }),
    ),
  })
  .meta({ id: 'BaselineVersionDiff' })

export const assignmentResponse = z
  .object({
    tenant_id: z.string(),
    baseline_id: z.string(),
    assigned: z.boolean().describe('false: never assigned (the defaults below are what PUT would store)'),
    enabled: z.boolean(),
    mapping: z.array(
      z.object({
        kind: z.enum(['group', 'assignment_filter', 'scope_tag']),
        source_id: z.string(),
        source_name: z.string().nullable(),
        target_id: z.string().nullable(),
        proposed_by: z.enum(['assignment', 'name', 'same']).nullable(),
      }),
    ),
    overrides: z.array(z.object({ entry_id: z.string(), path: z.string(), value: z.unknown() })),
    bindings: z.array(
      z.object({
        entry_id: z.string(),
        item_id: z.string().nullable(),
        display_name: z.string().nullable().describe("The bound object's current name in this tenant"),
        proposed: z.boolean().describe('Proposed by type and name, not yet stored'),
      }),
    ),
    evaluated_version: z.number().nullable(),
    evaluated_at: z.string().nullable(),
  })
  .meta({ id: 'BaselineAssignment' })

export function presentBaseline(row: BaselineRow, entryCount: number): z.infer<typeof baselineResponse> {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    home_tenant_id: row.homeTenantId,
    version: row.version,
    entry_count: entryCount,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  }
}

export function presentEntry(row: BaselineEntryRow, defaultIgnore: readonly string[]): z.infer<typeof entryResponse> {
  return {
    id: row.id,
    policy_type: row.policyType,
    display_name: row.displayName,
    odata_type: row.odataType,
    source: {
      tenant_id: row.sourceTenantId,
      item_id: row.sourceItemId,
      version_id: row.sourceVersionId,
      backup_id: row.sourceBackupId,
    },
    compare: row.compare,
    ignore: row.ignore,
    default_ignore: [...defaultIgnore],
    content_hash: row.contentHash,
  }
}

export type PresentableAssignment = Pick<
  BaselineAssignmentRow,
  'enabled' | 'overrides' | 'evaluatedVersion' | 'evaluatedAt'
>
