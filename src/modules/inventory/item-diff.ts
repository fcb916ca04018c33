import { and, eq, inArray } from 'drizzle-orm'
import type { Executor } from '../../db/engine.ts'
import { inventoryItems, settingDefinitions } from '../../db/schema.ts'
import { notFound, validationError } from '../../lib/errors.ts'
import { diffContents, settingDefinitionIds, type DiffNames } from './diff.ts'
import { presentVersion } from './history-presenter.ts'
import { findVersion, latestVersionNumber, type VersionWithContent } from './history.ts'

/** The names a diff labels with, from the tenant's inventory: groups, assignment filters, scope tags. */
export async function namesOf(db: Executor, tenantId: string, versions: readonly Pick<VersionWithContent, 'payload'>[]): Promise<DiffNames> {
  const rows = await db
    .select({ type: inventoryItems.policyType, id: inventoryItems.externalId, name: inventoryItems.displayName })
    .from(inventoryItems)
    .where(and(eq(inventoryItems.tenantId, tenantId), inArray(inventoryItems.policyType, ['group', 'assignmentFilter', 'roleScopeTag'])))
  const of = (type: string) => new Map(rows.filter((r) => r.type === type).map((r) => [r.id.toLowerCase(), r.name]))
  const ids = [...new Set(versions.flatMap((v) => settingDefinitionIds(v.payload)))]
  const definitions =
    ids.length === 0
      ? []
      : await db
          .select()
          .from(settingDefinitions)
          .where(and(eq(settingDefinitions.tenantId, tenantId), inArray(settingDefinitions.id, ids)))
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
  const to = await findVersion(db, tenantId, itemId, { number: toNumber })
  if (!to) throw notFound(`Version ${toNumber}`)
  const from = fromNumber >= 1 ? await findVersion(db, tenantId, itemId, { number: fromNumber }) : undefined
  if (fromNumber >= 1 && !from) throw notFound(`Version ${fromNumber}`)
  const names = await namesOf(db, tenantId, from ? [from, to] : [to])
  return {
    from: from ? presentVersion(from) : null,
    to: presentVersion(to),
    changes: diffContents(from ?? null, to, names),
  }
}
