import { randomUUID } from 'node:crypto'
import { displayNameOf, isSkipped, POLICY_TYPES, type PolicyTypeEntry } from '../graph/policy-types.ts'
import { AuditLog } from './audit-log.ts'
import { SHAPES, type GraphObject } from './shapes.ts'
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

type Added = { key: string; body: GraphObject; assignments: Assignment[] | null; children: Record<string, Record<string, unknown>[]> }

export type TenantSettings = {
  tenantId: string
  clientId: string
  clientSecret: string
  permissions: readonly string[]
  tokenLifetimeSeconds: number
}

const ENTRIES_BY_KEY = new Map(POLICY_TYPES.map((e) => [e.key, e]))
const LISTABLE = POLICY_TYPES.filter((e) => e.listable)

export class EmulatedTenant {
  readonly model: TenantModel
  readonly settings: TenantSettings
  permissions: Set<string>
  readonly #added = new Map<string, Map<string, Added>>()
  readonly #patches = new Map<string, Record<string, unknown>>()
  readonly #deleted = new Set<string>()
  /** Replaced navigation collections (settings, definitionValues, …) by object id, then by name. */
  readonly #childPatches = new Map<string, Record<string, Record<string, unknown>[]>>()
  /** Intune's audit log: every change made to this tenant. */
  readonly audit = new AuditLog()

  constructor(seed: string, size: number, settings: TenantSettings) {
    this.model = new TenantModel(seed, size)
    this.settings = settings
    this.permissions = new Set(settings.permissions)
  }

  #decorate(key: string, body: GraphObject, assignments: Assignment[] | null, builtIn: boolean, children: (detail: string) => Record<string, unknown>[]): TenantObject {
    const patch = this.#patches.get(body.id)
    const childPatch = this.#childPatches.get(body.id)
    const patchedChildren = childPatch ? (detail: string) => childPatch[detail] ?? children(detail) : children
    if (!patch) return { key, body, assignments, builtIn, children: patchedChildren }
    const { assignments: patchedAssignments, ...fields } = patch
    return { key, body: { ...body, ...fields, id: body.id }, assignments: Array.isArray(patchedAssignments) ? (patchedAssignments as Assignment[]) : assignments, builtIn, children: patchedChildren }
  }

  #generated(entry: PolicyTypeEntry, index: number): TenantObject {
    const g = this.model.generate(entry, index)
    return this.#decorate(entry.key, g.body, g.assignments, g.builtIn, (detail) => this.model.children(entry, index, g.body.id, detail))
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
  page(entries: readonly PolicyTypeEntry[], options: { excludeBuiltIns: boolean; position: [number, number]; size: number }): { items: TenantObject[]; next: [number, number] | null } {
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

  add(entry: PolicyTypeEntry, fields: Record<string, unknown>): TenantObject {
    const { assignments, children, id: _ignored, ...rest } = fields
    const now = new Date().toISOString()
    const body: GraphObject = { [entry.nameProperty]: `New ${entry.label}`, createdDateTime: now, lastModifiedDateTime: now, roleScopeTagIds: ['0'], ...rest, id: SHAPES[entry.key]?.integerIds ? String(100_000 + this.#addedCount()) : randomUUID() }
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
  patch(id: string, fields: Record<string, unknown>, options: { touch?: boolean } = {}): { before: TenantObject; after: TenantObject } | undefined {
    const before = this.findAny(id)
    if (!before) return undefined
    const { id: _ignored, children, ...rest } = fields
    if (typeof children === 'object' && children !== null && !Array.isArray(children)) {
      this.#childPatches.set(id, { ...this.#childPatches.get(id), ...(children as Record<string, Record<string, unknown>[]>) })
    }
    const touched = options.touch === false ? {} : { lastModifiedDateTime: new Date().toISOString() }
    this.#patches.set(id, { ...this.#patches.get(id), ...rest, ...touched })
    return { before, after: this.find([ENTRIES_BY_KEY.get(before.key)!], id)! }
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
    return this.model.isGroupDeleted(index) ? 'deleted' : this.model.group(index)
  }

  groupsPage(position: number, size: number): { items: GraphObject[]; next: number | null } {
    const items: GraphObject[] = []
    let i = position
    for (; i < this.model.groupCount && items.length < size; i++) if (!this.model.isGroupDeleted(i)) items.push(this.model.group(i))
    return { items, next: i < this.model.groupCount ? i : null }
  }

  /**
   * The ground truth: every object a full inventory sync must mirror. Built-ins the catalog
   * skips (or its list filter leaves out) are not in it; groups are in it when an assignment
   * references them and they still exist.
   */
  *inventory(): Generator<{ type: string; id: string; display_name: string }> {
    const referenced = new Set<string>()
    for (const entry of POLICY_TYPES) {
      if (!entry.listable) continue
      let position: [number, number] | null = [0, 0]
      while (position) {
        const { items, next } = this.page([entry], { excludeBuiltIns: true, position, size: 500 })
        for (const o of items) {
          if (isSkipped(entry, o.body)) continue
          for (const a of o.assignments ?? []) if (typeof a.target.groupId === 'string') referenced.add(a.target.groupId)
          yield { type: entry.key, id: o.body.id, display_name: displayNameOf(entry, o.body) }
        }
        position = next
      }
    }
    for (const id of referenced) {
      const g = this.group(id)
      if (g && g !== 'deleted') yield { type: 'group', id, display_name: String(g.displayName) }
    }
  }
}
