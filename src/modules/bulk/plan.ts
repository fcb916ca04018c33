import { type SQL, sql } from 'drizzle-orm'
import { inventoryItems } from '../../db/schema.ts'
import { findPolicyType, POLICY_TYPES } from '../../graph/policy-types.ts'
import {
  ALL_TARGET_LABELS,
  allTargetType,
  assignmentFor,
  type AllTarget,
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

/** Why an item the action would not change is skipped (the codes after the type checks). */
function actionSkipReason(
  action: BulkAction,
  params: BulkParams[BulkAction],
  code: 'unchanged' | 'invalid_name' | 'name_too_long',
): string {
  switch (code) {
    case 'invalid_name':
      return 'The new name would be empty'
    case 'name_too_long':
      return action === 'duplicate'
        ? `The copy's name would be longer than ${MAX_NAME} characters`
        : `The new name would be longer than ${MAX_NAME} characters`
    case 'unchanged':
      switch (action) {
        case 'assign':
          return (params as AssignParams).target
            ? `Already assigned to ${ALL_TARGET_LABELS[(params as AssignParams).target!]}`
            : `Already ${(params as AssignParams).intent === 'include' ? 'assigned to' : 'excluding'} the group`
        case 'unassign':
          return 'The group is not assigned'
        case 'add_scope_tag':
          return 'Already has the scope tag'
        case 'remove_scope_tag':
          return 'Does not have the scope tag'
        default:
          return 'The name does not change'
      }
  }
}

const skip = (
  base: Omit<PlanItem, 'action' | 'code' | 'reason' | 'summary' | 'new_name'>,
  code: string,
  reason: string,
): PlanItem => ({ ...base, action: 'skip', code, reason, summary: null, new_name: null })
const change = (
  base: Omit<PlanItem, 'action' | 'code' | 'reason' | 'summary' | 'new_name'>,
  summary: string,
  newName: string | null = null,
): PlanItem => ({ ...base, action: 'change', code: null, reason: null, summary, new_name: newName })

/**
 * The plan for one item from its mirrored state: what the action changes, or why it is skipped.
 * The run re-reads each object from Graph before writing, so a change made since the last sync is
 * kept (the merge happens on the fresh read); the plan is what the console previews.
 */
export function planItem(action: BulkAction, params: BulkParams[BulkAction], source: PlannedSource): PlanItem {
  const entry = findPolicyType(source.policyType)
  const base = {
    id: source.id,
    policy_type: source.policyType,
    policy_type_label: entry?.label ?? source.policyType,
    external_id: source.externalId,
    display_name: source.displayName,
  }
  if (!entry) return skip(base, 'unsupported_type', `${source.policyType} is not a supported policy type`)
  if (source.removed) return skip(base, 'removed', 'No longer in the tenant (removed at the last sync)')
  const unsupported = unsupportedReason(action, entry)
  if (unsupported) return skip(base, unsupported.code, unsupported.reason)
  switch (action) {
    case 'assign': {
      const p = params as AssignParams
      const merged = mergeAssign(entry, source.assignments, p)
      if (!merged) return skip(base, 'unchanged', actionSkipReason(action, params, 'unchanged'))
      const kept = merged.length - 1
      return change(
        base,
        `${p.intent === 'include' ? 'Includes' : 'Excludes'} ${p.target ? ALL_TARGET_LABELS[p.target] : 'the group'}${p.filter_id ? ` with a filter (${p.filter_mode})` : ''}; keeps ${kept} other assignment${kept === 1 ? '' : 's'}`,
      )
    }
    case 'unassign': {
      const merged = mergeUnassign(source.assignments, (params as BulkParams['unassign']).group_id)
      if (!merged) return skip(base, 'unchanged', actionSkipReason(action, params, 'unchanged'))
      return change(base, `Removes the group; keeps ${merged.length} other assignment${merged.length === 1 ? '' : 's'}`)
    }
    case 'add_scope_tag':
    case 'remove_scope_tag': {
      const tag = (params as BulkParams['add_scope_tag']).scope_tag_id
      const add = action === 'add_scope_tag'
      const tags = mergeScopeTag({ roleScopeTagIds: source.scopeTagIds }, tag, add)
      if (!tags) return skip(base, 'unchanged', actionSkipReason(action, params, 'unchanged'))
      return change(base, `Scope tags: ${tags.join(', ')}`)
    }
    case 'rename': {
      const name = renamed(source.displayName, params as RenameParams)
      if (name === source.displayName) return skip(base, 'unchanged', actionSkipReason(action, params, 'unchanged'))
      if (name.trim() === '') return skip(base, 'invalid_name', actionSkipReason(action, params, 'invalid_name'))
      if (name.length > MAX_NAME) return skip(base, 'name_too_long', actionSkipReason(action, params, 'name_too_long'))
      return change(base, `Renamed to "${name}"`, name)
    }
    case 'duplicate': {
      const p = params as DuplicateParams
      const name = `${source.displayName}${p.name_suffix}`
      if (name.length > MAX_NAME) return skip(base, 'name_too_long', actionSkipReason(action, params, 'name_too_long'))
      return change(
        base,
        `Copied as "${name}"${p.with_assignments ? ' with its assignments' : ' without assignments'}`,
        name,
      )
    }
    case 'delete':
      return change(base, 'Deleted (kept in the backup taken first)')
  }
}

// ---- The same decisions in SQL, to count a whole selection without reading it ----

/** JavaScript's whitespace (what `String.prototype.trim` removes), as a PostgreSQL bracket expression. */
const JS_WHITESPACE = '[\\u0009-\\u000d\\u0020\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff]'
/** A text's length as JavaScript counts it (UTF-16 code units: a character beyond U+FFFF counts twice). */
const jsLength = (text: SQL) =>
  sql`(char_length(${text}) * 2 - char_length(regexp_replace(${text}, '[\\U00010000-\\U0010FFFF]', '', 'g')))`

const ITEM_ASSIGNMENTS = sql`jsonb_array_elements(CASE WHEN jsonb_typeof(${inventoryItems.assignments}) = 'array' THEN ${inventoryItems.assignments} ELSE '[]'::jsonb END)`
/** An assignment `a` targets the group (its groupId a string, compared without case). */
/** The SQL twin of whomOf for All users / All devices: the assignment's target is of that type. */
const targetsAll = (target: AllTarget) => sql`a -> 'target' ->> '@odata.type' = ${allTargetType(target)}::text`
const targetsGroup = (groupId: string) =>
  sql`jsonb_typeof(a -> 'target' -> 'groupId') = 'string' AND lower(a -> 'target' ->> 'groupId') = lower(${groupId}::text)`

/**
 * The skip key of an item as SQL, deciding exactly as `planItem` does: `unknown:<type>`,
 * `removed`, `type:<type>` (the type cannot take the action), `unchanged`, `invalid_name`,
 * `name_too_long`, or NULL when the item changes. `skipReasonOf` turns a key into its code and reason.
 */
export function skipKeySql(action: BulkAction, params: BulkParams[BulkAction]): SQL {
  const known = `{${POLICY_TYPES.map((e) => e.key).join(',')}}`
  const unsupported = `{${POLICY_TYPES.filter((e) => unsupportedReason(action, e))
    .map((e) => e.key)
    .join(',')}}`
  const cases: SQL[] = [
    sql`WHEN NOT (${inventoryItems.policyType} = ANY(${known}::text[])) THEN 'unknown:' || ${inventoryItems.policyType}`,
    sql`WHEN ${inventoryItems.removedAt} IS NOT NULL THEN 'removed'`,
    sql`WHEN ${inventoryItems.policyType} = ANY(${unsupported}::text[]) THEN 'type:' || ${inventoryItems.policyType}`,
  ]
  switch (action) {
    case 'assign': {
      const p = params as AssignParams
      const wanted = JSON.stringify(assignmentFor(POLICY_TYPES[0]!, p).target)
      // mergeAssign's "already there exactly so": one assignment of the group, its target (without null values or a "none" filter type) the wanted one.
      const normalized = sql`(SELECT coalesce(jsonb_object_agg(t.key, t.value), '{}'::jsonb) FROM jsonb_each(CASE WHEN jsonb_typeof(a -> 'target') = 'object' THEN a -> 'target' ELSE '{}'::jsonb END) AS t
        WHERE t.value <> 'null'::jsonb AND NOT (t.key = 'deviceAndAppManagementAssignmentFilterType' AND t.value = '"none"'::jsonb))`
      // One pass over the item's assignments; the target is normalized only for the group's one.
      cases.push(
        sql`WHEN (SELECT count(*) = 1 AND bool_and(${normalized} = ${wanted}::jsonb) FROM ${ITEM_ASSIGNMENTS} AS a WHERE ${p.target ? targetsAll(p.target) : targetsGroup(p.group_id!)}) THEN 'unchanged'`,
      )
      break
    }
    case 'unassign':
      cases.push(
        sql`WHEN NOT EXISTS (SELECT 1 FROM ${ITEM_ASSIGNMENTS} AS a WHERE ${targetsGroup((params as BulkParams['unassign']).group_id)}) THEN 'unchanged'`,
      )
      break
    case 'add_scope_tag':
    case 'remove_scope_tag': {
      const tag = (params as BulkParams['add_scope_tag']).scope_tag_id
      // Policy sets and assignment filters name the list roleScopeTags.
      const tags = sql`COALESCE(${inventoryItems.payload} -> 'roleScopeTagIds', ${inventoryItems.payload} -> 'roleScopeTags')`
      // mergeScopeTag: the tags as strings, or Default ("0") when the object has no list.
      const has = sql`(CASE WHEN jsonb_typeof(${tags}) = 'array'
        THEN EXISTS (SELECT 1 FROM jsonb_array_elements(${tags}) AS e WHERE (CASE WHEN jsonb_typeof(e) = 'null' THEN 'null' ELSE e #>> '{}' END) = ${tag}::text)
        ELSE ${tag}::text = '0' END)`
      cases.push(action === 'add_scope_tag' ? sql`WHEN ${has} THEN 'unchanged'` : sql`WHEN NOT ${has} THEN 'unchanged'`)
      break
    }
    case 'rename': {
      const p = params as RenameParams
      const replaced = p.find
        ? sql`replace(${inventoryItems.displayName}, ${p.find}::text, ${p.replace}::text)`
        : sql`${inventoryItems.displayName}`
      const name = sql`(${p.prefix}::text || ${replaced} || ${p.suffix}::text)`
      cases.push(sql`WHEN ${name} = ${inventoryItems.displayName} THEN 'unchanged'`)
      cases.push(sql`WHEN ${name} ~ ${`^${JS_WHITESPACE}*$`}::text THEN 'invalid_name'`)
      cases.push(sql`WHEN ${jsLength(name)} > ${MAX_NAME} THEN 'name_too_long'`)
      break
    }
    case 'duplicate':
      cases.push(
        sql`WHEN ${jsLength(sql`(${inventoryItems.displayName} || ${(params as DuplicateParams).name_suffix}::text)`)} > ${MAX_NAME} THEN 'name_too_long'`,
      )
      break
    case 'delete':
      break
  }
  return sql`(CASE ${sql.join(cases, sql` `)} ELSE NULL END)`
}

/** The code and reason of a skip key from `skipKeySql` (the same as `planItem` gives). */
export function skipReasonOf(
  action: BulkAction,
  params: BulkParams[BulkAction],
  key: string,
): { code: string; reason: string } {
  if (key.startsWith('unknown:'))
    return { code: 'unsupported_type', reason: `${key.slice('unknown:'.length)} is not a supported policy type` }
  if (key === 'removed') return { code: 'removed', reason: 'No longer in the tenant (removed at the last sync)' }
  if (key.startsWith('type:')) return unsupportedReason(action, findPolicyType(key.slice('type:'.length))!)!
  const code = key as 'unchanged' | 'invalid_name' | 'name_too_long'
  return { code, reason: actionSkipReason(action, params, code) }
}
