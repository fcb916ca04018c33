import { POLICY_TYPES, type PolicyTypeEntry } from '../graph/policy-types.ts'
import { navigationType, propertiesOf, typeOfPath } from './graph-schema.ts'
import { decodeGuidIndex, encodeGuid, guidPrefix, hash32, randomGuid, rng, type Rng } from './random.ts'
import { childCount, makeChild, SHAPES, type GraphObject } from './shapes.ts'

/**
 * The generated part of an emulated tenant: a pure function of (seed, size). Nothing is
 * stored per object: an object is rebuilt from (seed, type, index) whenever it is read, and
 * its id encodes its index, so memory stays flat however large the tenant is.
 */

export type Assignment = { id: string; target: Record<string, unknown> } & Record<string, unknown>

export type GeneratedObject = {
  key: string
  index: number
  builtIn: boolean
  body: GraphObject
  /** null for types without assignments. */
  assignments: Assignment[] | null
}

/** Types of which a tenant has many: the size is split over them. */
const GENERATED_TYPES = POLICY_TYPES.filter((e) => e.listable && !e.singleton)
/** Singletons: every tenant has one of each (until the control API deletes it). */
const SINGLETON_TYPES = POLICY_TYPES.filter((e) => e.singleton)
const ALL_USERS = 'adadadad-808e-44e2-905a-0b7873a8a531'
const ALL_DEVICES = 'acacacac-9df4-4c7d-9d50-4ef0226f57a9'
const EPOCH = Date.UTC(2023, 0, 1)
const DAY = 86_400_000
const AUDIENCES = ['Pilot', 'Prod', 'Ring 1', 'Finance', 'HR', 'Sales', 'Global', 'Kiosk', 'Shared', 'Executives']
const DEPARTMENTS = [
  'Finance',
  'HR',
  'Sales',
  'IT',
  'Engineering',
  'Marketing',
  'Legal',
  'Support',
  'Operations',
  'Research',
]

/** Splits `size` objects over the catalog's types by their shape weights (largest remainder). */
function distribute(size: number): Map<string, number> {
  const counts = new Map<string, number>()
  const base = size >= GENERATED_TYPES.length ? 1 : 0
  let remaining = size - base * GENERATED_TYPES.length
  const total = GENERATED_TYPES.reduce((sum, e) => sum + SHAPES[e.key]!.weight, 0)
  const shares = GENERATED_TYPES.map((e) => {
    const exact = (remaining * SHAPES[e.key]!.weight) / total
    return { key: e.key, floor: Math.floor(exact), rest: exact - Math.floor(exact) }
  })
  for (const s of shares) {
    counts.set(s.key, base + s.floor)
    remaining -= s.floor
  }
  for (const s of [...shares].sort((a, b) => b.rest - a.rest || a.key.localeCompare(b.key))) {
    if (remaining <= 0) break
    counts.set(s.key, counts.get(s.key)! + 1)
    remaining--
  }
  return counts
}

/** Whether a catalog type's assignments declare source/sourceId (device configurations do; intents do not). */
function hasSource(entry: PolicyTypeEntry): boolean {
  const type = typeOfPath(entry.path)
  const assignmentType = type ? navigationType(type, 'assignments') : undefined
  return assignmentType !== undefined && propertiesOf(assignmentType)?.has('source') === true
}

export class TenantModel {
  readonly seed: string
  readonly size: number
  readonly counts: Map<string, number>
  readonly groupCount: number
  readonly #prefixSeeds = new Map<string, number>()
  readonly #byPrefix = new Map<string, string>()
  readonly #groupSeed: number

  constructor(seed: string, size: number) {
    this.seed = seed
    this.size = size
    this.counts = distribute(size)
    for (const e of SINGLETON_TYPES) this.counts.set(e.key, 1)
    this.groupCount = Math.max(8, Math.ceil(size / 12))
    for (const e of GENERATED_TYPES) {
      const prefixSeed = hash32(seed, 'type', e.key)
      this.#prefixSeeds.set(e.key, prefixSeed)
      this.#byPrefix.set(guidPrefix(encodeGuid(prefixSeed, 0)), e.key)
    }
    this.#groupSeed = hash32(seed, 'groups')
  }

  countOf(key: string): number {
    return this.counts.get(key) ?? 0
  }

  builtInCount(key: string): number {
    return SHAPES[key]?.builtIns?.(this.countOf(key)) ?? 0
  }

  idOf(key: string, index: number): string {
    const singleton = SINGLETON_TYPES.find((e) => e.key === key)?.singleton
    if (singleton) return singleton.id
    return SHAPES[key]?.integerIds ? String(index) : encodeGuid(this.#prefixSeeds.get(key)!, index)
  }

  /** The generated object an id names within a collection's types, if any. */
  locate(entries: readonly PolicyTypeEntry[], id: string): { key: string; index: number } | undefined {
    for (const e of entries) {
      if (e.singleton) {
        if (id === e.singleton.id) return { key: e.key, index: 0 }
        continue
      }
      let index: number | undefined
      if (SHAPES[e.key]?.integerIds) index = /^\d{1,9}$/.test(id) ? Number(id) : undefined
      else if (this.#byPrefix.get(guidPrefix(id)) === e.key) index = decodeGuidIndex(this.#prefixSeeds.get(e.key)!, id)
      if (index !== undefined && index < this.countOf(e.key)) return { key: e.key, index }
    }
    return undefined
  }

  #rng(...parts: (string | number)[]): Rng {
    return rng(hash32(this.seed, ...parts))
  }

  generate(entry: PolicyTypeEntry, index: number): GeneratedObject {
    const shape = SHAPES[entry.key]!
    const r = this.#rng(entry.key, index)
    const id = this.idOf(entry.key, index)
    const builtIn = index < this.builtInCount(entry.key)
    const created = EPOCH + r.int(600) * DAY + r.int(DAY)
    const modified = created + r.int(200) * DAY + r.int(DAY)
    const tags = this.countOf('roleScopeTag')
    const scopeTagIds = ['0', ...(tags > 1 && r.chance(0.3) ? [String(1 + r.int(tags - 1))] : [])]
    const name = `${r.pick(shape.topics)} - ${r.pick(AUDIENCES)} ${String(index + 1).padStart(3, '0')}`
    const description = r.chance(0.3) ? '' : `${name}: managed by TenantAtlas demo seed ${this.seed}`
    const fields = shape.make({
      r,
      index,
      id,
      name,
      description,
      created: new Date(created).toISOString(),
      modified: new Date(modified).toISOString(),
      scopeTagIds,
      builtIn,
    })
    const body: GraphObject = { ...fields, id }
    const assignments =
      entry.assignments && !builtIn
        ? this.#assignments(entry, id, this.#rng(entry.key, index, 'assignments'))
        : entry.assignments
          ? []
          : null
    // Counts Graph computes from the object's own navigation properties (issue 23's update pass
    // compared a re-created policy's with the generated one's): the settings it has, whether it
    // is assigned.
    if ('settingCount' in body && entry.details.some((d) => d.name === 'settings'))
      body.settingCount = childCount('settings', this.#rng(entry.key, index, 'settings'))
    if ('isAssigned' in body && assignments !== null) body.isAssigned = assignments.length > 0
    return { key: entry.key, index, builtIn, body, assignments }
  }

  #assignments(entry: PolicyTypeEntry, objectId: string, r: Rng): Assignment[] {
    const roll = r.next()
    const count = roll < 0.15 ? 0 : roll < 0.5 ? 1 : roll < 0.8 ? 2 : roll < 0.95 ? 3 : 4
    const filters = this.countOf('assignmentFilter')
    const seen = new Set<string>()
    const result: Assignment[] = []
    for (let n = 0; n < count; n++) {
      const kind = r.next()
      const target: Record<string, unknown> =
        kind < 0.55
          ? { '@odata.type': '#microsoft.graph.groupAssignmentTarget', groupId: this.groupId(r.int(this.groupCount)) }
          : kind < 0.7
            ? {
                '@odata.type': '#microsoft.graph.exclusionGroupAssignmentTarget',
                groupId: this.groupId(r.int(this.groupCount)),
              }
            : kind < 0.85
              ? { '@odata.type': '#microsoft.graph.allLicensedUsersAssignmentTarget' }
              : { '@odata.type': '#microsoft.graph.allDevicesAssignmentTarget' }
      const targetId = (target.groupId as string | undefined) ?? (kind < 0.85 ? ALL_USERS : ALL_DEVICES)
      if (seen.has(targetId)) continue
      seen.add(targetId)
      const excluded = target['@odata.type'] === '#microsoft.graph.exclusionGroupAssignmentTarget'
      const filtered = !excluded && filters > 0 && r.chance(0.25)
      target.deviceAndAppManagementAssignmentFilterId = filtered ? this.idOf('assignmentFilter', r.int(filters)) : null
      target.deviceAndAppManagementAssignmentFilterType = filtered ? r.pick(['include', 'exclude']) : 'none'
      // source and sourceId only where the assignment type declares them (not on intents, scripts, …);
      // sourceId names a policy set, so a direct assignment has none.
      const assignment: Assignment = {
        id: `${objectId}_${targetId}`,
        ...(hasSource(entry) ? { source: 'direct', sourceId: null } : {}),
        target,
      }
      if (entry.key === 'mobileApp') {
        assignment.intent = excluded ? 'required' : r.pick(['required', 'available', 'uninstall'])
        assignment.settings = null
      }
      result.push(assignment)
    }
    return result
  }

  children(entry: PolicyTypeEntry, index: number, objectId: string, detail: string): Record<string, unknown>[] {
    const r = this.#rng(entry.key, index, detail)
    const n = childCount(detail, r)
    const out: Record<string, unknown>[] = []
    // An intent's settings are not settings catalog settings: Graph serves them as deviceManagementSettingInstance.
    const kind = entry.key === 'endpointSecurityIntent' && detail === 'settings' ? 'intentSettings' : detail
    for (let i = 0; i < n; i++) out.push(makeChild(kind, objectId, i, r))
    return out
  }

  groupId(index: number): string {
    return encodeGuid(this.#groupSeed, index)
  }

  locateGroup(id: string): number | undefined {
    if (guidPrefix(id) !== guidPrefix(this.groupId(0))) return undefined
    const index = decodeGuidIndex(this.#groupSeed, id)
    return index !== undefined && index < this.groupCount ? index : undefined
  }

  /** About one group in 25 was deleted after policies were assigned to it (always group 3). */
  isGroupDeleted(index: number): boolean {
    return index % 25 === 3
  }

  group(index: number): GraphObject {
    const r = this.#rng('group', index)
    const dept = r.pick(DEPARTMENTS)
    const dynamic = r.chance(0.3)
    return {
      id: this.groupId(index),
      displayName: `SG-Intune-${dept}-${r.pick(['Users', 'Devices', 'Pilot', 'Admins'])}-${index + 1}`,
      description: `${dept} ${dynamic ? 'dynamic' : 'assigned'} group`,
      groupTypes: dynamic ? ['DynamicMembership'] : [],
      securityEnabled: true,
      mailEnabled: false,
      membershipRule: dynamic ? `(user.department -eq "${dept}")` : null,
      createdDateTime: new Date(EPOCH + r.int(500) * DAY).toISOString(),
    }
  }

  /** The Entra tenant id a seed and size stand for, unless the caller names one. */
  static tenantIdFor(seed: string, size: number, clientId: string): string {
    return randomGuid(rng(hash32('tenant', seed, size, clientId)))
  }
}

export const generatedTypes = () => GENERATED_TYPES
