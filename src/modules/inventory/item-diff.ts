import { and, eq, inArray } from 'drizzle-orm'
import type { Executor } from '../../db/engine.ts'
import { inventoryItems, settingDefinitions } from '../../db/schema.ts'
import { notFound, validationError } from '../../lib/errors.ts'
import { diffContents, settingDefinitionIds, type DiffNames } from './diff.ts'
import { presentVersion } from './history-presenter.ts'
import { findVersion, latestVersionNumber, type VersionWithContent } from './history.ts'

/** The names a diff labels with, from the tenant's inventory: groups, assignment filters, scope tags. */
export async function namesOf(db: Executor, tenantId: string, versions: readonly Pick<VersionWithContent, 'payload'>[]): Promise<DiffNames> {
  const ids = [...new Set(versions.flatMap((v) => settingDefinitionIds(v.payload)))]
  const [rows, definitions] = await Promise.all([
    db
      .select({ type: inventoryItems.policyType, id: inventoryItems.externalId, name: inventoryItems.displayName })
      .from(inventoryItems)
      .where(and(eq(inventoryItems.tenantId, tenantId), inArray(inventoryItems.policyType, ['group', 'assignmentFilter', 'roleScopeTag']))),
    ids.length === 0 ? [] : db.select().from(settingDefinitions).where(and(eq(settingDefinitions.tenantId, tenantId), inArray(settingDefinitions.id, ids))),
  ])
  const of = (type: string) => new Map(rows.filter((r) => r.type === type).map((r) => [r.id.toLowerCase(), r.name]))
  return {
    settingDefinitions: new Map(definitions.map((d) => [d.id, { displayName: d.displayName, options: new Map(Object.entries(d.options)) }])),
    groups: of('group'),
    filters: of('assignmentFilter'),
    scopeTags: new Map(rows.filter((r) => r.type === 'roleScopeTag').map((r) => [r.id, r.name])),
  }
}

/** The diff of two versions of an item by number; default: the previous version → the latest. */
export async function itemDiff(db: Executor, tenantId: string, itemId: string, query: { from?: number | undefined; to?: number | undefined }) {
  const latest = await latestVersionNumber(db, tenantId, itemId)
  if (latest === 0) return { from: null, to: null, changes: [] }
  const toNumber = query.to ?? latest
  const fromNumber = query.from ?? (query.to === undefined ? latest - 1 : toNumber - 1)
  if (query.from !== undefined && query.to !== undefined && query.from > query.to) throw validationError([{ field: 'from', message: 'must not be after to' }])
  const [to, from] = await Promise.all([findVersion(db, tenantId, itemId, { number: toNumber }), fromNumber >= 1 ? findVersion(db, tenantId, itemId, { number: fromNumber }) : undefined])
  if (!to) throw notFound(`Version ${toNumber}`)
  if (fromNumber >= 1 && !from) throw notFound(`Version ${fromNumber}`)
  const names = await namesOf(db, tenantId, from ? [from, to] : [to])
  return {
    from: from ? presentVersion(from) : null,
    to: presentVersion(to),
    changes: diffContents(from ?? null, to, names),
  }
}
