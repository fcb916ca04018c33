import { and, asc, desc, eq, inArray, isNull, sql } from 'drizzle-orm'
import type { Executor } from '../../db/engine.ts'
import {
  baselineAssignments,
  baselineContents,
  baselineEntries,
  baselines,
  baselineVersions,
  type BaselineEntryRow,
  type BaselineVersionEntry,
} from '../../db/schema.ts'
import { UUID_PATTERN } from '../../lib/ids.ts'

/** The baselines module's tables (ADR 029): only this file reads or writes them. */

export async function findBaseline(db: Executor, baselineId: string) {
  if (!UUID_PATTERN.test(baselineId)) return undefined
  const [row] = await db.select().from(baselines).where(eq(baselines.id, baselineId))
  return row
}

/** Baselines whose home tenant is one of these, by name. */
export async function listBaselines(db: Executor, homeTenantIds: readonly string[]) {
  if (homeTenantIds.length === 0) return []
  return db
    .select({
      baseline: baselines,
      entryCount: sql<number>`(SELECT count(*)::int FROM baseline_entries e WHERE e.baseline_id = ${baselines.id} AND e.removed_in_version IS NULL)`,
    })
    .from(baselines)
    .where(inArray(baselines.homeTenantId, [...homeTenantIds]))
    .orderBy(asc(baselines.name), asc(baselines.id))
}

export async function countEntries(db: Executor, baselineId: string) {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(baselineEntries)
    .where(and(eq(baselineEntries.baselineId, baselineId), isNull(baselineEntries.removedInVersion)))
  return row?.n ?? 0
}

/** The baseline's current entries (type, name order). */
export async function currentEntries(db: Executor, baselineId: string): Promise<BaselineEntryRow[]> {
  return db
    .select()
    .from(baselineEntries)
    .where(and(eq(baselineEntries.baselineId, baselineId), isNull(baselineEntries.removedInVersion)))
    .orderBy(asc(baselineEntries.policyType), asc(baselineEntries.displayName), asc(baselineEntries.id))
}

export async function findEntry(db: Executor, baselineId: string, entryId: string) {
  if (!UUID_PATTERN.test(entryId)) return undefined
  const [row] = await db
    .select()
    .from(baselineEntries)
    .where(
      and(
        eq(baselineEntries.baselineId, baselineId),
        eq(baselineEntries.id, entryId),
        isNull(baselineEntries.removedInVersion),
      ),
    )
  return row
}

/** Contents by hash. */
export type StoredContent = { payload: Record<string, unknown>; assignments: Record<string, unknown>[] }

export async function contentsOf(db: Executor, hashes: readonly string[]): Promise<Map<string, StoredContent>> {
  if (hashes.length === 0) return new Map()
  const rows = await db
    .select()
    .from(baselineContents)
    .where(inArray(baselineContents.contentHash, [...new Set(hashes)]))
  return new Map(rows.map((r) => [r.contentHash, { payload: r.payload, assignments: r.assignments }]))
}

export async function storeContents(
  tx: Executor,
  contents: readonly {
    contentHash: string
    payload: Record<string, unknown>
    assignments: Record<string, unknown>[]
  }[],
) {
  for (let i = 0; i < contents.length; i += 500)
    await tx
      .insert(baselineContents)
      .values(contents.slice(i, i + 500).map((c) => ({ ...c })))
      .onConflictDoNothing()
}

export async function insertEntries(tx: Executor, rows: (typeof baselineEntries.$inferInsert)[]) {
  for (let i = 0; i < rows.length; i += 500) await tx.insert(baselineEntries).values(rows.slice(i, i + 500))
}

/** Locks the baseline row (one version at a time) and returns the next version number. */
export async function lockBaseline(tx: Executor, baselineId: string) {
  const [row] = await tx.select().from(baselines).where(eq(baselines.id, baselineId)).for('update')
  return row
}

/** Writes version `number` as the current entries' snapshot, and moves the baseline to it. */
export async function snapshotVersion(
  tx: Executor,
  baselineId: string,
  number: number,
  summary: string,
  userId: string | null,
) {
  const entries: BaselineVersionEntry[] = (await currentEntries(tx, baselineId)).map((e) => ({
    id: e.id,
    policy_type: e.policyType,
    display_name: e.displayName,
    content_hash: e.contentHash,
    compare: e.compare,
    ignore: e.ignore,
  }))
  await tx.insert(baselineVersions).values({ baselineId, number, summary, entries, createdBy: userId })
  await tx
    .update(baselines)
    .set({ version: number, updatedAt: sql`now()` })
    .where(eq(baselines.id, baselineId))
}

export async function updateEntryRow(tx: Executor, entryId: string, set: Partial<typeof baselineEntries.$inferInsert>) {
  await tx.update(baselineEntries).set(set).where(eq(baselineEntries.id, entryId))
}

export async function listVersions(db: Executor, baselineId: string) {
  return db
    .select({
      number: baselineVersions.number,
      summary: baselineVersions.summary,
      createdAt: baselineVersions.createdAt,
      createdBy: baselineVersions.createdBy,
      entryCount: sql<number>`jsonb_array_length(${baselineVersions.entries})`,
    })
    .from(baselineVersions)
    .where(eq(baselineVersions.baselineId, baselineId))
    .orderBy(desc(baselineVersions.number))
}

export async function findVersion(db: Executor, baselineId: string, number: number) {
  const [row] = await db
    .select()
    .from(baselineVersions)
    .where(and(eq(baselineVersions.baselineId, baselineId), eq(baselineVersions.number, number)))
  return row
}

export async function updateBaselineRow(
  tx: Executor,
  baselineId: string,
  set: { name?: string; description?: string },
) {
  await tx
    .update(baselines)
    .set({ ...set, updatedAt: sql`now()` })
    .where(eq(baselines.id, baselineId))
}

export async function deleteBaselineRow(tx: Executor, baselineId: string) {
  await tx.delete(baselines).where(eq(baselines.id, baselineId))
}

export async function insertBaseline(tx: Executor, row: typeof baselines.$inferInsert) {
  await tx.insert(baselines).values(row)
}

export async function findAssignment(db: Executor, tenantId: string, baselineId: string) {
  const [row] = await db
    .select()
    .from(baselineAssignments)
    .where(and(eq(baselineAssignments.tenantId, tenantId), eq(baselineAssignments.baselineId, baselineId)))
  return row
}

/** The tenant's assignments (enabled ones only when asked), with their baselines. */
export async function tenantAssignments(db: Executor, tenantId: string, options: { enabledOnly: boolean }) {
  return db
    .select({ assignment: baselineAssignments, baseline: baselines })
    .from(baselineAssignments)
    .innerJoin(baselines, eq(baselines.id, baselineAssignments.baselineId))
    .where(
      and(
        eq(baselineAssignments.tenantId, tenantId),
        options.enabledOnly ? eq(baselineAssignments.enabled, true) : undefined,
      ),
    )
    .orderBy(asc(baselines.name))
}

export async function hasEnabledAssignment(db: Executor, tenantId: string) {
  const { rows } = await db.execute<{ found: boolean }>(
    sql`SELECT EXISTS (SELECT 1 FROM baseline_assignments WHERE tenant_id = ${tenantId} AND enabled) AS found`,
  )
  return rows[0]?.found === true
}

export async function upsertAssignment(tx: Executor, row: typeof baselineAssignments.$inferInsert) {
  await tx
    .insert(baselineAssignments)
    .values(row)
    .onConflictDoUpdate({
      target: [baselineAssignments.tenantId, baselineAssignments.baselineId],
      set: {
        enabled: row.enabled,
        mapping: row.mapping,
        overrides: row.overrides,
        bindings: row.bindings,
        updatedAt: sql`now()`,
      },
    })
}

/** Records what the evaluation bound (proposals it made) and which version it compared against. */
export async function markEvaluated(
  tx: Executor,
  tenantId: string,
  baselineId: string,
  set: { bindings: Record<string, string | null>; evaluatedVersion: number; evaluatedAt: Date },
) {
  await tx
    .update(baselineAssignments)
    .set(set)
    .where(and(eq(baselineAssignments.tenantId, tenantId), eq(baselineAssignments.baselineId, baselineId)))
}
