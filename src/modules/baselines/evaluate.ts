import { sql } from 'drizzle-orm'
import type { Database, Executor } from '../../db/engine.ts'
import type {
  BaselineAssignmentRow,
  BaselineEntryRow,
  BaselineRow,
  ChangedBy,
  FindingCause,
  FindingRow,
} from '../../db/schema.ts'
import { type Actor, recordAuditEvent } from '../audit/record-audit-event.ts'
import { proposeMapping, translated, type MappingKind } from '../compare/compute.ts'
import {
  clearUnknown,
  findingsOf,
  markUnknown,
  openFindings,
  reopenFinding,
  resolveFindings,
  touchFindings,
  updateObservation,
  type Observation,
} from '../findings/repository.ts'
import { flattenContent, sameValue, type Content, type DiffNames, type Entry } from '../inventory/diff.ts'
import { namesOf } from '../inventory/item-diff.ts'
import { toTextArray } from '../inventory/store.ts'
import { contentsOf, currentEntries, markEvaluated, tenantAssignments } from './repository.ts'
import { severityOf } from './severity.ts'
import { DEFAULT_IGNORE } from './sources.ts'

/**
 * Drift evaluation (issue 25, ADR 029): each enabled baseline of a tenant against its current
 * inventory, setting by setting, and the findings reconciled with what was found.
 */

type Item = {
  id: string
  policy_type: string
  display_name: string
  odata_type: string | null
  payload: Record<string, unknown>
  assignments: Record<string, unknown>[]
  removed_at: string | null
  version_id: string | null
  changed_by: ChangedBy | null
}

export type EvaluationCounts = { opened: number; reopened: number; resolved: number; unknown: number; standing: number }

export type EvaluateOptions = {
  now: Date
  actor: Actor
  /** Where findings are written: a run's fenced transaction, or a plain one. */
  write?: (work: (tx: Executor) => Promise<void>) => Promise<void>
  /** The sync that started the evaluation (audited with it). */
  syncRunId?: string | null
}

/** A path matches a rule when it is the rule or lies below it. */
const under = (path: string, rule: string) =>
  path === rule || path.startsWith(`${rule}/`) || path.startsWith(`${rule}[`) || path.startsWith(`${rule} `)

/** Types the tenant's last sync of them could not read (failed or skipped), and types never read at all. */
export async function unreadableTypes(db: Executor, tenantId: string): Promise<(type: string) => boolean> {
  const { rows } = await db.execute<{ key: string; status: string }>(sql`
    SELECT DISTINCT ON (u->>'key') u->>'key' AS key, u->>'status' AS status
    FROM operation_runs r, jsonb_array_elements(r.units) u
    WHERE r.tenant_id = ${tenantId} AND r.type = 'inventory.sync' AND r.status = 'completed'
    ORDER BY u->>'key', r.completed_at DESC`)
  const { rows: states } = await db.execute<{ policy_type: string }>(
    sql`SELECT policy_type FROM inventory_type_states WHERE tenant_id = ${tenantId}`,
  )
  const failed = new Set(rows.filter((r) => r.status !== 'succeeded').map((r) => r.key))
  const read = new Set(states.map((r) => r.policy_type))
  return (type) => failed.has(type) || !read.has(type)
}

async function itemsById(db: Executor, tenantId: string, ids: readonly string[]) {
  if (ids.length === 0) return new Map<string, Item>()
  const { rows } = await db.execute<Item>(sql`
    SELECT i.id, i.policy_type, i.display_name, i.payload->>'@odata.type' AS odata_type, i.payload, i.assignments,
      i.removed_at, v.id AS version_id, v.changed_by
    FROM inventory_items i
    LEFT JOIN LATERAL (
      SELECT id, changed_by FROM inventory_versions WHERE item_id = i.id ORDER BY number DESC LIMIT 1
    ) v ON true
    WHERE i.tenant_id = ${tenantId} AND i.id = ANY(${toTextArray(ids)}::uuid[])`)
  return new Map(rows.map((r) => [r.id, r]))
}

/** Who removed an object: the removal's change entry. */
async function removals(db: Executor, tenantId: string, itemIds: readonly string[]) {
  if (itemIds.length === 0) return new Map<string, FindingCause>()
  const { rows } = await db.execute<{ item_id: string; version_id: string | null; changed_by: ChangedBy | null }>(sql`
    SELECT DISTINCT ON (item_id) item_id, previous_version_id AS version_id, changed_by FROM inventory_changes
    WHERE tenant_id = ${tenantId} AND item_id = ANY(${toTextArray(itemIds)}::uuid[]) AND kind = 'removed'
    ORDER BY item_id, detected_at DESC`)
  return new Map(rows.map((r) => [r.item_id, { version_id: r.version_id, changed_by: r.changed_by }]))
}

const nameKey = (type: string, odata: string | null, name: string) =>
  `${type}\u0000${odata ?? ''}\u0000${name.trim().toLowerCase()}`

/**
 * Each entry's object in the tenant: the stored binding while its item is present, else the
 * tenant's object of the same type, `@odata.type` and name not bound to another entry (the
 * proposal, remembered: it stays bound through renames). null: nothing to bind (missing).
 */
export async function bind(
  db: Executor,
  tenantId: string,
  entries: readonly BaselineEntryRow[],
  stored: Record<string, string | null>,
) {
  const boundIds = Object.values(stored).filter((v): v is string => typeof v === 'string')
  const items = await itemsById(db, tenantId, boundIds)
  const bindings: Record<string, string | null> = {}
  const unbound: BaselineEntryRow[] = []
  const taken = new Set<string>()
  for (const entry of entries) {
    const id = stored[entry.id]
    const item = id ? items.get(id) : undefined
    if (item && item.removed_at === null) {
      bindings[entry.id] = item.id
      taken.add(item.id)
    } else unbound.push(entry)
  }
  if (unbound.length > 0) {
    const types = [...new Set(unbound.map((e) => e.policyType))]
    const { rows } = await db.execute<{
      id: string
      policy_type: string
      odata_type: string | null
      display_name: string
    }>(
      sql`SELECT id, policy_type, payload->>'@odata.type' AS odata_type, display_name FROM inventory_items
        WHERE tenant_id = ${tenantId} AND removed_at IS NULL AND policy_type = ANY(${toTextArray(types)}::text[])
        ORDER BY external_id`,
    )
    const byName = new Map<string, string[]>()
    for (const r of rows) {
      if (taken.has(r.id)) continue
      const key = nameKey(r.policy_type, r.odata_type, r.display_name)
      byName.set(key, [...(byName.get(key) ?? []), r.id])
    }
    for (const entry of unbound) {
      const candidates = byName.get(nameKey(entry.policyType, entry.odataType, entry.displayName)) ?? []
      const next = candidates.find((c) => !taken.has(c))
      if (next) {
        bindings[entry.id] = next
        taken.add(next)
      } else if (stored[entry.id] !== undefined) bindings[entry.id] = stored[entry.id]!
    }
  }
  const present = await itemsById(
    db,
    tenantId,
    Object.values(bindings).filter((v): v is string => typeof v === 'string'),
  )
  return { bindings, items: present }
}

/** The deviations of one bound object from its entry (expected after mapping and overrides). */
export function compareEntry(
  entry: Pick<BaselineEntryRow, 'id' | 'compare' | 'ignore'>,
  expected: Content,
  actual: Content,
  names: DiffNames,
  overrides: readonly { path: string; value: unknown }[],
): { path: string; label: string; kind: 'changed' | 'added' | 'removed'; expected: unknown; actual: unknown }[] {
  const exp = flattenContent(expected, names)
  const act = flattenContent(actual, names)
  for (const o of overrides)
    exp.set(o.path, { label: exp.get(o.path)?.label ?? act.get(o.path)?.label ?? o.path, value: o.value })
  const ignore = [...DEFAULT_IGNORE, ...entry.ignore]
  const compared = (path: string) => {
    if (ignore.some((rule) => under(path, rule))) return false
    if (!entry.compare.assignments && path.startsWith('assignments/')) return false
    if (entry.compare.mode === 'settings') return (entry.compare.settings ?? []).some((rule) => under(path, rule))
    return true
  }
  const out: ReturnType<typeof compareEntry> = []
  for (const path of [...new Set([...exp.keys(), ...act.keys()])].sort()) {
    if (!compared(path)) continue
    const e: Entry | undefined = exp.get(path)
    const a: Entry | undefined = act.get(path)
    if (e && a) {
      if (!sameValue(e.value, a.value))
        out.push({ path, label: a.label, kind: 'changed', expected: e.value, actual: a.value })
    } else if (e) out.push({ path, label: e.label, kind: 'removed', expected: e.value, actual: null })
    else if (a) out.push({ path, label: a.label, kind: 'added', expected: null, actual: a.value })
  }
  return out
}

/** The mapping of the home tenant's groups, filters and scope tags into this tenant: the assignment's, else by name. */
async function mapperOf(db: Executor, baseline: BaselineRow, assignment: BaselineAssignmentRow) {
  const proposed = await proposeMapping(db, baseline.homeTenantId, assignment.tenantId)
  const explicit = new Map(assignment.mapping.map((m) => [`${m.kind}:${m.source_id.toLowerCase()}`, m.target_id]))
  return (kind: MappingKind, id: string) => {
    const k = `${kind}:${id.toLowerCase()}`
    return explicit.has(k) ? (explicit.get(k) ?? null) : proposed.map(kind, id)
  }
}

/** Evaluates one baseline assigned to the tenant: observations, and the entries that could not be judged. */
export async function observe(
  db: Executor,
  baseline: BaselineRow,
  assignment: BaselineAssignmentRow,
  unreadable: (type: string) => boolean,
) {
  const tenantId = assignment.tenantId
  const entries = await currentEntries(db, baseline.id)
  const { bindings, items } = await bind(db, tenantId, entries, assignment.bindings)
  const contents = await contentsOf(
    db,
    entries.map((e) => e.contentHash),
  )
  const map = await mapperOf(db, baseline, assignment)
  const expected = new Map(entries.map((e) => [e.id, translated(contents.get(e.contentHash)!, map)]))
  const present = [...items.values()].filter((i) => i.removed_at === null)
  type Named = { payload: Record<string, unknown>; assignments: Record<string, unknown>[] }
  // The tenant's names first; what stays unmapped is labelled with the home tenant's names (a group it lacks).
  const [here, home] = await Promise.all([
    namesOf(db, tenantId, [...present, ...expected.values()] as Named[]),
    namesOf(db, baseline.homeTenantId, [...contents.values()]),
  ])
  const names: DiffNames = {
    settingDefinitions: new Map([...home.settingDefinitions, ...here.settingDefinitions]),
    groups: new Map([...home.groups, ...here.groups]),
    filters: new Map([...home.filters, ...here.filters]),
    scopeTags: new Map([...home.scopeTags, ...here.scopeTags]),
  }
  const removedIds = entries
    .map((e) => bindings[e.id])
    .filter((id): id is string => !!id && items.get(id)?.removed_at !== null)
  const removedBy = await removals(db, tenantId, removedIds)
  const overrides = new Map<string, { path: string; value: unknown }[]>()
  for (const o of assignment.overrides) overrides.set(o.entry_id, [...(overrides.get(o.entry_id) ?? []), o])
  const observations: Observation[] = []
  const unknownEntries = new Set<string>()
  for (const entry of entries) {
    if (unreadable(entry.policyType)) {
      unknownEntries.add(entry.id)
      continue
    }
    const itemId = bindings[entry.id] ?? null
    const item = itemId ? items.get(itemId) : undefined
    if (!item || item.removed_at !== null) {
      observations.push({
        entryId: entry.id,
        itemId: item?.id ?? null,
        path: '',
        label: `${entry.displayName} (missing)`,
        kind: 'missing',
        expected: entry.displayName,
        actual: null,
        severity: severityOf('', 'missing'),
        causedBy: item ? (removedBy.get(item.id) ?? null) : null,
      })
      continue
    }
    const cause: FindingCause = { version_id: item.version_id, changed_by: item.changed_by }
    for (const d of compareEntry(entry, expected.get(entry.id)!, item, names, overrides.get(entry.id) ?? []))
      observations.push({
        entryId: entry.id,
        itemId: item.id,
        ...d,
        severity: severityOf(d.path, d.kind),
        causedBy: cause,
      })
  }
  return { entries, bindings, observations, unknownEntries }
}

const keyOf = (entryId: string, path: string) => `${entryId}\n${path}`

/**
 * The findings' life from one evaluation: new deviations open, resolved ones that deviate again
 * reopen, excepted ones stay silent while the tenant holds exactly the accepted value (until the
 * exception expires), everything no longer deviating resolves; entries whose type could not be
 * read are unknown and keep their state.
 */
export async function reconcile(
  tx: Executor,
  tenantId: string,
  baselineId: string,
  existing: readonly FindingRow[],
  result: { observations: Observation[]; unknownEntries: ReadonlySet<string> },
  now: Date,
): Promise<EvaluationCounts> {
  const counts: EvaluationCounts = { opened: 0, reopened: 0, resolved: 0, unknown: 0, standing: 0 }
  const byKey = new Map(existing.map((f) => [keyOf(f.entryId, f.path), f]))
  const seen = new Set<string>()
  const toOpen: Observation[] = []
  const touched: string[] = []
  for (const o of result.observations) {
    const key = keyOf(o.entryId, o.path)
    seen.add(key)
    const f = byKey.get(key)
    if (!f) {
      toOpen.push(o)
      continue
    }
    if (f.state === 'resolved') {
      await reopenFinding(tx, tenantId, f.id, o, now)
      counts.reopened++
      continue
    }
    if (f.state === 'excepted' && f.exception) {
      const expired = f.exception.expires_at !== null && new Date(f.exception.expires_at).getTime() <= now.getTime()
      if (expired || !sameValue(f.exception.value, o.actual)) {
        await reopenFinding(tx, tenantId, f.id, o, now)
        counts.reopened++
        continue
      }
    }
    counts.standing++
    if (sameValue(f.actual, o.actual) && sameValue(f.expected, o.expected)) touched.push(f.id)
    else await updateObservation(tx, tenantId, f.id, { ...o, causedBy: o.causedBy ?? f.causedBy }, now)
  }
  await openFindings(tx, tenantId, baselineId, toOpen, now)
  counts.opened = toOpen.length
  await touchFindings(tx, tenantId, touched, now)
  // A resolved finding stays resolved: only standing ones become unknown.
  const unknown = existing.filter((f) => result.unknownEntries.has(f.entryId) && f.state !== 'resolved')
  await markUnknown(
    tx,
    tenantId,
    unknown.map((f) => f.id),
    now,
  )
  counts.unknown = unknown.length
  await clearUnknown(
    tx,
    tenantId,
    existing.filter((f) => f.unknownSince && !result.unknownEntries.has(f.entryId)).map((f) => f.id),
  )
  const resolved = existing
    .filter(
      (f) => f.state !== 'resolved' && !result.unknownEntries.has(f.entryId) && !seen.has(keyOf(f.entryId, f.path)),
    )
    .map((f) => f.id)
  await resolveFindings(tx, tenantId, resolved, now)
  counts.resolved = resolved.length
  return counts
}

/** Evaluates every enabled baseline of the tenant. */
export async function evaluateTenant(db: Database, tenantId: string, options: EvaluateOptions) {
  const write = options.write ?? ((work) => db.transaction(work))
  const unreadable = await unreadableTypes(db, tenantId)
  const results: (EvaluationCounts & { baseline_id: string })[] = []
  for (const { assignment, baseline } of await tenantAssignments(db, tenantId, { enabledOnly: true })) {
    const observed = await observe(db, baseline, assignment, unreadable)
    await write(async (tx) => {
      const existing = await findingsOf(tx, tenantId, baseline.id)
      const counts = await reconcile(tx, tenantId, baseline.id, existing, observed, options.now)
      await markEvaluated(tx, tenantId, baseline.id, {
        bindings: observed.bindings,
        evaluatedVersion: baseline.version,
        evaluatedAt: options.now,
      })
      await recordAuditEvent(tx, options.actor, {
        tenantId,
        action: 'drift.evaluated',
        subject: { type: 'baseline', id: baseline.id },
        metadata: {
          version: baseline.version,
          ...counts,
          ...(options.syncRunId ? { sync_run_id: options.syncRunId } : {}),
        },
      })
      results.push({ baseline_id: baseline.id, ...counts })
    })
  }
  return results
}
