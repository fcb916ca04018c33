import { and, desc, eq, inArray, sql } from 'drizzle-orm'
import type { Executor } from '../../db/engine.ts'
import { inventoryContents, inventoryItems, inventoryVersions, settingDefinitions } from '../../db/schema.ts'
import { notFound, validationError } from '../../lib/errors.ts'
import { diffContents, settingDefinitionIds, type DiffNames } from './diff.ts'
import { presentVersion } from './history-presenter.ts'
import { versionColumns, type VersionWithContent } from './history.ts'

/** The group, assignment filter and scope tag ids two contents name (what a diff labels). */
function namedIds(contents: readonly Pick<VersionWithContent, 'payload' | 'assignments'>[]): string[] {
  const ids = new Set<string>()
  const add = (value: unknown) => {
    if (typeof value !== 'string' && typeof value !== 'number') return
    ids.add(String(value))
    ids.add(String(value).toLowerCase())
  }
  for (const content of contents) {
    for (const assignment of content.assignments ?? []) {
      const target = (assignment as { target?: Record<string, unknown> }).target ?? {}
      add(target.groupId)
      add(target.deviceAndAppManagementAssignmentFilterId)
    }
    const tags = content.payload.roleScopeTagIds
    if (Array.isArray(tags)) tags.forEach(add)
  }
  return [...ids]
}

/**
 * The names a diff labels with, from the tenant's inventory: the groups, assignment filters and
 * scope tags the contents name, and their setting definitions. Two queries side by side, each
 * reading only the rows named (by index), whatever the size of the tenant.
 */
export async function namesOf(db: Executor, tenantId: string, versions: readonly Pick<VersionWithContent, 'payload' | 'assignments'>[]): Promise<DiffNames> {
  const definitionIds = [...new Set(versions.flatMap((v) => settingDefinitionIds(v.payload)))]
  const ids = namedIds(versions)
  const [rows, definitions] = await Promise.all([
    ids.length === 0
      ? []
      : db
          .select({ type: inventoryItems.policyType, id: inventoryItems.externalId, name: inventoryItems.displayName })
          .from(inventoryItems)
          .where(and(eq(inventoryItems.tenantId, tenantId), inArray(inventoryItems.policyType, ['group', 'assignmentFilter', 'roleScopeTag']), inArray(inventoryItems.externalId, ids))),
    definitionIds.length === 0 ? [] : db.select().from(settingDefinitions).where(and(eq(settingDefinitions.tenantId, tenantId), inArray(settingDefinitions.id, definitionIds))),
  ])
  const of = (type: string) => new Map(rows.filter((r) => r.type === type).map((r) => [r.id.toLowerCase(), r.name]))
  return {
    settingDefinitions: new Map(definitions.map((d) => [d.id, { displayName: d.displayName, options: new Map(Object.entries(d.options)) }])),
    groups: of('group'),
    filters: of('assignmentFilter'),
    scopeTags: new Map(rows.filter((r) => r.type === 'roleScopeTag').map((r) => [r.id, r.name])),
  }
}

/**
 * The diff of two versions of an item by number; default: the previous version → the latest.
 * Both versions with their contents are one query (the latest number is a sub-select), the names
 * a second round: a diff is two round trips to the database.
 */
export async function itemDiff(db: Executor, tenantId: string, itemId: string, query: { from?: number | undefined; to?: number | undefined }) {
  if (query.from !== undefined && query.to !== undefined && query.from > query.to) throw validationError([{ field: 'from', message: 'must not be after to' }])
  const latest = sql`(SELECT max(m.number) FROM inventory_versions m WHERE m.tenant_id = ${tenantId} AND m.item_id = ${itemId})`
  const toWanted = query.to ?? latest
  const fromWanted = query.from ?? (query.to !== undefined ? query.to - 1 : sql`${latest} - 1`)
  const rows = await db
    .select(versionColumns)
    .from(inventoryVersions)
    .innerJoin(inventoryContents, and(eq(inventoryContents.tenantId, inventoryVersions.tenantId), eq(inventoryContents.contentHash, inventoryVersions.contentHash)))
    .where(and(eq(inventoryVersions.tenantId, tenantId), eq(inventoryVersions.itemId, itemId), sql`${inventoryVersions.number} IN (${toWanted}, ${fromWanted})`))
    .orderBy(desc(inventoryVersions.number))
  // Without `to`, the latest is the highest number read (a `from` above it does not exist).
  if (query.to === undefined && rows.length === 0) return { from: null, to: null, changes: [] }
  const toNumber = query.to ?? rows[0]!.number
  const fromNumber = query.from ?? toNumber - 1
  const to = rows.find((r) => r.number === toNumber)
  const from = fromNumber >= 1 ? rows.find((r) => r.number === fromNumber) : undefined
  if (!to) throw notFound(`Version ${toNumber}`)
  if (fromNumber >= 1 && !from) throw notFound(`Version ${fromNumber}`)
  const names = await namesOf(db, tenantId, from ? [from, to] : [to])
  return {
    from: from ? presentVersion(from) : null,
    to: presentVersion(to),
    changes: diffContents(from ?? null, to, names),
  }
}
