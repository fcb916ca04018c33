import { findPolicyType } from '../../graph/policy-types.ts'
import {
  type AssignParams,
  type BulkAction,
  type BulkParams,
  type DuplicateParams,
  MAX_NAME,
  mergeAssign,
  mergeScopeTag,
  mergeUnassign,
  type RenameParams,
  renamed,
  unsupportedReason,
} from './actions.ts'

/** An inventory item as the planner reads it: only what the actions look at. */
export type PlannedSource = {
  id: string
  policyType: string
  externalId: string
  displayName: string
  removed: boolean
  assignments: Record<string, unknown>[]
  scopeTagIds: unknown
}

export type PlanItem = {
  id: string
  policy_type: string
  policy_type_label: string
  external_id: string
  display_name: string
  action: 'change' | 'skip'
  /** Why it is skipped: unsupported_type, removed, unchanged, name_too_long. */
  code: string | null
  reason: string | null
  /** What changes, in one line for people. */
  summary: string | null
  /** rename: the name after it; duplicate: the copy's name. */
  new_name: string | null
}

const skip = (base: Omit<PlanItem, 'action' | 'code' | 'reason' | 'summary' | 'new_name'>, code: string, reason: string): PlanItem => ({ ...base, action: 'skip', code, reason, summary: null, new_name: null })
const change = (base: Omit<PlanItem, 'action' | 'code' | 'reason' | 'summary' | 'new_name'>, summary: string, newName: string | null = null): PlanItem => ({ ...base, action: 'change', code: null, reason: null, summary, new_name: newName })

/**
 * The plan for one item from its mirrored state: what the action changes, or why it is skipped.
 * The run re-reads each object from Graph before writing, so a change made since the last sync is
 * kept (the merge happens on the fresh read); the plan is what the console previews.
 */
export function planItem(action: BulkAction, params: BulkParams[BulkAction], source: PlannedSource): PlanItem {
  const entry = findPolicyType(source.policyType)
  const base = { id: source.id, policy_type: source.policyType, policy_type_label: entry?.label ?? source.policyType, external_id: source.externalId, display_name: source.displayName }
  if (!entry) return skip(base, 'unsupported_type', `${source.policyType} is not a supported policy type`)
  if (source.removed) return skip(base, 'removed', 'No longer in the tenant (removed at the last sync)')
  const unsupported = unsupportedReason(action, entry)
  if (unsupported) return skip(base, unsupported.code, unsupported.reason)
  switch (action) {
    case 'assign': {
      const p = params as AssignParams
      const merged = mergeAssign(entry, source.assignments, p)
      if (!merged) return skip(base, 'unchanged', `Already ${p.intent === 'include' ? 'assigned to' : 'excluding'} the group`)
      const kept = merged.length - 1
      return change(base, `${p.intent === 'include' ? 'Includes' : 'Excludes'} the group${p.filter_id ? ` with a filter (${p.filter_mode})` : ''}; keeps ${kept} other assignment${kept === 1 ? '' : 's'}`)
    }
    case 'unassign': {
      const merged = mergeUnassign(source.assignments, (params as BulkParams['unassign']).group_id)
      if (!merged) return skip(base, 'unchanged', 'The group is not assigned')
      return change(base, `Removes the group; keeps ${merged.length} other assignment${merged.length === 1 ? '' : 's'}`)
    }
    case 'add_scope_tag':
    case 'remove_scope_tag': {
      const tag = (params as BulkParams['add_scope_tag']).scope_tag_id
      const add = action === 'add_scope_tag'
      const tags = mergeScopeTag({ roleScopeTagIds: source.scopeTagIds }, tag, add)
      if (!tags) return skip(base, 'unchanged', add ? 'Already has the scope tag' : 'Does not have the scope tag')
      return change(base, `Scope tags: ${tags.join(', ')}`)
    }
    case 'rename': {
      const name = renamed(source.displayName, params as RenameParams)
      if (name === source.displayName) return skip(base, 'unchanged', 'The name does not change')
      if (name.trim() === '') return skip(base, 'invalid_name', 'The new name would be empty')
      if (name.length > MAX_NAME) return skip(base, 'name_too_long', `The new name would be longer than ${MAX_NAME} characters`)
      return change(base, `Renamed to "${name}"`, name)
    }
    case 'duplicate': {
      const p = params as DuplicateParams
      const name = `${source.displayName}${p.name_suffix}`
      if (name.length > MAX_NAME) return skip(base, 'name_too_long', `The copy's name would be longer than ${MAX_NAME} characters`)
      return change(base, `Copied as "${name}"${p.with_assignments ? ' with its assignments' : ' without assignments'}`, name)
    }
    case 'delete':
      return change(base, 'Deleted (kept in the backup taken first)')
  }
}
