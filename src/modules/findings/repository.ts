import { and, desc, eq, inArray, isNotNull, isNull, lt, sql } from 'drizzle-orm'
import type { Executor } from '../../db/engine.ts'
import {
  baselines,
  findings,
  users,
  type FindingCause,
  type FindingException,
  type FindingKind,
  type FindingRow,
  type FindingSeverity,
  type FindingState,
} from '../../db/schema.ts'
import { uuidv7 } from '../../lib/ids.ts'
import { UUID_PATTERN } from '../../lib/ids.ts'
import { recordEvents, type AlertEvent, type EventActor } from '../alerts/events.ts'

/**
 * The findings table (ADR 029). Every state change of a finding is one function here, so the
 * event outbox (alerts) can hook each transition in one place: open, reopen, resolve, acknowledge,
 * except, remove an exception, and the unknown mark of a type that could not be read.
 */

export type Observation = {
  entryId: string
  itemId: string | null
  path: string
  label: string
  kind: FindingKind
  expected: unknown
  actual: unknown
  severity: FindingSeverity
  causedBy: FindingCause | null
}

/** A finding as it is presented: `unknown` while its type could not be read. */
export const presentedState = (row: Pick<FindingRow, 'state' | 'unknownSince'>): FindingState | 'unknown' =>
  row.unknownSince ? 'unknown' : row.state

/**
 * The alert event of a transition (ADR 030), recorded in the same transaction: a finding alerts when it
 * opens and each time it reopens (the key holds the reopen count), and once when it resolves.
 */
function findingEvent(
  tenantId: string,
  kind: 'finding.opened' | 'finding.reopened' | 'finding.resolved',
  finding: { id: string; label: string; path: string; severity: FindingSeverity; causedBy: FindingCause | null },
  occurrence: number,
): AlertEvent {
  const by = finding.causedBy?.changed_by
  const actor: EventActor | null = by
    ? {
        ...(by.user_principal_name ? { user_principal_name: by.user_principal_name } : {}),
        ...(by.app_name ? { app_name: by.app_name } : {}),
        ...(by.run_id ? { run_id: by.run_id, initiated_by: by.initiated_by ?? null } : {}),
      }
    : null
  const what = {
    'finding.opened': 'deviates from',
    'finding.reopened': 'deviates again from',
    'finding.resolved': 'matches',
  }
  return {
    tenantId,
    kind,
    severity: finding.severity,
    planned: kind !== 'finding.resolved' && Boolean(by?.run_id),
    actor,
    subject: { type: 'finding', id: finding.id, name: finding.label },
    summary: `${finding.label}${finding.path ? ` (${finding.path})` : ''} ${what[kind]} its baseline`,
    link: `/t/${tenantId}/findings`,
    dedupKey: `${kind}:${finding.id}:${occurrence}`,
  }
}

export async function findingsOf(db: Executor, tenantId: string, baselineId: string) {
  return db
    .select()
    .from(findings)
    .where(and(eq(findings.tenantId, tenantId), eq(findings.baselineId, baselineId)))
}

/** Transition: new deviations become open findings. */
export async function openFindings(tx: Executor, tenantId: string, baselineId: string, rows: Observation[], now: Date) {
  const ids = rows.map(() => uuidv7(now.getTime()))
  for (let i = 0; i < rows.length; i += 500)
    await tx.insert(findings).values(
      rows.slice(i, i + 500).map((o, j) => ({
        id: ids[i + j]!,
        tenantId,
        baselineId,
        entryId: o.entryId,
        itemId: o.itemId,
        path: o.path,
        label: o.label,
        kind: o.kind,
        expected: o.expected ?? null,
        actual: o.actual ?? null,
        severity: o.severity,
        state: 'open' as const,
        firstSeenAt: now,
        lastSeenAt: now,
        causedBy: o.causedBy,
      })),
    )
  await recordEvents(
    tx,
    rows.map((o, i) => findingEvent(tenantId, 'finding.opened', { ...o, id: ids[i]! }, 0)),
  )
}

/** Transition: a resolved (or excepted, whose value changed or whose exception expired) finding deviates again. */
export async function reopenFinding(tx: Executor, tenantId: string, id: string, o: Observation, now: Date) {
  const reopened = await tx
    .update(findings)
    .set({
      state: 'open',
      reopenedCount: sql`${findings.reopenedCount} + 1`,
      acknowledgedBy: null,
      acknowledgedAt: null,
      exception: null,
      resolvedAt: null,
      itemId: o.itemId,
      label: o.label,
      kind: o.kind,
      expected: o.expected ?? null,
      actual: o.actual ?? null,
      severity: o.severity,
      causedBy: o.causedBy,
      lastSeenAt: now,
    })
    .where(and(eq(findings.tenantId, tenantId), eq(findings.id, id)))
    .returning({ reopenedCount: findings.reopenedCount })
  await recordEvents(
    tx,
    reopened.map((r) => findingEvent(tenantId, 'finding.reopened', { ...o, id }, r.reopenedCount)),
  )
}

/** Not a transition: a standing finding seen again with another actual value (its cause is the version that set it). */
export async function updateObservation(tx: Executor, tenantId: string, id: string, o: Observation, now: Date) {
  await tx
    .update(findings)
    .set({
      itemId: o.itemId,
      label: o.label,
      kind: o.kind,
      expected: o.expected ?? null,
      actual: o.actual ?? null,
      severity: o.severity,
      causedBy: o.causedBy,
      lastSeenAt: now,
    })
    .where(and(eq(findings.tenantId, tenantId), eq(findings.id, id)))
}

/** Not a transition: standing findings seen again unchanged. */
export async function touchFindings(tx: Executor, tenantId: string, ids: readonly string[], now: Date) {
  for (let i = 0; i < ids.length; i += 5000)
    await tx
      .update(findings)
      .set({ lastSeenAt: now })
      .where(and(eq(findings.tenantId, tenantId), inArray(findings.id, ids.slice(i, i + 5000))))
}

/** Transition: the value matches the baseline again (or the entry left it): resolved, automatically. */
export async function resolveFindings(tx: Executor, tenantId: string, ids: readonly string[], now: Date) {
  for (let i = 0; i < ids.length; i += 5000) {
    const resolved = await tx
      .update(findings)
      .set({ state: 'resolved', resolvedAt: now })
      .where(and(eq(findings.tenantId, tenantId), inArray(findings.id, ids.slice(i, i + 5000))))
      .returning()
    await recordEvents(
      tx,
      resolved.map((f) => findingEvent(tenantId, 'finding.resolved', f, f.reopenedCount)),
    )
  }
}

/** Transition: the entry's type could not be read in the last sync: unknown, neither opened nor resolved. */
export async function markUnknown(tx: Executor, tenantId: string, ids: readonly string[], now: Date) {
  if (ids.length === 0) return
  await tx
    .update(findings)
    .set({ unknownSince: now })
    .where(and(eq(findings.tenantId, tenantId), inArray(findings.id, [...ids]), isNull(findings.unknownSince)))
}

/** Transition: the type was read again: the finding is what its state says. */
export async function clearUnknown(tx: Executor, tenantId: string, ids: readonly string[]) {
  if (ids.length === 0) return
  await tx
    .update(findings)
    .set({ unknownSince: null })
    .where(and(eq(findings.tenantId, tenantId), inArray(findings.id, [...ids]), isNotNull(findings.unknownSince)))
}

/** Transition: someone has seen it (only an open finding). Returns the row, or undefined when it was not open. */
export async function acknowledgeFinding(tx: Executor, tenantId: string, id: string, userId: string | null, now: Date) {
  const [row] = await tx
    .update(findings)
    .set({ state: 'acknowledged', acknowledgedBy: userId, acknowledgedAt: now })
    .where(and(eq(findings.tenantId, tenantId), eq(findings.id, id), eq(findings.state, 'open')))
    .returning()
  return row
}

/** Transition: the current value is accepted, with a reason, an approver and an expiry. */
export async function exceptFinding(tx: Executor, tenantId: string, id: string, exception: FindingException) {
  const [row] = await tx
    .update(findings)
    .set({ state: 'excepted', exception })
    .where(and(eq(findings.tenantId, tenantId), eq(findings.id, id), inArray(findings.state, ['open', 'acknowledged'])))
    .returning()
  return row
}

/** Transition: the exception is withdrawn: the finding is open again (the next evaluation resolves it if it matches). */
export async function removeException(tx: Executor, tenantId: string, id: string) {
  const [row] = await tx
    .update(findings)
    .set({ state: 'open', exception: null })
    .where(and(eq(findings.tenantId, tenantId), eq(findings.id, id), eq(findings.state, 'excepted')))
    .returning()
  return row
}

export async function findFinding(db: Executor, tenantId: string, id: string) {
  if (!UUID_PATTERN.test(id)) return undefined
  const [row] = await db
    .select()
    .from(findings)
    .where(and(eq(findings.tenantId, tenantId), eq(findings.id, id)))
  return row
}

export async function findFindings(db: Executor, tenantId: string, ids: readonly string[]) {
  const valid = ids.filter((id) => UUID_PATTERN.test(id))
  if (valid.length === 0) return []
  return db
    .select()
    .from(findings)
    .where(and(eq(findings.tenantId, tenantId), inArray(findings.id, valid)))
}

export type FindingFilters = {
  baselineId?: string | undefined
  state?: FindingState | 'unknown' | undefined
  severity?: FindingSeverity | undefined
}

/** One page, newest first (keyset on the UUIDv7 id, read straight off an index per filter). */
export async function listFindings(
  db: Executor,
  tenantId: string,
  filters: FindingFilters,
  page: { after: string | undefined; limit: number },
) {
  const state =
    filters.state === undefined
      ? undefined
      : filters.state === 'unknown'
        ? isNotNull(findings.unknownSince)
        : and(eq(findings.state, filters.state), isNull(findings.unknownSince))
  return db
    .select({ finding: findings, approverName: users.name })
    .from(findings)
    .leftJoin(users, eq(users.id, findings.acknowledgedBy))
    .where(
      and(
        eq(findings.tenantId, tenantId),
        filters.baselineId ? eq(findings.baselineId, filters.baselineId) : undefined,
        state,
        filters.severity ? eq(findings.severity, filters.severity) : undefined,
        page.after ? lt(findings.id, page.after) : undefined,
      ),
    )
    .orderBy(desc(findings.id))
    .limit(page.limit)
}

/** Counts per baseline and presented state, for alignment; and per severity of what is open. */
export async function findingCounts(db: Executor, tenantIds: readonly string[]) {
  if (tenantIds.length === 0) return []
  return db
    .select({
      tenantId: findings.tenantId,
      baselineId: findings.baselineId,
      baselineName: baselines.name,
      entryId: findings.entryId,
      state: findings.state,
      unknown: sql<boolean>`${findings.unknownSince} IS NOT NULL`,
      severity: findings.severity,
    })
    .from(findings)
    .innerJoin(baselines, eq(baselines.id, findings.baselineId))
    .where(and(inArray(findings.tenantId, [...tenantIds]), sql`${findings.state} <> 'resolved'`))
}
