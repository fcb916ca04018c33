import type { MappingKind } from '../../db/schema.ts'
import { getPolicyType, type PolicyTypeEntry } from '../../graph/policy-types.ts'
import { assignmentBody, writableFields, type ObjectContent } from '../../graph/writes/strategies.ts'
import { canonicalJson } from '../../lib/canonical.ts'
import { normaliseValue } from '../inventory/normalise.ts'

/**
 * What a restore compares and rewrites in an object's content: the references to groups and
 * foundations (mapped across tenants), and the part of the content a restore can write.
 */

type Body = Record<string, unknown>

/** The catalog type of each mapping kind, and back. */
export const KIND_TYPES: Readonly<Record<MappingKind, string>> = {
  group: 'group',
  assignment_filter: 'assignmentFilter',
  scope_tag: 'roleScopeTag',
  notification_template: 'notificationMessageTemplate',
}
export const TYPE_KINDS: Readonly<Record<string, MappingKind>> = Object.fromEntries(
  Object.entries(KIND_TYPES).map(([k, t]) => [t, k as MappingKind]),
)

export const NO_TEMPLATE = '00000000-0000-0000-0000-000000000000'
/** The built-in Default scope tag: the same in every tenant. */
const DEFAULT_SCOPE_TAG = '0'
/** Where an object's scope tags are: policy sets and assignment filters name the list roleScopeTags (Graph's schema). */
const SCOPE_TAG_PROPERTIES = ['roleScopeTagIds', 'roleScopeTags'] as const

export type Reference = { kind: MappingKind; id: string }

const isObject = (v: unknown): v is Body => typeof v === 'object' && v !== null && !Array.isArray(v)

/** The groups, filters, scope tags and notification templates an object refers to. */
export function referencesOf(content: ObjectContent): Reference[] {
  const out = new Map<string, Reference>()
  const add = (kind: MappingKind, id: unknown) => {
    if (typeof id === 'string' && id !== '') out.set(`${kind}\n${id}`, { kind, id })
  }
  for (const a of content.assignments) {
    const target = isObject(a.target) ? a.target : {}
    add('group', target.groupId)
    if (target.deviceAndAppManagementAssignmentFilterType !== 'none')
      add('assignment_filter', target.deviceAndAppManagementAssignmentFilterId)
  }
  // Policy sets and assignment filters name the list roleScopeTags.
  const tags = content.payload.roleScopeTagIds ?? content.payload.roleScopeTags
  if (Array.isArray(tags)) for (const t of tags) if (t !== DEFAULT_SCOPE_TAG) add('scope_tag', t)
  walkTemplates(content.payload, (id) => (id === NO_TEMPLATE ? id : (add('notification_template', id), id)))
  return [...out.values()]
}

function walkTemplates(value: unknown, replace: (id: string) => string): unknown {
  if (Array.isArray(value)) return value.map((v) => walkTemplates(v, replace))
  if (!isObject(value)) return value
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k,
      k === 'notificationTemplateId' && typeof v === 'string' && v !== '' ? replace(v) : walkTemplates(v, replace),
    ]),
  )
}

/** A source id in the target: an id, `null` (not mapped), or `undefined` (the same id: no mapping needed). */
export type Resolve = (kind: MappingKind, sourceId: string) => string | null | undefined

export type Mapped = { content: ObjectContent; warnings: string[]; unmappedTemplates: string[] }

/**
 * The object as it is written to the target: references replaced by their mapped ids. An
 * unmapped group never becomes another group: its assignment is left out (a warning); an
 * unmapped filter is dropped from its assignment and an unmapped scope tag from the object (warnings).
 * `gone` names the unmapped references known to be deleted from the target (Graph would refuse
 * them): their warnings say so.
 */
export function mapContent(
  content: ObjectContent,
  resolve: Resolve,
  nameOf: (kind: MappingKind, id: string) => string,
  gone: (kind: MappingKind, id: string) => boolean = () => false,
): Mapped {
  const warnings: string[] = []
  const unmappedTemplates: string[] = []
  const assignments: Body[] = []
  for (const a of content.assignments) {
    const target = isObject(a.target) ? { ...a.target } : {}
    if (typeof target.groupId === 'string' && target.groupId !== '') {
      const to = resolve('group', target.groupId)
      if (to === null) {
        warnings.push(
          gone('group', target.groupId)
            ? `Assignment to group "${nameOf('group', target.groupId)}" left out: the group no longer exists in the target`
            : `Group "${nameOf('group', target.groupId)}" is not mapped: its assignment is left out`,
        )
        continue
      }
      if (to !== undefined) target.groupId = to
    }
    const filter = target.deviceAndAppManagementAssignmentFilterId
    if (typeof filter === 'string' && filter !== '' && target.deviceAndAppManagementAssignmentFilterType !== 'none') {
      const to = resolve('assignment_filter', filter)
      if (to === null) {
        warnings.push(
          gone('assignment_filter', filter)
            ? `Assignment filter "${nameOf('assignment_filter', filter)}" left out of an assignment: the filter no longer exists in the target`
            : `Assignment filter "${nameOf('assignment_filter', filter)}" is not mapped: an assignment is restored without it`,
        )
        target.deviceAndAppManagementAssignmentFilterId = null
        target.deviceAndAppManagementAssignmentFilterType = 'none'
      } else if (to !== undefined) target.deviceAndAppManagementAssignmentFilterId = to
    }
    assignments.push({ ...a, target })
  }
  let payload: Body = { ...content.payload }
  for (const property of SCOPE_TAG_PROPERTIES) {
    if (!Array.isArray(payload[property])) continue
    const tags: string[] = []
    for (const t of payload[property] as unknown[]) {
      if (typeof t !== 'string') continue
      if (t === DEFAULT_SCOPE_TAG) {
        tags.push(t)
        continue
      }
      const to = resolve('scope_tag', t)
      if (to === null) warnings.push(`Scope tag "${nameOf('scope_tag', t)}" is not mapped: it is left out`)
      else tags.push(to ?? t)
    }
    payload[property] = tags.length > 0 ? tags : [DEFAULT_SCOPE_TAG]
  }
  payload = walkTemplates(payload, (id) => {
    if (id === NO_TEMPLATE) return id
    const to = resolve('notification_template', id)
    if (to === null) {
      unmappedTemplates.push(id)
      return id
    }
    return to ?? id
  }) as Body
  return { content: { payload, assignments }, warnings, unmappedTemplates }
}

/** Rows of a child collection without their ids (the service gives new ones), recursively in nested collections. */
function withoutIds(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map((row: unknown) => {
      if (!isObject(row)) return row
      return Object.fromEntries(
        Object.entries(row)
          .filter(([k]) => k !== 'id')
          .map(([k, v]) => [k, Array.isArray(v) ? withoutIds(v) : v]),
      )
    })
  }
  return value
}

/**
 * The content a restore writes, in a form two tenants' copies compare in: writable properties,
 * detail collections without their ids, assignments without theirs, arrays in canonical order.
 */
export function comparable(entry: PolicyTypeEntry, content: ObjectContent): unknown {
  const details: Body = {}
  for (const d of entry.details) if (d.name in content.payload) details[d.name] = withoutIds(content.payload[d.name])
  return normaliseValue({
    fields: writableFields(entry, content.payload),
    details,
    assignments: entry.assignments === null ? [] : content.assignments.map(assignmentBody),
  })
}

export const sameContent = (entry: PolicyTypeEntry, a: ObjectContent, b: ObjectContent) =>
  canonicalJson(comparable(entry, a)) === canonicalJson(comparable(entry, b))

/** Dependencies first: scope tags, assignment filters, notification templates, other foundations, then policies. */
export function orderOf(policyType: string): number {
  const first = ['roleScopeTag', 'assignmentFilter', 'notificationMessageTemplate'].indexOf(policyType)
  if (first >= 0) return first
  return getPolicyType(policyType).kind === 'policy' ? 4 : 3
}

/**
 * The journal key of a restore's writes to one object: its source tenant, type and source id, so
 * a later plan finds what an earlier restore created from that object (plan.ts restoredCopies).
 */
export const journalKey = (sourceTenantId: string, policyType: string, sourceExternalId: string) =>
  `restore:${sourceTenantId}:${policyType}:${sourceExternalId}`
