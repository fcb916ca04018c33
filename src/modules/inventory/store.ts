import { sql, type SQL } from 'drizzle-orm'
import type { Database, Executor } from '../../db/engine.ts'
import type { ChangedBy } from '../../db/schema.ts'
import type { PolicyTypeEntry } from '../../graph/policy-types.ts'
import { uuidv7 } from '../../lib/ids.ts'
import { fencedTransaction } from '../operations/lifecycle.ts'
import type { NormalisedItem } from './normalise.ts'
import { holdContentStore } from './content-store.ts'
import { type ChangeRow, recordChangeEvents } from '../alerts/events.ts'

/**
 * The inventory's writes, set-based: a page of objects costs one read of the stored hashes and,
 * only when something changed, one upsert plus the references of the changed rows. Removal and
 * last-seen bookkeeping is one transaction per unit.
 */

export type PageCounts = { created: number; updated: number; unchanged: number }
/** A page's counts, and the objects PostgreSQL refused (stored as they were, reported, never removed). */
export type PageResult = PageCounts & { rejected: NormalisedItem[] }
/** A unit of a run's attempt: every write is fenced on that attempt still running (operations' fencedTransaction: a re-queued run's stale worker writes nothing). */
export type UnitScope = {
  tenantId: string
  runId: string
  attempt: number
  entry: PolicyTypeEntry
  /** Who made the changes, when known as they are written (a TenantAtlas run's writes); a sync's come from the audit log later. */
  changedBy?: ChangedBy
}

const changedByOf = (scope: UnitScope) => sql`${scope.changedBy ? JSON.stringify(scope.changedBy) : null}::jsonb`

type Stored = { id: string; external_id: string; content_hash: string; removed_at: Date | null }

/**
 * `history: 'restored'`: the changes are a restore's (issue 15), and the change history says so
 * whatever they are (created, updated or back after a removal).
 */
export async function writePage(
  db: Database,
  scope: UnitScope,
  page: readonly NormalisedItem[],
  options: { history?: 'restored' } = {},
): Promise<PageResult> {
  const { counts, changed } = await changesOf(db, scope, page, options)
  if (changed.length === 0) return counts
  const rejected = await upsertChanged(db, scope, changed)
  for (const item of changed) if (!rejected.includes(item)) counts[item.change]++
  counts.rejected = rejected
  return counts
}

/** What a page changes in the stored items (created, updated, back after a removal), with the history each gets. */
async function changesOf(
  db: Executor,
  scope: UnitScope,
  page: readonly NormalisedItem[],
  options: { history?: 'restored' },
) {
  // The same object twice in one listing (Graph paging is not a snapshot): the last one wins.
  const items = [...new Map(page.map((item) => [item.externalId, item])).values()]
  const counts: PageResult = { created: 0, updated: 0, unchanged: 0, rejected: [] }
  const changed: ChangedItem[] = []
  if (items.length === 0) return { counts, changed }
  const { rows: stored } = await db.execute<Stored>(sql`
    SELECT id, external_id, content_hash, removed_at FROM inventory_items
    WHERE tenant_id = ${scope.tenantId} AND policy_type = ${scope.entry.key}
      AND external_id = ANY(${toTextArray(items.map((i) => i.externalId))}::text[])`)
  const byExternalId = new Map(stored.map((row) => [row.external_id, row]))
  for (const item of items) {
    const existing = byExternalId.get(item.externalId)
    // Back after a removal counts as created (and is `restored` in the change history).
    const seen = !existing
      ? 'created'
      : existing.removed_at !== null
        ? 'restored'
        : existing.content_hash !== item.contentHash
          ? 'updated'
          : undefined
    const history = seen && (options.history ?? seen)
    if (history)
      changed.push({
        ...item,
        id: existing?.id ?? uuidv7(),
        change: seen === 'updated' ? 'updated' : 'created',
        history,
      })
    else counts.unchanged++
  }
  return { counts, changed }
}

/**
 * A write's result mirrored in the inventory inside the caller's transaction (the one that
 * confirms the write in the journal, ADR 023): the objects as read back after it, and the ones it
 * deleted marked removed. An object PostgreSQL refuses is left to the next sync (a savepoint keeps
 * the rest of the transaction).
 */
export async function mirrorWrite(
  tx: Executor,
  scope: UnitScope,
  result: { present?: readonly NormalisedItem[]; removed?: readonly string[] },
  options: {
    history?: 'restored'
    /**
     * The inventory item (removed) a re-created object continues: the object takes over its row,
     * so the item's history goes on (a restore of a deleted object) instead of a new item.
     */
    continues?: string
  } = {},
): Promise<void> {
  if (result.removed && result.removed.length > 0)
    await removeAndRecord(
      tx,
      scope,
      removeWithHistory(
        scope,
        sql`${scope.runId}`,
        sql`i.external_id = ANY(${toTextArray([...result.removed])}::text[])`,
      ),
    )
  if (!result.present || result.present.length === 0) return
  const [object] = result.present
  if (options.continues && result.present.length === 1 && object)
    await tx.execute(sql`
      UPDATE inventory_items AS i SET external_id = ${object.externalId}, updated_at = now()
      WHERE i.id = ${options.continues} AND i.tenant_id = ${scope.tenantId} AND i.policy_type = ${scope.entry.key}
        AND i.removed_at IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM inventory_items o WHERE o.tenant_id = ${scope.tenantId}
          AND o.policy_type = ${scope.entry.key} AND o.external_id = ${object.externalId})`)
  const { changed } = await changesOf(tx, scope, result.present, options)
  if (changed.length === 0) return
  try {
    await tx.transaction((savepoint) => upsertItems(savepoint, scope, changed))
  } catch (error) {
    if (!isDataException(error)) throw error
  }
}

type ChangedItem = NormalisedItem & {
  id: string
  change: 'created' | 'updated'
  history: 'created' | 'updated' | 'restored'
}

/** PostgreSQL's data exceptions (class 22): a value no column can hold. */
const isDataException = (error: unknown) => {
  const code: unknown = (error as { cause?: { code?: unknown } }).cause?.code ?? (error as { code?: unknown }).code
  return typeof code === 'string' && code.startsWith('22')
}

/**
 * Writes the changed objects of a page. One object PostgreSQL refuses must not cost its whole
 * type (no update or removal of the type would ever be mirrored while it exists): the page is
 * then written one object at a time, and the refused ones are returned.
 */
async function upsertChanged(db: Database, scope: UnitScope, rows: readonly ChangedItem[]): Promise<ChangedItem[]> {
  try {
    await fencedTransaction(db, scope, (tx) => upsertItems(tx, scope, rows))
    return []
  } catch (error) {
    if (!isDataException(error)) throw error
    if (rows.length === 1) return [...rows]
    const rejected: ChangedItem[] = []
    for (const row of rows) rejected.push(...(await upsertChanged(db, scope, [row])))
    return rejected
  }
}

/** A text[] literal, sent as one parameter (drizzle spreads a JS array into one parameter per value). */
export const toTextArray = (values: readonly string[]) =>
  `{${values.map((v) => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`).join(',')}}`

async function upsertItems(tx: Executor, scope: UnitScope, rows: readonly ChangedItem[]) {
  const records = rows.map((r) => ({
    id: r.id,
    external_id: r.externalId,
    display_name: r.displayName,
    platform: r.platform,
    payload: r.payload,
    assignments: r.assignments,
    content_hash: r.contentHash,
    graph_last_modified_at: r.graphLastModifiedAt,
  }))
  await tx.execute(sql`
    INSERT INTO inventory_items AS i (id, tenant_id, policy_type, external_id, display_name, category, platform, payload, assignments,
      content_hash, graph_last_modified_at, first_seen_run_id, last_seen_run_id)
    SELECT r.id, ${scope.tenantId}, ${scope.entry.key}, r.external_id, r.display_name, ${scope.entry.category}, r.platform, r.payload, r.assignments,
      r.content_hash, r.graph_last_modified_at, ${scope.runId}, ${scope.runId}
    FROM jsonb_to_recordset(${JSON.stringify(records)}::jsonb) AS r(id uuid, external_id text, display_name text, platform text, payload jsonb,
      assignments jsonb, content_hash text, graph_last_modified_at timestamptz)
    ON CONFLICT (tenant_id, policy_type, external_id) DO UPDATE SET
      display_name = excluded.display_name, platform = excluded.platform, payload = excluded.payload, assignments = excluded.assignments,
      content_hash = excluded.content_hash, graph_last_modified_at = excluded.graph_last_modified_at,
      last_seen_run_id = excluded.last_seen_run_id, removed_at = NULL, version = i.version + 1, updated_at = now()
    WHERE i.content_hash IS DISTINCT FROM excluded.content_hash OR i.removed_at IS NOT NULL`)
  await writeVersions(tx, scope, rows)
  await writeDefinitions(tx, scope, rows)
  // References follow the content: replaced for exactly the rows that changed. A group already
  // known to be deleted stays flagged until the dependency unit says otherwise.
  const ids = rows.map((r) => r.id)
  await tx.execute(sql`DELETE FROM inventory_references WHERE item_id = ANY(${toTextArray(ids)}::uuid[])`)
  const refs = rows.flatMap((r) =>
    r.references.map((ref) => ({
      item_id: r.id,
      kind: ref.kind,
      target_type: ref.targetType,
      target_external_id: ref.targetExternalId,
    })),
  )
  if (refs.length === 0) return
  await tx.execute(sql`
    INSERT INTO inventory_references (item_id, tenant_id, kind, target_type, target_external_id, orphaned)
    SELECT r.item_id, ${scope.tenantId}, r.kind, r.target_type, r.target_external_id,
      EXISTS (SELECT 1 FROM inventory_references o WHERE o.tenant_id = ${scope.tenantId} AND o.target_type = r.target_type
        AND o.target_external_id = r.target_external_id AND o.orphaned)
    FROM jsonb_to_recordset(${JSON.stringify(refs)}::jsonb) AS r(item_id uuid, kind text, target_type text, target_external_id text)
    ON CONFLICT DO NOTHING`)
}

/**
 * The versions and change entries of the rows just written, set-based: their content is stored
 * once per (tenant, hash); a version is added only when the content differs from the item's
 * latest version (a restored item with its old content gets no new one); numbering continues
 * across removals. Ids are random (gen_random_uuid): versions are ordered by number, changes by
 * (detected_at, id).
 */
async function writeVersions(tx: Executor, scope: UnitScope, rows: readonly ChangedItem[]) {
  const ids = toTextArray(rows.map((r) => r.id))
  // Content is referenced by this transaction's versions: no garbage collection meanwhile (content-store.ts).
  await holdContentStore(tx, scope.tenantId)
  await tx.execute(sql`
    INSERT INTO inventory_contents (tenant_id, content_hash, payload, assignments)
    SELECT DISTINCT ON (i.content_hash) i.tenant_id, i.content_hash, i.payload, i.assignments FROM inventory_items i
    WHERE i.id = ANY(${ids}::uuid[])
    ON CONFLICT DO NOTHING`)
  const records = rows.map((r) => ({
    id: r.id,
    content_hash: r.contentHash,
    display_name: r.displayName,
    kind: r.history,
  }))
  const { rows: changes } = await tx.execute<ChangeRow>(sql`
    WITH r AS (SELECT * FROM jsonb_to_recordset(${JSON.stringify(records)}::jsonb) AS r(id uuid, content_hash text, display_name text, kind text)),
    latest AS (
      SELECT r.id AS item_id, l.id, l.number, l.content_hash FROM r
      LEFT JOIN LATERAL (SELECT v.id, v.number, v.content_hash FROM inventory_versions v WHERE v.item_id = r.id ORDER BY v.number DESC LIMIT 1) l ON true),
    fresh AS (
      INSERT INTO inventory_versions (id, tenant_id, item_id, number, content_hash, captured_at, run_id, changed_by)
      SELECT gen_random_uuid(), ${scope.tenantId}, r.id, COALESCE(l.number, 0) + 1, r.content_hash, now(), ${scope.runId}, ${changedByOf(scope)}
      FROM r JOIN latest l ON l.item_id = r.id WHERE l.content_hash IS DISTINCT FROM r.content_hash
      RETURNING item_id, id)
    INSERT INTO inventory_changes (id, tenant_id, item_id, policy_type, display_name, kind, version_id, previous_version_id, detected_at, run_id, changed_by)
    SELECT gen_random_uuid(), ${scope.tenantId}, r.id, ${scope.entry.key}, r.display_name, r.kind, COALESCE(f.id, l.id),
      CASE WHEN f.id IS NOT NULL THEN l.id END, now(), ${scope.runId}, ${changedByOf(scope)}
    FROM r JOIN latest l ON l.item_id = r.id LEFT JOIN fresh f ON f.item_id = r.id
    WHERE r.kind <> 'updated' OR f.id IS NOT NULL
    RETURNING id, item_id, kind, display_name`)
  // The alerts outbox, in this transaction (ADR 030): one more statement per changed page. A type's
  // first import (never synced before) is not news: connecting a tenant raises no alert per object.
  if (changes.length > 0 && (await typeSyncedBefore(tx, scope)))
    await recordChangeEvents(tx, changeScope(scope), changes)
}

async function typeSyncedBefore(tx: Executor, scope: UnitScope): Promise<boolean> {
  const { rows } = await tx.execute<{ known: boolean }>(sql`
    SELECT EXISTS (SELECT 1 FROM inventory_type_states WHERE tenant_id = ${scope.tenantId} AND policy_type = ${scope.entry.key}) AS known`)
  return rows[0]?.known ?? false
}

const changeScope = (scope: UnitScope) => ({
  tenantId: scope.tenantId,
  runId: scope.runId,
  policyType: scope.entry.key,
  changedBy: scope.changedBy,
})

/** The setting definitions Graph expanded beside the changed rows' settings: written only when new or different. */
async function writeDefinitions(tx: Executor, scope: UnitScope, rows: readonly ChangedItem[]) {
  // Sorted: units of types that share definitions (settings catalog, endpoint security) write them
  // at the same time, and rows locked in one order cannot deadlock.
  const definitions = [
    ...new Map(
      rows
        .flatMap((r) => r.definitions)
        .map((d) => [d.id, { id: d.id, display_name: d.displayName, options: d.options }]),
    ).values(),
  ].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  if (definitions.length === 0) return
  await tx.execute(sql`
    INSERT INTO setting_definitions AS d (tenant_id, id, display_name, options)
    SELECT ${scope.tenantId}, r.id, r.display_name, r.options
    FROM jsonb_to_recordset(${JSON.stringify(definitions)}::jsonb) AS r(id text, display_name text, options jsonb)
    ORDER BY r.id COLLATE "C"
    ON CONFLICT (tenant_id, id) DO UPDATE SET display_name = excluded.display_name, options = excluded.options
    WHERE d.display_name IS DISTINCT FROM excluded.display_name OR d.options IS DISTINCT FROM excluded.options`)
}

/**
 * A unit whose listing completed: its items that were not seen are marked removed (remembering
 * the last sync that saw them), and the type's state records this run as the last complete one.
 * Never called for a failed unit, so a failure never removes anything.
 */
export async function completeUnit(
  db: Database,
  scope: UnitScope,
  seen: ReadonlySet<string>,
  mode: 'full' | 'quick' = 'full',
): Promise<number> {
  return fencedTransaction(db, scope, async (tx) => {
    // NOT EXISTS plans as a hash anti join whatever the size; NOT IN (SELECT unnest(…)) stops
    // hashing past work_mem (~150,000 ids) and turns quadratic.
    const n = await removeAndRecord(
      tx,
      scope,
      removeWithHistory(
        scope,
        sql`GREATEST((SELECT s.last_run_id FROM inventory_type_states s WHERE s.tenant_id = i.tenant_id AND s.policy_type = i.policy_type), i.last_seen_run_id)`,
        sql`NOT EXISTS (SELECT 1 FROM unnest(${toTextArray([...seen])}::text[]) AS seen(id) WHERE seen.id = i.external_id)`,
      ),
    )
    await tx.execute(sql`
      INSERT INTO inventory_type_states (tenant_id, policy_type, last_run_id, last_synced_at, item_count, last_full_sync_at)
      VALUES (${scope.tenantId}, ${scope.entry.key}, ${scope.runId}, now(), ${seen.size}, ${mode === 'full' ? sql`now()` : null})
      ON CONFLICT (tenant_id, policy_type) DO UPDATE SET last_run_id = excluded.last_run_id, last_synced_at = excluded.last_synced_at, item_count = excluded.item_count,
        last_full_sync_at = COALESCE(excluded.last_full_sync_at, inventory_type_states.last_full_sync_at)`)
    return n
  })
}

/** Runs a removal statement and records its change entries' alert events in the same transaction. */
async function removeAndRecord(tx: Executor, scope: UnitScope, statement: SQL): Promise<number> {
  const { rows } = await tx.execute<{ n: number; changes: ChangeRow[] | null }>(statement)
  const changes = rows[0]?.changes ?? []
  if (changes.length > 0) await recordChangeEvents(tx, changeScope(scope), changes)
  return rows[0]?.n ?? 0
}

/**
 * Marks the type's live items that `which` selects removed, with one `removed` change entry each
 * (pointing at the item's latest version), in one statement; counts them.
 */
function removeWithHistory(scope: UnitScope, lastSeenRunId: SQL, which: SQL): SQL {
  return sql`
    WITH removed AS (
      UPDATE inventory_items AS i SET removed_at = now(), version = i.version + 1, updated_at = now(), last_seen_run_id = ${lastSeenRunId}
      WHERE i.tenant_id = ${scope.tenantId} AND i.policy_type = ${scope.entry.key} AND i.removed_at IS NULL AND ${which}
      RETURNING i.id, i.display_name),
    history AS (
      INSERT INTO inventory_changes (id, tenant_id, item_id, policy_type, display_name, kind, version_id, detected_at, run_id, changed_by)
      SELECT gen_random_uuid(), ${scope.tenantId}, removed.id, ${scope.entry.key}, removed.display_name, 'removed',
        (SELECT v.id FROM inventory_versions v WHERE v.item_id = removed.id ORDER BY v.number DESC LIMIT 1), now(), ${scope.runId},
        ${changedByOf(scope)}
      FROM removed
      RETURNING id, item_id, kind, display_name)
    SELECT (SELECT count(*)::int FROM removed) AS n,
      (SELECT jsonb_agg(jsonb_build_object('id', h.id, 'item_id', h.item_id, 'kind', h.kind, 'display_name', h.display_name))
        FROM history h) AS changes`
}

/**
 * Objects this run deleted in Graph (a bulk delete), marked removed at once with their change
 * entry, as a sync would: the inventory and the change history need not wait for the next sync.
 */
export async function markRemoved(db: Database, scope: UnitScope, externalIds: readonly string[]): Promise<number> {
  if (externalIds.length === 0) return 0
  return fencedTransaction(db, scope, (tx) =>
    removeAndRecord(
      tx,
      scope,
      removeWithHistory(scope, sql`${scope.runId}`, sql`i.external_id = ANY(${toTextArray([...externalIds])}::text[])`),
    ),
  )
}

/** When each of the tenant's types was last read in full (quick syncs fall back to a full read when too long ago). */
export async function lastFullSyncs(db: Database, tenantId: string): Promise<Map<string, Date>> {
  const { rows } = await db.execute<{ policy_type: string; at: Date | string }>(sql`
    SELECT policy_type, last_full_sync_at AS at FROM inventory_type_states WHERE tenant_id = ${tenantId} AND last_full_sync_at IS NOT NULL`)
  return new Map(rows.map((r) => [r.policy_type, new Date(r.at)]))
}

/**
 * A quick listing's page against what is stored: the ids to re-read in full — new, back after a
 * removal, a different lastModifiedDateTime, or no such time on either side (nothing to compare).
 * Times compare to the millisecond: the column holds milliseconds, Graph may send seven digits.
 */
export async function changedIds(
  db: Database,
  scope: UnitScope,
  listed: readonly { id: string; lastModified: string | null }[],
): Promise<Set<string>> {
  if (listed.length === 0) return new Set()
  const { rows } = await db.execute<{ external_id: string; modified: Date | string | null; removed: boolean }>(sql`
    SELECT external_id, graph_last_modified_at AS modified, removed_at IS NOT NULL AS removed FROM inventory_items
    WHERE tenant_id = ${scope.tenantId} AND policy_type = ${scope.entry.key}
      AND external_id = ANY(${toTextArray(listed.map((l) => l.id))}::text[])`)
  const stored = new Map(rows.map((r) => [r.external_id, r]))
  const changed = new Set<string>()
  for (const item of listed) {
    const row = stored.get(item.id)
    const same =
      row &&
      !row.removed &&
      row.modified !== null &&
      item.lastModified !== null &&
      Math.abs(new Date(row.modified).getTime() - new Date(item.lastModified).getTime()) < 1
    if (!same) changed.add(item.id)
  }
  return changed
}

/** Stored content of these objects of a type (a quick sync compares fully listed objects of a type without lastModifiedDateTime with it). */
export async function storedContents(
  db: Database,
  scope: UnitScope,
  ids: readonly string[],
): Promise<
  Map<string, { contentHash: string; removed: boolean; payload: Record<string, unknown>; assignments: unknown[] }>
> {
  if (ids.length === 0) return new Map()
  const { rows } = await db.execute<{
    external_id: string
    content_hash: string
    removed: boolean
    payload: Record<string, unknown>
    assignments: unknown[] | null
  }>(sql`
    SELECT external_id, content_hash, removed_at IS NOT NULL AS removed, payload, assignments FROM inventory_items
    WHERE tenant_id = ${scope.tenantId} AND policy_type = ${scope.entry.key} AND external_id = ANY(${toTextArray(ids)}::text[])`)
  return new Map(
    rows.map((r) => [
      r.external_id,
      { contentHash: r.content_hash, removed: r.removed, payload: r.payload, assignments: r.assignments ?? [] },
    ]),
  )
}

/** The Entra groups the tenant's present items reference: what the dependency unit reads. */
export async function referencedGroupIds(db: Database, tenantId: string): Promise<string[]> {
  const { rows } = await db.execute<{ id: string }>(sql`
    SELECT DISTINCT r.target_external_id AS id FROM inventory_references r JOIN inventory_items i ON i.id = r.item_id
    WHERE r.tenant_id = ${tenantId} AND r.kind = 'group' AND i.removed_at IS NULL ORDER BY 1`)
  return rows.map((r) => r.id)
}

/** Of these group ids, the ones already known to be deleted (their references are flagged orphaned). */
export async function orphanedGroupIds(db: Database, tenantId: string, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set()
  const { rows } = await db.execute<{ id: string }>(sql`
    SELECT DISTINCT target_external_id AS id FROM inventory_references WHERE tenant_id = ${tenantId} AND target_type = 'group' AND orphaned
      AND target_external_id = ANY(${toTextArray(ids)}::text[])`)
  return new Set(rows.map((r) => r.id))
}

/**
 * Flags references to deleted groups, and clears the flag of groups that exist, among the groups
 * this read `checked`: only rows whose flag changes are written. A group no present item
 * references any more is not checked, and its references (kept by removed items) keep what the
 * last check found: a restore of those items must still know the group is gone.
 */
export async function flagOrphanedGroups(
  db: Database,
  scope: UnitScope,
  deleted: readonly string[],
  checked: readonly string[],
): Promise<void> {
  await fencedTransaction(db, scope, async (tx) => {
    await tx.execute(sql`
      UPDATE inventory_references SET orphaned = NOT orphaned
      WHERE tenant_id = ${scope.tenantId} AND target_type = 'group'
        AND target_external_id = ANY(${toTextArray(checked)}::text[])
        AND orphaned IS DISTINCT FROM (target_external_id = ANY(${toTextArray(deleted)}::text[]))`)
  })
}
