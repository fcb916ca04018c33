import { randomUUID } from 'node:crypto'
import { displayNameOf, isSkipped, POLICY_TYPES, type PolicyTypeEntry } from '../graph/policy-types.ts'
import { AuditLog } from './audit-log.ts'
import { matches, type FilterNode } from './odata.ts'
import { annotatedType, conform, navigationType, typeOfPath } from './graph-schema.ts'
import { settingDefinitionExists, SHAPES, type GraphObject } from './shapes.ts'
import { TenantModel, type Assignment } from './tenant-model.ts'

/**
 * One emulated tenant: the generated model plus the changes made through the control API
 * (added, patched and deleted objects). Only changes take memory.
 */

export type TenantObject = {
  key: string
  body: GraphObject
  assignments: Assignment[] | null
  builtIn: boolean
  children: (detail: string) => Record<string, unknown>[]
}

type Added = {
  key: string
  body: GraphObject
  assignments: Assignment[] | null
  children: Record<string, Record<string, unknown>[]>
}

export type TenantSettings = {
  tenantId: string
  clientId: string
  clientSecret: string
  permissions: readonly string[]
  tokenLifetimeSeconds: number
  /** The app registration's display name: the actor of the audit events its Graph writes record. */
  appName: string
}

const ENTRIES_BY_KEY = new Map(POLICY_TYPES.map((e) => [e.key, e]))
const LISTABLE = POLICY_TYPES.filter((e) => e.listable)

/**
 * What a change sets beside its own fields: the modification time (lastModifiedDateTime, or
 * modifiedDateTime where the type names it so; types without one, such as scope tags, have
 * none) and the version, which Intune counts up.
 */
function touched(body: GraphObject): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const stamp of ['lastModifiedDateTime', 'modifiedDateTime']) {
    if (!(stamp in body)) continue
    // Always later than the previous stamp, even within the same millisecond: a change is visible.
    const previous = typeof body[stamp] === 'string' ? Date.parse(body[stamp]) : Number.NaN
    out[stamp] = new Date(Number.isNaN(previous) ? Date.now() : Math.max(Date.now(), previous + 1)).toISOString()
  }
  if (typeof body.version === 'number') out.version = body.version + 1
  else if (typeof body.version === 'string' && /^\d+$/.test(body.version))
    out.version = String(Number(body.version) + 1)
  return out
}

/**
 * An object as a full Graph read returns it: its properties, every navigation collection its
 * catalog entry reads (settings, definition values with their presentation values, scheduled
 * actions, …) and its assignments.
 */
export function contentOf(entry: PolicyTypeEntry, o: TenantObject): Record<string, unknown> {
  const content: Record<string, unknown> = { ...o.body }
  for (const d of entry.details) content[d.name] = o.children(d.name)
  if (entry.assignments !== null) content.assignments = o.assignments ?? []
  return content
}

/** The entity type each catalog type's collection (or singleton) declares in Graph's schema. */
const ENTITY_TYPES = new Map(POLICY_TYPES.filter((e) => e.listable).map((e) => [e.key, typeOfPath(e.path)]))

/**
 * An object, its assignments and its children as Graph serves them: every property their
 * schema types declare present, null when unset (issue 23). The body's type is its
 * `@odata.type`, or the collection's entity type; assignments and children take the type of
 * the navigation property that holds them.
 */
function conformed(o: TenantObject): TenantObject {
  const base = ENTITY_TYPES.get(o.key)
  if (!base) return o
  const type = annotatedType(o.body) ?? base
  const navType = (name: string) => navigationType(type, name) ?? navigationType(base, name)
  const assignmentType = navType('assignments')
  const children = (detail: string) => {
    const childType = navType(detail)
    const rows = o.children(detail)
    return childType ? rows.map((row) => conform(row, childType)) : rows
  }
  return {
    ...o,
    body: conform(o.body, base) as GraphObject,
    assignments:
      o.assignments && assignmentType
        ? o.assignments.map((a) => conform(a, assignmentType) as Assignment)
        : o.assignments,
    children,
  }
}

export class EmulatedTenant {
  readonly model: TenantModel
  readonly settings: TenantSettings
  permissions: Set<string>
  readonly #added = new Map<string, Map<string, Added>>()
  readonly #patches = new Map<string, Record<string, unknown>>()
  readonly #deleted = new Set<string>()
  /** Replaced navigation collections (settings, definitionValues, …) by object id, then by name. */
  readonly #childPatches = new Map<string, Record<string, Record<string, unknown>[]>>()
  /** Changes to Entra groups (a rename, a new description), by group id. */
  readonly #groupPatches = new Map<string, Record<string, unknown>>()
  /** Intune's audit log: every change made to this tenant. */
  readonly audit = new AuditLog()
  /** Clear values of the secrets written through Graph, by their secretReferenceValueId. */
  readonly secrets = new Map<string, string>()
  /** Setting definitions Intune has retired in this tenant: existing policies keep them, writes are refused. */
  retiredSettingDefinitions = new Set<string>()

  constructor(seed: string, size: number, settings: TenantSettings) {
    this.model = new TenantModel(seed, size)
    this.settings = settings
    this.permissions = new Set(settings.permissions)
  }

  #decorate(
    key: string,
    body: GraphObject,
    assignments: Assignment[] | null,
    builtIn: boolean,
    children: (detail: string) => Record<string, unknown>[],
  ): TenantObject {
    const patch = this.#patches.get(body.id)
    const childPatch = this.#childPatches.get(body.id)
    const patchedChildren = childPatch ? (detail: string) => childPatch[detail] ?? children(detail) : children
    if (!patch) return conformed({ key, body, assignments, builtIn, children: patchedChildren })
    const { assignments: patchedAssignments, ...fields } = patch
    const patchedBody = { ...body, ...fields, id: body.id }
    const current = Array.isArray(patchedAssignments) ? (patchedAssignments as Assignment[]) : assignments
    return conformed({ key, body: patchedBody, assignments: current, builtIn, children: patchedChildren })
  }

  #generated(entry: PolicyTypeEntry, index: number): TenantObject {
    const g = this.model.generate(entry, index)
    return this.#decorate(entry.key, g.body, g.assignments, g.builtIn, (detail) =>
      this.model.children(entry, index, g.body.id, detail),
    )
  }

  #fromAdded(a: Added): TenantObject {
    return this.#decorate(a.key, a.body, a.assignments, false, (detail) => a.children[detail] ?? [])
  }

  /** An object of one of `entries` by id, or undefined when it does not exist (or was deleted). */
  find(entries: readonly PolicyTypeEntry[], id: string): TenantObject | undefined {
    if (this.#deleted.has(id)) return undefined
    for (const e of entries) {
      const added = this.#added.get(e.key)?.get(id)
      if (added) return this.#fromAdded(added)
    }
    const found = this.model.locate(entries, id)
    return found ? this.#generated(ENTRIES_BY_KEY.get(found.key)!, found.index) : undefined
  }

  /**
   * One page of a collection. The position is (segment, index) over the generated objects of
   * each type, then the added ones, so a page costs O(page size), not O(tenant).
   */
  page(
    entries: readonly PolicyTypeEntry[],
    options: { excludeBuiltIns: boolean; position: [number, number]; size: number },
  ): { items: TenantObject[]; next: [number, number] | null } {
    const items: TenantObject[] = []
    let [segment, index] = options.position
    while (segment < entries.length * 2) {
      const entry = entries[segment % entries.length]!
      if (segment < entries.length) {
        const count = this.model.countOf(entry.key)
        if (options.excludeBuiltIns) index = Math.max(index, this.model.builtInCount(entry.key))
        while (index < count && items.length < options.size) {
          const id = this.model.idOf(entry.key, index)
          if (!this.#deleted.has(id)) items.push(this.#generated(entry, index))
          index++
        }
        if (index < count) return { items, next: [segment, index] }
      } else {
        const added = [...(this.#added.get(entry.key)?.values() ?? [])]
        while (index < added.length && items.length < options.size) {
          const a = added[index]!
          if (!this.#deleted.has(a.body.id)) items.push(this.#fromAdded(a))
          index++
        }
        if (index < added.length) return { items, next: [segment, index] }
      }
      segment++
      index = 0
      if (items.length >= options.size) return { items, next: segment < entries.length * 2 ? [segment, 0] : null }
    }
    return { items, next: null }
  }

  /** Adds an object; `defaults` (the control API's) fills a name, times and scope tags the fields lack. */
  add(entry: PolicyTypeEntry, fields: Record<string, unknown>, options: { defaults?: boolean } = {}): TenantObject {
    if (entry.singleton) return this.#configure(entry, fields)
    const { assignments, children, id: _ignored, ...rest } = fields
    const now = new Date().toISOString()
    const defaults =
      options.defaults === false
        ? {}
        : {
            [entry.nameProperty]: `New ${entry.label}`,
            createdDateTime: now,
            lastModifiedDateTime: now,
            roleScopeTagIds: ['0'],
          }
    const body: GraphObject = {
      ...defaults,
      ...rest,
      id: SHAPES[entry.key]?.integerIds ? String(100_000 + this.#addedCount()) : randomUUID(),
    }
    const added: Added = {
      key: entry.key,
      body,
      assignments: entry.assignments ? (Array.isArray(assignments) ? (assignments as Assignment[]) : []) : null,
      children: typeof children === 'object' && children !== null ? (children as Added['children']) : {},
    }
    let byId = this.#added.get(entry.key)
    if (!byId) this.#added.set(entry.key, (byId = new Map<string, Added>()))
    byId.set(body.id, added)
    return this.#fromAdded(added)
  }

  /**
   * A deleted singleton configured again: the generated object with `fields` over it, modified
   * now. (A singleton that exists cannot be added: the caller refuses that.)
   */
  #configure(entry: PolicyTypeEntry, fields: Record<string, unknown>): TenantObject {
    const id = entry.singleton!.id
    const { assignments: _assignments, children: _children, id: _id, ...rest } = fields
    this.#deleted.delete(id)
    const generated = this.find([entry], id)!
    this.#patches.set(id, { ...this.#patches.get(id), ...rest, ...touched(generated.body) })
    return this.find([entry], id)!
  }

  #addedCount(): number {
    let n = 0
    for (const m of this.#added.values()) n += m.size
    return n
  }

  /** An object of any listable type by id. */
  findAny(id: string): TenantObject | undefined {
    return this.find(LISTABLE, id)
  }

  /**
   * Merges fields into an object and bumps lastModifiedDateTime (`children`: navigation
   * collections to replace, by name; `assignments`: the new assignment set). Undefined when
   * the object does not exist; otherwise the object before and after.
   */
  patch(
    id: string,
    fields: Record<string, unknown>,
    options: { touch?: boolean } = {},
  ): { before: TenantObject; after: TenantObject } | undefined {
    const before = this.findAny(id)
    if (!before) return undefined
    const { id: _ignored, children, ...rest } = fields
    if (typeof children === 'object' && children !== null && !Array.isArray(children)) {
      this.#childPatches.set(id, {
        ...this.#childPatches.get(id),
        ...(children as Record<string, Record<string, unknown>[]>),
      })
    }
    this.#patches.set(id, {
      ...this.#patches.get(id),
      ...rest,
      ...(options.touch === false ? {} : touched(before.body)),
    })
    return { before, after: this.find([ENTRIES_BY_KEY.get(before.key)!], id)! }
  }

  /** Replaces navigation collections (settings, scheduledActionsForRule, …) of an object. */
  setChildren(id: string, children: Record<string, Record<string, unknown>[]>) {
    this.#childPatches.set(id, { ...this.#childPatches.get(id), ...children })
  }

  /**
   * The clear value of an object's secret by its reference (a generated profile's secret is
   * derived from its reference), or undefined when the object holds no such reference.
   */
  secretValue(o: TenantObject, reference: string): string | undefined {
    if (!JSON.stringify(o.body).includes(`"secretReferenceValueId":${JSON.stringify(reference)}`)) return undefined
    return this.secrets.get(reference) ?? `emulated-secret-${reference.slice(-12)}`
  }

  /** Whether writes may use a settings catalog setting definition: one Graph offers, not retired here. */
  knowsSettingDefinition(id: string): boolean {
    return settingDefinitionExists(id) && !this.retiredSettingDefinitions.has(id)
  }

  /** Deletes an object; the deleted object, or undefined when it did not exist. */
  delete(id: string): TenantObject | undefined {
    const existing = this.findAny(id)
    if (!existing) return undefined
    this.#deleted.add(id)
    return existing
  }

  /** A group by id: 'deleted' for a group that assignments still reference. */
  group(id: string): GraphObject | 'deleted' | undefined {
    const index = this.model.locateGroup(id)
    if (index === undefined) return undefined
    return this.model.isGroupDeleted(index) ? 'deleted' : this.#patchedGroup(index)
  }

  #patchedGroup(index: number): GraphObject {
    const group = this.model.group(index)
    const patch = this.#groupPatches.get(group.id)
    return patch ? { ...group, ...patch } : group
  }

  /**
   * Changes a group's properties (an Entra change: Intune's audit log does not record it).
   * Undefined when the group does not exist or was deleted.
   */
  patchGroup(id: string, fields: Record<string, unknown>): { before: GraphObject; after: GraphObject } | undefined {
    const before = this.group(id)
    if (!before || before === 'deleted') return undefined
    const { id: _ignored, ...rest } = fields
    this.#groupPatches.set(before.id, { ...this.#groupPatches.get(before.id), ...rest })
    return { before, after: this.group(id) as GraphObject }
  }

  /** A page of the tenant's groups, those `filter` matches (a filter scans on past the page's groups). */
  groupsPage(
    position: number,
    size: number,
    filter: FilterNode | null = null,
  ): {
    items: GraphObject[]
    next: number | null
  } {
    const items: GraphObject[] = []
    let i = position
    for (; i < this.model.groupCount && items.length < size; i++) {
      if (this.model.isGroupDeleted(i)) continue
      const group = this.#patchedGroup(i)
      if (matches(filter, group)) items.push(group)
    }
    return { items, next: i < this.model.groupCount ? i : null }
  }

  /**
   * The ground truth: every object a full inventory sync must mirror. Built-ins the catalog
   * skips (or its list filter leaves out) are not in it; groups are in it when an assignment
   * references them and they still exist.
   */
  *inventory(
    options: { content?: boolean } = {},
  ): Generator<{ type: string; id: string; display_name: string; content?: Record<string, unknown> }> {
    const referenced = new Set<string>()
    for (const entry of POLICY_TYPES) {
      if (!entry.listable) continue
      let position: [number, number] | null = [0, 0]
      while (position) {
        const { items, next } = this.page([entry], { excludeBuiltIns: true, position, size: 500 })
        for (const o of items) {
          if (isSkipped(entry, o.body)) continue
          for (const a of o.assignments ?? [])
            if (typeof a.target.groupId === 'string') referenced.add(a.target.groupId)
          const item = { type: entry.key, id: o.body.id, display_name: displayNameOf(entry, o.body) }
          yield options.content ? { ...item, content: contentOf(entry, o) } : item
        }
        position = next
      }
    }
    for (const id of referenced) {
      const g = this.group(id)
      if (g && g !== 'deleted')
        yield { type: 'group', id, display_name: String(g.displayName), ...(options.content ? { content: g } : {}) }
    }
  }
}
