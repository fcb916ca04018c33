import { eq, sql } from 'drizzle-orm'
import type { Database, Executor } from '../../db/engine.ts'
import { comparisonRows, comparisons, type ComparisonRowStatus } from '../../db/schema.ts'
import { diffContents, type Content, type DiffNames } from '../inventory/diff.ts'
import { namesOf } from '../inventory/item-diff.ts'
import { sourceOf, storedSide, type Side, type SideKey } from './sides.ts'

/** Pairs whose contents are read and diffed together: bounded memory whatever the size of the sides. */
const BATCH = 500

type Pair = { policyType: string; left: SideKey | null; right: SideKey | null }
export type MappingKind = 'group' | 'assignment_filter' | 'scope_tag'
export type MappingEntry = {
  kind: MappingKind
  left_id: string
  left_name: string | null
  right_id: string | null
  right_name: string | null
  /** `name`: proposed by name (or the same tenant's own id); `user`: a pair the person gave (POST /api/comparisons `mapping`). */
  source: 'name' | 'user'
}
export type MappingOverride = { kind: MappingKind; left_id: string; right_id: string | null }

/** What a comparison is matched on: the catalog type, the `@odata.type` and the name (case and outer spaces ignored). */
const matchKey = (k: SideKey) => `${k.policyType}\u0000${k.odataType ?? ''}\u0000${k.name.trim().toLowerCase()}`
const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

/**
 * Pairs the two sides' objects: same type, `@odata.type` and name. Duplicate names pair in id
 * order; the rest are only left or only right. Ordered by type, then name, so pages read like the inventory.
 */
export function matchSides(left: readonly SideKey[], right: readonly SideKey[]): Pair[] {
  const group = (keys: readonly SideKey[]) => {
    const map = new Map<string, SideKey[]>()
    for (const k of [...keys].sort((a, b) => byText(a.externalId, b.externalId))) {
      const key = matchKey(k)
      const list = map.get(key)
      if (list) list.push(k)
      else map.set(key, [k])
    }
    return map
  }
  const l = group(left)
  const r = group(right)
  const pairs: Pair[] = []
  for (const key of new Set([...l.keys(), ...r.keys()])) {
    const ls = l.get(key) ?? []
    const rs = r.get(key) ?? []
    for (let i = 0; i < Math.max(ls.length, rs.length); i++) {
      const a = ls[i] ?? null
      const b = rs[i] ?? null
      pairs.push({ policyType: (a ?? b)!.policyType, left: a, right: b })
    }
  }
  const nameOf = (p: Pair) => (p.left ?? p.right)!.name.toLowerCase()
  const idOf = (p: Pair) => (p.left ?? p.right)!.externalId
  return pairs.sort(
    (a, b) => byText(a.policyType, b.policyType) || byText(nameOf(a), nameOf(b)) || byText(idOf(a), idOf(b)),
  )
}

const KIND_TYPES: Record<MappingKind, string> = {
  group: 'group',
  assignment_filter: 'assignmentFilter',
  scope_tag: 'roleScopeTag',
}

/**
 * The left tenant's groups, assignment filters and scope tags mapped to the right's by name
 * (case-insensitive; the built-in Default scope tag `0` to itself). Same tenant: every id to itself.
 */
export async function proposeMapping(
  db: Executor,
  leftTenantId: string,
  rightTenantId: string,
  overrides: readonly MappingOverride[] = [],
) {
  const read = async (tenantId: string) => {
    const { rows } = await db.execute<{ type: string; id: string; name: string }>(sql`
      SELECT policy_type AS type, external_id AS id, display_name AS name FROM inventory_items
      WHERE tenant_id = ${tenantId} AND policy_type IN ('group', 'assignmentFilter', 'roleScopeTag') AND removed_at IS NULL`)
    return rows
  }
  const [leftRows, rightRows] = await Promise.all([read(leftTenantId), read(rightTenantId)])
  const leftNames = new Map(leftRows.map((r) => [`${r.type}:${r.id.toLowerCase()}`, r.name]))
  const rightNames = new Map(rightRows.map((r) => [`${r.type}:${r.id.toLowerCase()}`, r.name]))
  const given = new Map(overrides.map((o) => [`${o.kind}:${o.left_id.toLowerCase()}`, o]))
  const rightByName = new Map<string, { id: string; name: string }>()
  for (const r of [...rightRows].sort((a, b) => byText(a.id, b.id))) {
    const key = `${r.type}:${r.name.trim().toLowerCase()}`
    if (!rightByName.has(key)) rightByName.set(key, { id: r.id, name: r.name })
  }
  const same = leftTenantId === rightTenantId
  const used = new Map<string, MappingEntry>()
  /** The right side's id for a left id (null: no object of that name on the right). */
  const map = (kind: MappingKind, leftId: string): string | null => {
    const k = `${kind}:${leftId.toLowerCase()}`
    const known = used.get(k)
    if (known) return known.right_id
    const type = KIND_TYPES[kind]
    const leftName =
      leftNames.get(`${type}:${leftId.toLowerCase()}`) ?? (kind === 'scope_tag' && leftId === '0' ? 'Default' : null)
    const override = given.get(k)
    let right: { id: string; name: string } | undefined
    if (override) {
      const id = override.right_id
      const name = id === null ? null : (rightNames.get(`${type}:${id.toLowerCase()}`) ?? (id === '0' ? 'Default' : id))
      right = id === null ? undefined : { id, name: name! }
    } else if (same || (kind === 'scope_tag' && leftId === '0')) right = { id: leftId, name: leftName ?? leftId }
    else if (leftName !== null) right = rightByName.get(`${type}:${leftName.trim().toLowerCase()}`)
    const entry: MappingEntry = {
      kind,
      left_id: leftId,
      left_name: leftName,
      right_id: right?.id ?? null,
      right_name: right?.name ?? null,
      source: override ? 'user' : 'name',
    }
    used.set(k, entry)
    return entry.right_id
  }
  const entries = () => {
    // The person's pairs are shown even when no compared object names them.
    for (const o of overrides) map(o.kind, o.left_id)
    return [...used.values()].sort(
      (a, b) => byText(a.kind, b.kind) || byText(a.left_name ?? a.left_id, b.left_name ?? b.left_id),
    )
  }
  return { map, entries }
}

type Named = { payload: Record<string, unknown>; assignments: Record<string, unknown>[] }
type Mapper = (kind: MappingKind, leftId: string) => string | null

/** The left content with its group, filter and scope tag ids as the right side knows them (unmapped ids stay). */
export function translated(content: Content, map: Mapper): Content {
  const assignments = content.assignments.map((a) => {
    const target = (a.target ?? {}) as Record<string, unknown>
    const next = { ...target }
    if (typeof target.groupId === 'string') next.groupId = map('group', target.groupId) ?? target.groupId
    const filterId = target.deviceAndAppManagementAssignmentFilterId
    if (typeof filterId === 'string' && filterId !== '00000000-0000-0000-0000-000000000000')
      next.deviceAndAppManagementAssignmentFilterId = map('assignment_filter', filterId) ?? filterId
    return { ...a, target: next }
  })
  const payload = { ...content.payload }
  for (const key of ['roleScopeTagIds', 'roleScopeTags'] as const) {
    const tags = payload[key]
    if (Array.isArray(tags))
      payload[key] = (tags as unknown[]).map((t) => (typeof t === 'string' ? (map('scope_tag', t) ?? t) : t))
  }
  return { payload, assignments }
}

/** Labels from both tenants: the right's names win (the left's mapped ids are the right's now). */
function mergedNames(left: DiffNames, right: DiffNames): DiffNames {
  return {
    settingDefinitions: new Map([...left.settingDefinitions, ...right.settingDefinitions]),
    groups: new Map([...left.groups, ...right.groups]),
    filters: new Map([...left.filters, ...right.filters]),
    scopeTags: new Map([...left.scopeTags, ...right.scopeTags]),
  }
}

const presentKey = (k: SideKey | null) =>
  k && { id: k.externalId, name: k.name, odata_type: k.odataType, ...(k.itemId ? { item_id: k.itemId } : {}) }

export type ComputeOptions = {
  total?: (count: number) => Promise<void>
  processed?: (count: number) => Promise<void>
  throwIfCancelled?: () => void
  /** Where the rows are written: a run's fenced transaction, or a plain one. */
  write?: (work: (tx: Executor) => Promise<void>) => Promise<void>
}

/**
 * Computes a stored comparison: matches the sides, maps groups, filters and scope tags by name,
 * and writes one row per object — only left, only right, different (with the setting-level
 * changes of the version diff) or same — batch by batch, then the counts and the mapping.
 */
export async function computeComparison(db: Database, comparisonId: string, options: ComputeOptions = {}) {
  const write = options.write ?? ((work) => db.transaction(work))
  const [comparison] = await db.select().from(comparisons).where(eq(comparisons.id, comparisonId))
  if (!comparison) throw new Error(`comparison ${comparisonId} not found`)
  const left = storedSide(comparison.left)
  const right = storedSide(comparison.right)
  // A re-queued attempt starts over.
  await write(async (tx) => {
    await tx.delete(comparisonRows).where(eq(comparisonRows.comparisonId, comparisonId))
  })
  const [leftKeys, rightKeys, mapping] = await Promise.all([
    sourceOf(left).keys(db, left),
    sourceOf(right).keys(db, right),
    // The person's own pairs (POST /api/comparisons `mapping`) are the stored entries marked `user`.
    proposeMapping(
      db,
      left.tenantId,
      right.tenantId,
      (comparison.mapping as unknown as (MappingOverride & { source?: string })[]).filter((m) => m.source === 'user'),
    ),
  ])
  const pairs = matchSides(leftKeys, rightKeys)
  await options.total?.(pairs.length)
  const counts: Record<ComparisonRowStatus, number> = { only_left: 0, only_right: 0, different: 0, same: 0 }
  const byType: Record<string, Record<string, number>> = {}
  for (let start = 0; start < pairs.length; start += BATCH) {
    options.throwIfCancelled?.()
    const batch = pairs.slice(start, start + BATCH)
    const rows = await diffBatch(db, left, right, batch, mapping.map)
    await write(async (tx) => {
      await tx.insert(comparisonRows).values(
        rows.map((row, i) => ({
          comparisonId,
          position: start + i,
          status: row.status,
          policyType: batch[i]!.policyType,
          left: presentKey(batch[i]!.left),
          right: presentKey(batch[i]!.right),
          changes: row.changes,
        })),
      )
    })
    for (const [i, row] of rows.entries()) {
      counts[row.status]++
      const t = (byType[batch[i]!.policyType] ??= { only_left: 0, only_right: 0, different: 0, same: 0 })
      t[row.status] = (t[row.status] ?? 0) + 1
    }
    await options.processed?.(batch.length)
  }
  await write(async (tx) => {
    await tx
      .update(comparisons)
      .set({
        status: 'ready',
        counts: { ...counts, total: pairs.length, by_type: byType },
        mapping: mapping.entries(),
        completedAt: sql`now()`,
      })
      .where(eq(comparisons.id, comparisonId))
  })
}

async function diffBatch(db: Database, left: Side, right: Side, batch: readonly Pair[], map: Mapper) {
  const both = batch.filter((p) => p.left && p.right)
  const [leftContents, rightContents] = await Promise.all([
    sourceOf(left).contents(db, left, [...new Set(both.map((p) => p.left!.ref))]),
    sourceOf(right).contents(db, right, [...new Set(both.map((p) => p.right!.ref))]),
  ])
  const translatedLeft = new Map([...leftContents].map(([ref, content]) => [ref, translated(content, map)] as const))
  const [leftNames, rightNames] = await Promise.all([
    namesOf(db, left.tenantId, [...leftContents.values()] as Named[]),
    namesOf(db, right.tenantId, [...rightContents.values()] as Named[]),
  ])
  const names = mergedNames(leftNames, rightNames)
  return batch.map((pair): { status: ComparisonRowStatus; changes: Record<string, unknown>[] } => {
    if (!pair.right) return { status: 'only_left', changes: [] }
    if (!pair.left) return { status: 'only_right', changes: [] }
    // Same tenant, same content: nothing to diff.
    if (
      left.tenantId === right.tenantId &&
      left.kind !== 'tenant' &&
      right.kind !== 'tenant' &&
      pair.left.ref === pair.right.ref
    )
      return { status: 'same', changes: [] }
    const a = translatedLeft.get(pair.left.ref) ?? null
    const b = rightContents.get(pair.right.ref) ?? null
    const changes = diffContents(a, b, names)
    return changes.length === 0 ? { status: 'same', changes: [] } : { status: 'different', changes }
  })
}
