import { sql } from 'drizzle-orm'
import type { Executor } from '../../db/engine.ts'
import { notFound, validationError } from '../../lib/errors.ts'
import { diffContents, settingDefinitionIds, type DiffNames } from './diff.ts'
import { presentVersion } from './history-presenter.ts'
import type { VersionWithContent } from './history.ts'
import { toTextArray } from './store.ts'

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
    // Policy sets and assignment filters name the list roleScopeTags.
    const tags = content.payload.roleScopeTagIds ?? content.payload.roleScopeTags
    if (Array.isArray(tags)) tags.forEach(add)
  }
  return [...ids]
}

/**
 * The names a diff labels with, from the tenant's inventory: the groups, assignment filters and
 * scope tags the contents name (and `otherIds`, e.g. a restore's mapped ids), and their setting definitions. Two queries side by side, each
 * reading only the rows named (by index), whatever the size of the tenant.
 */
export async function namesOf(
  db: Executor,
  tenantId: string,
  versions: readonly Pick<VersionWithContent, 'payload' | 'assignments'>[],
  otherIds: readonly string[] = [],
): Promise<DiffNames> {
  const definitionIds = [...new Set(versions.flatMap((v) => settingDefinitionIds(v.payload)))]
  const ids = [...new Set([...namedIds(versions), ...otherIds, ...otherIds.map((id) => id.toLowerCase())])]
  // Ids as one array parameter (drizzle's inArray sends 250 of them, costlier to parse and plan than the read), plain SQL rows.
  const [rows, definitions] = await Promise.all([
    ids.length === 0
      ? []
      : db
          .execute<{ type: string; id: string; name: string }>(
            sql`
            SELECT policy_type AS type, external_id AS id, display_name AS name FROM inventory_items
            WHERE tenant_id = ${tenantId} AND policy_type IN ('group', 'assignmentFilter', 'roleScopeTag') AND external_id = ANY(${toTextArray(ids)}::text[])`,
          )
          .then((r) => r.rows),
    definitionIds.length === 0
      ? []
      : db
          .execute<{ id: string; display_name: string; options: Record<string, string> }>(
            sql`
            SELECT id, display_name, options FROM setting_definitions WHERE tenant_id = ${tenantId} AND id = ANY(${toTextArray(definitionIds)}::text[])`,
          )
          .then((r) => r.rows),
  ])
  const of = (type: string) => new Map(rows.filter((r) => r.type === type).map((r) => [r.id.toLowerCase(), r.name]))
  return {
    settingDefinitions: new Map(
      definitions.map((d) => [d.id, { displayName: d.display_name, options: new Map(Object.entries(d.options)) }]),
    ),
    groups: of('group'),
    filters: of('assignmentFilter'),
    scopeTags: new Map(rows.filter((r) => r.type === 'roleScopeTag').map((r) => [r.id, r.name])),
  }
}

type VersionRow = {
  id: string
  tenant_id: string
  item_id: string
  number: number
  content_hash: string
  captured_at: Date | string
  run_id: string
  changed_by: VersionWithContent['changedBy']
  payload: Record<string, unknown>
  assignments: Record<string, unknown>[] | null
}

const versionOf = (r: VersionRow): VersionWithContent => ({
  id: r.id,
  tenantId: r.tenant_id,
  itemId: r.item_id,
  number: r.number,
  contentHash: r.content_hash,
  capturedAt: new Date(r.captured_at),
  runId: r.run_id,
  changedBy: r.changed_by,
  payload: r.payload,
  assignments: r.assignments ?? [],
})

/**
 * The diff of two versions of an item by number; default: the previous version → the latest.
 * Both versions with their contents are one query (the latest number is a sub-select), the names
 * a second round: a diff is two round trips to the database.
 */
export async function itemDiff(
  db: Executor,
  tenantId: string,
  itemId: string,
  query: { from?: number | undefined; to?: number | undefined },
) {
  if (query.from !== undefined && query.to !== undefined && query.from > query.to)
    throw validationError([{ field: 'from', message: 'must not be after to' }])
  const latest = sql`(SELECT max(m.number) FROM inventory_versions m WHERE m.tenant_id = ${tenantId} AND m.item_id = ${itemId})`
  const toWanted = query.to ?? latest
  const fromWanted = query.from ?? (query.to !== undefined ? query.to - 1 : sql`${latest} - 1`)
  // Plain SQL rows: drizzle's row mapping costs more than the query here.
  const { rows: raw } = await db.execute<VersionRow>(sql`
    SELECT v.id, v.tenant_id, v.item_id, v.number, v.content_hash, v.captured_at, v.run_id, v.changed_by, c.payload, c.assignments
    FROM inventory_versions v JOIN inventory_contents c ON c.tenant_id = v.tenant_id AND c.content_hash = v.content_hash
    WHERE v.tenant_id = ${tenantId} AND v.item_id = ${itemId} AND v.number IN (${toWanted}, ${fromWanted})
    ORDER BY v.number DESC`)
  const rows = raw.map(versionOf)
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
