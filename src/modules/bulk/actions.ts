import { z } from 'zod'
import type { PolicyTypeEntry } from '../../graph/policy-types.ts'

/**
 * Bulk actions (issue 16): what each one takes, which policy types can take it, and what it does
 * to one object's content. Pure: the planner, the console's action bar (through the API) and the
 * run handler all decide from here.
 */

export const BULK_ACTIONS = [
  'assign',
  'unassign',
  'add_scope_tag',
  'remove_scope_tag',
  'rename',
  'duplicate',
  'delete',
] as const
export type BulkAction = (typeof BULK_ACTIONS)[number]

/** The operation type of an action's run: `bulk.<action>`. */
export const runTypeOf = (action: BulkAction) => `bulk.${action}` as const

const text = (max: number) =>
  z
    .string({ error: 'must be a string' })
    .max(max, { error: `at most ${max} characters` })
    .refine((v) => !v.includes('\0'), { error: 'must not contain a NUL character' })
const graphId = (what: string) =>
  z
    .string({ error: `is required (the ${what}'s id)` })
    .trim()
    .min(1, { error: `is required (the ${what}'s id)` })
    .max(200, { error: 'at most 200 characters' })
    .regex(/^[A-Za-z0-9._-]+$/, { error: `must be a ${what} id (letters, digits, dots, dashes)` })

/** The assignment targets `assign` takes besides a group: Graph's All users and All devices. */
export const ALL_TARGETS = ['all_users', 'all_devices'] as const
export type AllTarget = (typeof ALL_TARGETS)[number]
const ALL_TARGET_TYPES: Record<AllTarget, string> = {
  all_users: '#microsoft.graph.allLicensedUsersAssignmentTarget',
  all_devices: '#microsoft.graph.allDevicesAssignmentTarget',
}
export const ALL_TARGET_LABELS: Record<AllTarget, string> = { all_users: 'All users', all_devices: 'All devices' }

export const bulkParams = {
  assign: z.strictObject({
    /** A group (`group_id`), or everyone Graph can name without a group: all licensed users, all devices. */
    target: z
      .enum(ALL_TARGETS, { error: `must be ${ALL_TARGETS.join(' or ')} (or left out with a group_id)` })
      .optional(),
    group_id: graphId('group').optional(),
    intent: z.enum(['include', 'exclude'], { error: 'must be include or exclude' }),
    filter_id: graphId('assignment filter').nullish(),
    filter_mode: z.enum(['include', 'exclude'], { error: 'must be include or exclude' }).nullish(),
  }),
  unassign: z.strictObject({ group_id: graphId('group') }),
  add_scope_tag: z.strictObject({ scope_tag_id: graphId('scope tag') }),
  remove_scope_tag: z.strictObject({ scope_tag_id: graphId('scope tag') }),
  rename: z.strictObject({
    prefix: text(100).optional(),
    suffix: text(100).optional(),
    find: text(200).optional(),
    replace: text(200).optional(),
  }),
  duplicate: z.strictObject({
    name_suffix: text(100).optional(),
    with_assignments: z.boolean({ error: 'must be true or false' }).optional(),
  }),
  delete: z.strictObject({
    confirm_count: z
      .number({ error: 'must be the number of items to delete' })
      .int({ error: 'must be a whole number' })
      .min(0),
  }),
} as const satisfies Record<BulkAction, z.ZodType>

/** A group's assignment (`group_id`), or All users / All devices (`target`, `group_id` null: included only). */
export type AssignParams = {
  group_id: string | null
  target?: AllTarget
  intent: 'include' | 'exclude'
  filter_id: string | null
  filter_mode: 'include' | 'exclude' | null
}
export type RenameParams = { prefix: string; suffix: string; find: string; replace: string }
export type DuplicateParams = { name_suffix: string; with_assignments: boolean }
export type BulkParams = {
  assign: AssignParams
  unassign: { group_id: string }
  add_scope_tag: { scope_tag_id: string }
  remove_scope_tag: { scope_tag_id: string }
  rename: RenameParams
  duplicate: DuplicateParams
  delete: { confirm_count: number }
}

/**
 * The canonical params of an action (defaults filled in, so the same request is the same run),
 * or the issues that make them unusable.
 */
export function canonicalParams(
  action: BulkAction,
  raw: unknown,
): { params: BulkParams[BulkAction] } | { issues: { field: string; message: string }[] } {
  const parsed = bulkParams[action].safeParse(raw ?? {})
  if (!parsed.success)
    return { issues: parsed.error.issues.map((i) => ({ field: ['params', ...i.path].join('.'), message: i.message })) }
  const p = parsed.data as Record<string, unknown>
  switch (action) {
    case 'assign': {
      const filterId = (p.filter_id as string | null | undefined) ?? null
      const mode = (p.filter_mode as 'include' | 'exclude' | null | undefined) ?? null
      if (mode && !filterId) return { issues: [{ field: 'params.filter_mode', message: 'needs params.filter_id' }] }
      const target = p.target as AllTarget | undefined
      const groupId = p.group_id as string | undefined
      if (target && groupId)
        return { issues: [{ field: 'params.group_id', message: `goes without params.target (${target})` }] }
      if (!target && !groupId)
        return { issues: [{ field: 'params.group_id', message: "is required (the group's id), or params.target" }] }
      // Graph excludes groups only: All users and All devices can be included, not excluded.
      if (target && p.intent !== 'include')
        return { issues: [{ field: 'params.intent', message: `must be include for ${ALL_TARGET_LABELS[target]}` }] }
      const filter = { filter_id: filterId, filter_mode: filterId ? (mode ?? 'include') : null }
      // A group's params stay as they were (the same request is the same run); `target` only when it is one.
      return {
        params: target
          ? { target, group_id: null, intent: 'include', ...filter }
          : { group_id: groupId!, intent: p.intent as 'include' | 'exclude', ...filter },
      }
    }
    case 'rename': {
      const params = {
        prefix: (p.prefix as string | undefined) ?? '',
        suffix: (p.suffix as string | undefined) ?? '',
        find: (p.find as string | undefined) ?? '',
        replace: (p.replace as string | undefined) ?? '',
      }
      if (params.replace !== '' && params.find === '')
        return { issues: [{ field: 'params.find', message: 'is required with params.replace' }] }
      if (!params.prefix && !params.suffix && !params.find)
        return { issues: [{ field: 'params', message: 'a rename needs a prefix, a suffix or find (and replace)' }] }
      return { params }
    }
    case 'duplicate':
      return {
        params: {
          name_suffix: (p.name_suffix as string | undefined) ?? ' (copy)',
          with_assignments: (p.with_assignments as boolean | undefined) ?? true,
        },
      }
    default:
      return { params: p as BulkParams[BulkAction] }
  }
}

/** Types whose objects carry no `roleScopeTagIds` in Graph (the emulator's shapes agree: test/bulk/capabilities.test.ts). */
const WITHOUT_SCOPE_TAGS = new Set([
  'roleScopeTag',
  'conditionalAccessPolicy',
  'complianceManagementPartner',
  'deviceManagementPartner',
  'remoteAssistancePartner',
  'group',
  'reusablePolicySetting',
])
/** Policy sets and assignment filters hold their scope tags in `roleScopeTags` (Graph's schema), not `roleScopeTagIds`. */
const NAMED_ROLE_SCOPE_TAGS = new Set(['policySet', 'assignmentFilter'])

/** The property holding a type's scope tags, or null for a type without them. */
export function scopeTagProperty(entry: PolicyTypeEntry): 'roleScopeTagIds' | 'roleScopeTags' | null {
  if (WITHOUT_SCOPE_TAGS.has(entry.key)) return null
  return NAMED_ROLE_SCOPE_TAGS.has(entry.key) ? 'roleScopeTags' : 'roleScopeTagIds'
}

const NOT_COPYABLE: Record<string, string> = {
  mobileApp: 'Apps carry uploaded content that Graph cannot copy: add the app again instead',
  endpointSecurityIntent: 'Template-based endpoint security policies are created from their template, not copied',
  vppToken: 'Apple VPP tokens belong to an Apple account: upload another token instead',
  depOnboardingSetting: 'Apple enrollment program tokens belong to an Apple account: add another token instead',
  complianceManagementPartner: 'A partner connection exists once per partner',
  deviceManagementPartner: 'A partner connection exists once per partner',
  remoteAssistancePartner: 'A partner connection exists once per partner',
}

const NOT_DELETABLE: Record<string, string> = {
  vppToken: 'Apple VPP tokens are removed in Apple Business Manager, then synced',
  depOnboardingSetting: 'Apple enrollment program tokens are removed in Apple Business Manager, then synced',
  complianceManagementPartner: 'Partner connections are removed in the partner console',
  deviceManagementPartner: 'Partner connections are removed in the partner console',
  remoteAssistancePartner: 'Partner connections are removed in the partner console',
}

export type SkipReason = { code: string; reason: string }

/** Why a type cannot take an action (null: it can). The console offers an action only when some selected type can take it. */
export function unsupportedReason(action: BulkAction, entry: PolicyTypeEntry): SkipReason | null {
  const no = (reason: string): SkipReason => ({ code: 'unsupported_type', reason })
  if (entry.kind === 'dependency')
    return no(`${entry.label} are Entra objects: bulk operations change Intune configuration only`)
  if (entry.singleton)
    return no(
      `${entry.label}: the tenant's one ${entry.singleton.name} is changed in place, not assigned, tagged, renamed, copied or deleted`,
    )
  switch (action) {
    case 'assign':
    case 'unassign':
      if (entry.assignments === null) return no(`${entry.label} have no assignments`)
      if (entry.key === 'roleScopeTag')
        return no("A scope tag's assignments choose which devices get the tag: change them on the scope tag")
      return null
    case 'add_scope_tag':
    case 'remove_scope_tag':
      return scopeTagProperty(entry) === null ? no(`${entry.label} have no scope tags`) : null
    case 'rename':
      return null
    case 'duplicate':
      return NOT_COPYABLE[entry.key] ? no(NOT_COPYABLE[entry.key]!) : null
    case 'delete':
      return NOT_DELETABLE[entry.key] ? no(NOT_DELETABLE[entry.key]!) : null
  }
}

/** The actions some of these types can take (the action bar's buttons). */
export const actionsFor = (entries: readonly PolicyTypeEntry[]): BulkAction[] =>
  BULK_ACTIONS.filter((a) => entries.some((e) => unsupportedReason(a, e) === null))

// ---- What an action does to one object ----

type Assignment = Record<string, unknown> & { target?: Record<string, unknown> }

const GROUP_TARGET = '#microsoft.graph.groupAssignmentTarget'
const EXCLUSION_TARGET = '#microsoft.graph.exclusionGroupAssignmentTarget'

const targetOf = (a: Assignment) => a.target ?? {}
const groupOf = (a: Assignment) =>
  typeof targetOf(a).groupId === 'string' ? (targetOf(a).groupId as string).toLowerCase() : null
/** What an assignment is to: its group (lower-case id), `all_users` or `all_devices`; null for other targets. */
const whomOf = (a: Assignment): string | null => {
  const type = targetOf(a)['@odata.type']
  const all = ALL_TARGETS.find((t) => ALL_TARGET_TYPES[t] === type)
  return all ?? groupOf(a)
}
/** Whom an assign's params name, as whomOf says it of an assignment. */
export const whomOfParams = (params: AssignParams): string => params.target ?? params.group_id!.toLowerCase()
/** The `@odata.type` of an All users / All devices target. */
export const allTargetType = (target: AllTarget) => ALL_TARGET_TYPES[target]

/** The assignment `assign` adds, as Graph takes it in `/assign`. Apps need an intent: an included group gets the app as required. */
export function assignmentFor(entry: PolicyTypeEntry, params: AssignParams): Assignment {
  const target: Record<string, unknown> = params.target
    ? { '@odata.type': ALL_TARGET_TYPES[params.target] }
    : { '@odata.type': params.intent === 'include' ? GROUP_TARGET : EXCLUSION_TARGET, groupId: params.group_id }
  if (params.filter_id) {
    target.deviceAndAppManagementAssignmentFilterId = params.filter_id
    target.deviceAndAppManagementAssignmentFilterType = params.filter_mode ?? 'include'
  }
  return entry.key === 'mobileApp' ? { intent: 'required', target } : { target }
}

/**
 * Assignments as `/assign` takes them back: each one's target and its own settings, without the
 * ids Graph forms (`{objectId}_{groupId}`) or the read's annotations.
 */
export function writableAssignments(assignments: readonly Assignment[]): Assignment[] {
  return assignments.map((a) => {
    const out: Assignment = {}
    for (const [k, v] of Object.entries(a))
      if (k !== 'id' && !k.startsWith('@odata.') && !k.includes('@odata.')) out[k] = v
    return out
  })
}

/** The merged set for `/assign` (which replaces the whole set): every other assignment kept, the group's (or All users' / All devices') one added; null when it is already there exactly so. */
export function mergeAssign(
  entry: PolicyTypeEntry,
  current: readonly Assignment[],
  params: AssignParams,
): Assignment[] | null {
  const wanted = assignmentFor(entry, params)
  const whom = whomOfParams(params)
  const existing = current.filter((a) => whomOf(a) === whom)
  const same =
    existing.length === 1 &&
    JSON.stringify(sortKeys(targetOf(existing[0]!))) === JSON.stringify(sortKeys(wanted.target!))
  if (same) return null
  return [...writableAssignments(current.filter((a) => whomOf(a) !== whom)), wanted]
}

/** The set without the group's assignments (include or exclude); null when the group is not assigned. */
export function mergeUnassign(current: readonly Assignment[], groupId: string): Assignment[] | null {
  const group = groupId.toLowerCase()
  if (!current.some((a) => groupOf(a) === group)) return null
  return writableAssignments(current.filter((a) => groupOf(a) !== group))
}

/** The object's scope tags with one added or removed; null when there is nothing to change. */
export function mergeScopeTag(payload: Record<string, unknown>, tagId: string, add: boolean): string[] | null {
  const list = payload.roleScopeTagIds ?? payload.roleScopeTags
  const tags = Array.isArray(list) ? (list as unknown[]).map(String) : ['0']
  if (add) return tags.includes(tagId) ? null : [...tags.filter((t) => !(t === '0' && tagId !== '0')), tagId]
  if (!tags.includes(tagId)) return null
  const rest = tags.filter((t) => t !== tagId)
  // Graph keeps every object in some scope: the last custom tag removed leaves Default ("0").
  return rest.length > 0 ? rest : ['0']
}

/** A name after a rename: find → replace (every occurrence, case-sensitive), then prefix and suffix. */
export function renamed(name: string, params: RenameParams): string {
  const replaced = params.find ? name.split(params.find).join(params.replace) : name
  return `${params.prefix}${replaced}${params.suffix}`
}

export const MAX_NAME = 256

function sortKeys(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(value)
      .filter(
        ([k, v]) =>
          v !== null && v !== undefined && !(k === 'deviceAndAppManagementAssignmentFilterType' && v === 'none'),
      )
      .sort(([a], [b]) => a.localeCompare(b)),
  )
}
