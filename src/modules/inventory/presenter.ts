import { z } from 'zod'
import type { InventoryItemRow } from '../../db/schema.ts'
import { findPolicyType } from '../../graph/policy-types.ts'
import type { ItemListRow, ReferenceRow } from './repository.ts'

export const itemResponse = z
  .object({
    id: z.string(),
    tenant_id: z.string(),
    policy_type: z.string().describe('The policy type catalog key'),
    policy_type_label: z.string(),
    kind: z.enum(['policy', 'foundation', 'dependency']),
    external_id: z.string().describe('The Graph object id: the item identity'),
    display_name: z.string(),
    category: z.string(),
    platform: z.string(),
    last_modified_at: z.string().nullable().describe("Graph's lastModifiedDateTime when the content last changed"),
    first_seen_run_id: z.string(),
    last_seen_run_id: z.string(),
    removed_at: z.string().nullable(),
    updated_at: z.string(),
  })
  .meta({ id: 'InventoryItem' })

const assignmentResponse = z.object({
  intent: z.string().nullable().describe('Apps: required, available or uninstall'),
  target_type: z.string().describe('group, exclusionGroup, allDevices, allLicensedUsers, …'),
  group_id: z.string().nullable(),
  group_name: z.string().nullable(),
  orphaned: z.boolean().describe('The group was deleted in Entra'),
  filter_id: z.string().nullable(),
  filter_name: z.string().nullable(),
  filter_type: z.string().nullable(),
})

const referenceResponse = z.object({
  kind: z.enum(['group', 'foundation']),
  target_type: z.string(),
  target_external_id: z.string(),
  target_item_id: z.string().nullable(),
  display_name: z.string().nullable(),
  orphaned: z.boolean(),
})

export const itemDetailResponse = itemResponse
  .extend({
    payload: z.record(z.string(), z.unknown()).describe('Normalised: volatile fields stripped, keys and arrays sorted'),
    content_hash: z.string(),
    assignments: z.array(assignmentResponse),
    references: z.array(referenceResponse),
  })
  .meta({ id: 'InventoryItemDetail' })

const iso = (d: Date | null) => d?.toISOString() ?? null

export function presentItem(row: ItemListRow) {
  const entry = findPolicyType(row.policyType)
  return {
    id: row.id,
    tenant_id: row.tenantId,
    policy_type: row.policyType,
    policy_type_label: entry?.label ?? row.policyType,
    kind: entry?.kind ?? 'policy',
    external_id: row.externalId,
    display_name: row.displayName,
    category: row.category,
    platform: row.platform,
    last_modified_at: iso(row.graphLastModifiedAt),
    first_seen_run_id: row.firstSeenRunId,
    last_seen_run_id: row.lastSeenRunId,
    removed_at: iso(row.removedAt),
    updated_at: row.updatedAt.toISOString(),
  }
}

const str = (value: unknown) => (typeof value === 'string' && value !== '' ? value : null)

/** `#microsoft.graph.exclusionGroupAssignmentTarget` → `exclusionGroup`. */
const targetTypeOf = (odataType: unknown) =>
  typeof odataType === 'string'
    ? odataType.replace(/^#microsoft\.graph\./, '').replace(/AssignmentTarget$/, '') || 'unknown'
    : 'unknown'

export function presentItemDetail(
  row: { item: InventoryItemRow; lastSeenRunId: string },
  references: readonly ReferenceRow[],
) {
  const { item } = row
  const find = (type: string, id: string | null) =>
    id ? references.find((r) => r.target_type === type && r.target_external_id === id) : undefined
  const assignments = item.assignments.map((assignment) => {
    const target = (assignment.target ?? {}) as Record<string, unknown>
    const groupId = str(target.groupId)
    const filterId = str(target.deviceAndAppManagementAssignmentFilterId)
    const group = find('group', groupId)
    const filterType = str(target.deviceAndAppManagementAssignmentFilterType)
    return {
      intent: str(assignment.intent),
      target_type: targetTypeOf(target['@odata.type']),
      group_id: groupId,
      group_name: group?.display_name ?? null,
      orphaned: group?.orphaned ?? false,
      filter_id: filterId,
      filter_name: find('assignmentFilter', filterId)?.display_name ?? null,
      filter_type: filterType === 'none' ? null : filterType,
    }
  })
  return {
    ...presentItem({ ...item, lastSeenRunId: row.lastSeenRunId }),
    payload: item.payload,
    content_hash: item.contentHash,
    assignments,
    references: references.map((r) => ({ ...r })),
  }
}
