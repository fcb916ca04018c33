import { ALL_DEVICES_TARGET, ALL_USERS_TARGET, type ReachingAssignment } from './repository.ts'
import type { AssignmentResolution } from './schemas.ts'

type Row = AssignmentResolution['assignments'][number]
const EXCLUDE_TARGET = '#microsoft.graph.exclusionGroupAssignmentTarget'

const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null)

/**
 * Turns the assignments that reach a subject's groups into the view: include or exclude, the app's
 * intent, which group (or All users / All devices) carries it, its filter and the filter's mode. An
 * object that an exclude reaches is not applied, whatever includes reach it too: Intune lets
 * exclusions win, so every include of such an object is marked not effective.
 */
export function resolveAssignments(
  tenantId: string,
  reaching: ReachingAssignment[],
  groups: Map<string, string>,
  filterNames: Map<string, string>,
): Row[] {
  const rows = reaching.map(({ itemId, policyType, displayName, assignment }): Row => {
    const target = assignment.target ?? {}
    const type = target['@odata.type']
    const groupId = text(target.groupId)
    const filterId = text(target.deviceAndAppManagementAssignmentFilterId)
    const mode = target.deviceAndAppManagementAssignmentFilterType
    return {
      item: {
        id: itemId,
        policy_type: policyType,
        display_name: displayName,
        link: `/t/${tenantId}/inventory/${itemId}`,
      },
      kind: type === EXCLUDE_TARGET ? 'exclude' : 'include',
      intent: text(assignment.intent),
      via: type === ALL_USERS_TARGET ? 'all_users' : type === ALL_DEVICES_TARGET ? 'all_devices' : 'group',
      via_group: groupId ? { id: groupId, name: groups.get(groupId) ?? groupId } : null,
      filter:
        filterId && (mode === 'include' || mode === 'exclude')
          ? { id: filterId, name: filterNames.get(filterId) ?? null, mode }
          : null,
      effective: true,
    }
  })
  const excluded = new Set(rows.filter((r) => r.kind === 'exclude').map((r) => r.item.id))
  return rows.map((r) => (r.kind === 'include' && excluded.has(r.item.id) ? { ...r, effective: false } : r))
}

export const filterIdsOf = (reaching: ReachingAssignment[]) => [
  ...new Set(reaching.flatMap((r) => text(r.assignment.target?.deviceAndAppManagementAssignmentFilterId) ?? [])),
]
