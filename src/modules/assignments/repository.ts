import { sql } from 'drizzle-orm'
import type { Executor } from '../../db/engine.ts'

export const ALL_USERS_TARGET = '#microsoft.graph.allLicensedUsersAssignmentTarget'
export const ALL_DEVICES_TARGET = '#microsoft.graph.allDevicesAssignmentTarget'

export type ReachingAssignment = {
  itemId: string
  policyType: string
  displayName: string
  assignment: { target?: Record<string, unknown>; intent?: unknown }
}

/**
 * The present objects of a tenant with an assignment whose target is one of these groups, or All users /
 * All devices when asked: one row per such assignment, as the inventory mirrored it from Graph.
 */
export async function assignmentsReaching(
  db: Executor,
  tenantId: string,
  groupIds: string[],
  broad: { allUsers: boolean; allDevices: boolean },
): Promise<ReachingAssignment[]> {
  const targets = [...(broad.allUsers ? [ALL_USERS_TARGET] : []), ...(broad.allDevices ? [ALL_DEVICES_TARGET] : [])]
  const { rows } = await db.execute<{
    id: string
    policy_type: string
    display_name: string
    assignment: ReachingAssignment['assignment']
  }>(sql`
    SELECT i.id, i.policy_type, i.display_name, a.value AS assignment
      FROM inventory_items i
     CROSS JOIN LATERAL jsonb_array_elements(i.assignments) AS a(value)
     WHERE i.tenant_id = ${tenantId} AND i.removed_at IS NULL AND jsonb_typeof(i.assignments) = 'array'
       AND (a.value->'target'->>'groupId' = ANY(${`{${groupIds.join(',')}}`}::text[])
            OR a.value->'target'->>'@odata.type' = ANY(${`{${targets.join(',')}}`}::text[]))
     ORDER BY i.policy_type, i.display_name, i.id`)
  return rows.map((r) => ({
    itemId: r.id,
    policyType: r.policy_type,
    displayName: r.display_name,
    assignment: r.assignment,
  }))
}

/** Names of mirrored objects of one type by their Graph ids (assignment filters, groups). */
export async function namesByExternalId(db: Executor, tenantId: string, policyType: string, externalIds: string[]) {
  if (externalIds.length === 0) return new Map<string, string>()
  const { rows } = await db.execute<{ external_id: string; display_name: string }>(sql`
    SELECT external_id, display_name FROM inventory_items
     WHERE tenant_id = ${tenantId} AND policy_type = ${policyType} AND external_id = ANY(${`{${externalIds.join(',')}}`}::text[])`)
  return new Map(rows.map((r) => [r.external_id, r.display_name]))
}
