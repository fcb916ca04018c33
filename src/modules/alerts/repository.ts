import { and, asc, eq, inArray, isNull, lte, sql } from 'drizzle-orm'
import type { Executor } from '../../db/engine.ts'
import {
  alertChannels,
  alertDeliveries,
  alertEvents,
  alertMessages,
  alertRules,
  type AlertChannelRow,
  type AlertDeliveryRow,
  type AlertEventRow,
  type AlertMessageRow,
  type AlertRuleRow,
} from '../../db/schema.ts'
import { uuidv7 } from '../../lib/ids.ts'
import type { AlertEvent, EventActor } from './events.ts'

/** The only code that touches the alert tables (ADR 030). */

export async function insertEvents(tx: Executor, events: readonly AlertEvent[]): Promise<number> {
  const records = events.map((e) => ({
    id: uuidv7(),
    tenant_id: e.tenantId,
    kind: e.kind,
    severity: e.severity,
    at: (e.at ?? new Date()).toISOString(),
    planned: e.planned ?? false,
    actor: e.actor ?? null,
    run_id: e.runId ?? null,
    change_id: e.changeId ?? null,
    subject: e.subject,
    summary: e.summary,
    link: e.link ?? null,
    dedup_key: e.dedupKey ?? null,
  }))
  const { rows } = await tx.execute<{ n: number }>(sql`
    WITH ins AS (
      INSERT INTO alert_events (id, tenant_id, kind, severity, at, planned, actor, run_id, change_id, subject, summary, link,
        dedup_key, ready)
      SELECT r.id, r.tenant_id, r.kind, r.severity, r.at, r.planned, r.actor, r.run_id, r.change_id, r.subject, r.summary,
        r.link, r.dedup_key, r.run_id IS NULL
      FROM jsonb_to_recordset(${JSON.stringify(records)}::jsonb) AS r(id uuid, tenant_id uuid, kind text, severity text,
        at timestamptz, planned boolean, actor jsonb, run_id uuid, change_id uuid, subject jsonb, summary text, link text,
        dedup_key text)
      ON CONFLICT (tenant_id, dedup_key) DO NOTHING
      RETURNING 1)
    SELECT count(*)::int AS n FROM ins`)
  return rows[0]?.n ?? 0
}

/** A finished run's events become routable. */
export async function releaseRunEvents(tx: Executor, runId: string): Promise<void> {
  await tx.execute(sql`UPDATE alert_events SET ready = true WHERE run_id = ${runId} AND ready = false`)
}

/** Who started a run, as events name people (their e-mail). */
export async function userEmail(tx: Executor, userId: string): Promise<string | null> {
  const { rows } = await tx.execute<{ email: string }>(sql`SELECT email FROM users WHERE id = ${userId}`)
  return rows[0]?.email ?? null
}

const uuidArray = (ids: readonly string[]) => `{${ids.join(',')}}`

/** The next ready, unrouted events, oldest first. */
export async function routableEvents(tx: Executor, limit: number): Promise<AlertEventRow[]> {
  return tx
    .select()
    .from(alertEvents)
    .where(and(isNull(alertEvents.routedAt), eq(alertEvents.ready, true)))
    .orderBy(asc(alertEvents.id))
    .limit(limit)
}

export async function markRouted(tx: Executor, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return
  await tx.execute(sql`UPDATE alert_events SET routed_at = now() WHERE id = ANY(${uuidArray(ids)}::uuid[])`)
}

export async function allRules(tx: Executor): Promise<AlertRuleRow[]> {
  return tx.select().from(alertRules).orderBy(asc(alertRules.id))
}

export type GroupKey = { rule_id: string; tenant_id: string; actor_key: string; window_seconds: number }

/**
 * The collecting message of each (rule, tenant, actor), created when there is none: due at once,
 * or a window after the group's previous message (so a busy actor gets one message per window).
 */
export async function collectingMessages(tx: Executor, keys: readonly GroupKey[]): Promise<Map<string, string>> {
  const records = keys.map((k) => ({ ...k, id: uuidv7() }))
  await tx.execute(sql`
    INSERT INTO alert_messages (id, rule_id, tenant_id, actor_key, status, due_at)
    SELECT k.id, k.rule_id, k.tenant_id, k.actor_key, 'collecting',
      GREATEST(now(), (SELECT max(m.sealed_at) FROM alert_messages m WHERE m.rule_id = k.rule_id AND m.tenant_id = k.tenant_id
        AND m.actor_key = k.actor_key AND m.status = 'sealed') + make_interval(secs => k.window_seconds))
    FROM jsonb_to_recordset(${JSON.stringify(records)}::jsonb) AS k(id uuid, rule_id uuid, tenant_id uuid, actor_key text,
      window_seconds int)
    ON CONFLICT (rule_id, tenant_id, actor_key) WHERE status = 'collecting' DO NOTHING`)
  const { rows } = await tx.execute<{ id: string; rule_id: string; tenant_id: string; actor_key: string }>(sql`
    SELECT m.id, m.rule_id, m.tenant_id, m.actor_key FROM alert_messages m
    JOIN jsonb_to_recordset(${JSON.stringify(keys)}::jsonb) AS k(rule_id uuid, tenant_id uuid, actor_key text)
      ON m.rule_id = k.rule_id AND m.tenant_id = k.tenant_id AND m.actor_key = k.actor_key
    WHERE m.status = 'collecting'`)
  return new Map(rows.map((r) => [groupKeyOf(r), r.id]))
}

export const groupKeyOf = (k: { rule_id: string; tenant_id: string; actor_key: string }) =>
  `${k.rule_id}|${k.tenant_id}|${k.actor_key}`

export async function addMessageEvents(tx: Executor, pairs: readonly { message_id: string; event_id: string }[]) {
  if (pairs.length === 0) return
  await tx.execute(sql`
    WITH ins AS (
      INSERT INTO alert_message_events (message_id, event_id)
      SELECT p.message_id, p.event_id FROM jsonb_to_recordset(${JSON.stringify(pairs)}::jsonb) AS p(message_id uuid, event_id uuid)
      ON CONFLICT DO NOTHING
      RETURNING message_id),
    n AS (SELECT message_id, count(*)::int AS n FROM ins GROUP BY message_id)
    UPDATE alert_messages m SET event_count = m.event_count + n.n FROM n WHERE m.id = n.message_id`)
}

/** Collecting messages whose time has come, locked for sealing. */
export async function dueMessages(tx: Executor): Promise<AlertMessageRow[]> {
  return tx
    .select()
    .from(alertMessages)
    .where(and(eq(alertMessages.status, 'collecting'), lte(alertMessages.dueAt, sql`now()`)))
    .orderBy(asc(alertMessages.dueAt))
    .for('update', { skipLocked: true })
}

/** Of these messages, the channels their `channel.failed` events are about (never sent to those channels). */
export async function failedChannelsOf(tx: Executor, messageIds: readonly string[]): Promise<Map<string, Set<string>>> {
  const result = new Map<string, Set<string>>()
  if (messageIds.length === 0) return result
  const { rows } = await tx.execute<{ message_id: string; channel_id: string }>(sql`
    SELECT me.message_id, e.subject->>'id' AS channel_id FROM alert_message_events me JOIN alert_events e ON e.id = me.event_id
    WHERE me.message_id = ANY(${uuidArray(messageIds)}::uuid[]) AND e.kind = 'channel.failed'`)
  for (const row of rows) result.set(row.message_id, (result.get(row.message_id) ?? new Set()).add(row.channel_id))
  return result
}

export async function sealMessages(
  tx: Executor,
  messageIds: readonly string[],
  deliveries: readonly {
    message_id: string
    channel_id: string
    rule_id: string
    tenant_id: string
    about_channel_failure: boolean
  }[],
  giveUpSeconds: number,
): Promise<void> {
  if (messageIds.length === 0) return
  await tx.execute(
    sql`UPDATE alert_messages SET status = 'sealed', sealed_at = now() WHERE id = ANY(${uuidArray(messageIds)}::uuid[])`,
  )
  if (deliveries.length === 0) return
  const records = deliveries.map((d) => ({ ...d, id: uuidv7() }))
  await tx.execute(sql`
    INSERT INTO alert_deliveries (id, message_id, channel_id, rule_id, tenant_id, status, give_up_at, about_channel_failure)
    SELECT d.id, d.message_id, d.channel_id, d.rule_id, d.tenant_id, 'pending', now() + make_interval(secs => ${giveUpSeconds}),
      d.about_channel_failure
    FROM jsonb_to_recordset(${JSON.stringify(records)}::jsonb) AS d(id uuid, message_id uuid, channel_id uuid, rule_id uuid,
      tenant_id uuid, about_channel_failure boolean)
    WHERE EXISTS (SELECT 1 FROM alert_channels c WHERE c.id = d.channel_id)
    ON CONFLICT (message_id, channel_id) DO NOTHING`)
}

/**
 * Claims due deliveries: each attempt is counted and the row leased (`next_attempt_at` moves past
 * the send's timeout) before anything is sent, so a worker that dies mid-send leaves a row another
 * claims again later, with the same Idempotency-Key.
 */
export async function claimDeliveries(db: Executor, limit: number, leaseSeconds: number): Promise<AlertDeliveryRow[]> {
  const { rows } = await db.execute<{ id: string }>(sql`
    UPDATE alert_deliveries SET attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => ${leaseSeconds})
    WHERE id IN (SELECT id FROM alert_deliveries WHERE status IN ('pending', 'retrying') AND next_attempt_at <= now()
      ORDER BY next_attempt_at LIMIT ${limit} FOR UPDATE SKIP LOCKED)
    RETURNING id`)
  if (rows.length === 0) return []
  return db
    .select()
    .from(alertDeliveries)
    .where(
      inArray(
        alertDeliveries.id,
        rows.map((r) => r.id),
      ),
    )
}

/** An attempt's result; a delivery already sent stays sent (a late answer of an earlier attempt changes nothing). */
export async function settleDelivery(
  tx: Executor,
  id: string,
  result:
    | { status: 'sent'; response: string }
    | { status: 'retrying'; response: string; retryInSeconds: number }
    | { status: 'failed'; response: string },
): Promise<AlertDeliveryRow | undefined> {
  const [row] = await tx
    .update(alertDeliveries)
    .set({
      status: result.status,
      lastResponse: result.response,
      ...(result.status === 'sent' ? { sentAt: sql`now()` } : {}),
      ...(result.status === 'retrying'
        ? { nextAttemptAt: sql`now() + make_interval(secs => ${result.retryInSeconds})` }
        : {}),
    })
    .where(and(eq(alertDeliveries.id, id), inArray(alertDeliveries.status, ['pending', 'retrying'])))
    .returning()
  return row
}

export async function findChannel(tx: Executor, id: string): Promise<AlertChannelRow | undefined> {
  const [row] = await tx.select().from(alertChannels).where(eq(alertChannels.id, id))
  return row
}

export async function findRule(tx: Executor, id: string): Promise<AlertRuleRow | undefined> {
  const [row] = await tx.select().from(alertRules).where(eq(alertRules.id, id))
  return row
}

export async function findMessage(tx: Executor, id: string): Promise<AlertMessageRow | undefined> {
  const [row] = await tx.select().from(alertMessages).where(eq(alertMessages.id, id))
  return row
}

/** A message's events, oldest first, at most `limit` (a message of 10,000 changes lists the first ones and counts the rest). */
export async function messageEvents(tx: Executor, messageId: string, limit: number): Promise<AlertEventRow[]> {
  const { rows } = await tx.execute<{ id: string }>(sql`
    SELECT event_id AS id FROM alert_message_events WHERE message_id = ${messageId} ORDER BY event_id LIMIT ${limit}`)
  if (rows.length === 0) return []
  return tx
    .select()
    .from(alertEvents)
    .where(
      inArray(
        alertEvents.id,
        rows.map((r) => r.id),
      ),
    )
    .orderBy(asc(alertEvents.id))
}

/** Per kind, how many events a message holds, and on how many subjects. */
export async function messageCounts(tx: Executor, messageId: string) {
  const { rows } = await tx.execute<{ kind: string; n: number; subjects: number }>(sql`
    SELECT e.kind, count(*)::int AS n, count(DISTINCT e.subject->>'id')::int AS subjects
    FROM alert_message_events me JOIN alert_events e ON e.id = me.event_id WHERE me.message_id = ${messageId}
    GROUP BY e.kind ORDER BY e.kind`)
  return rows
}

/** Sets the actor of events whose change the sync attributed after recording them. */
export async function setActors(tx: Executor, actors: readonly { id: string; actor: EventActor }[]): Promise<void> {
  if (actors.length === 0) return
  await tx.execute(sql`
    UPDATE alert_events e SET actor = a.actor FROM jsonb_to_recordset(${JSON.stringify(actors)}::jsonb) AS a(id uuid, actor jsonb)
    WHERE e.id = a.id`)
}

export async function insertChannel(tx: Executor, row: typeof alertChannels.$inferInsert) {
  const [created] = await tx.insert(alertChannels).values(row).returning()
  return created!
}

export async function updateChannelRow(tx: Executor, id: string, values: Partial<typeof alertChannels.$inferInsert>) {
  const [row] = await tx
    .update(alertChannels)
    .set({ ...values, updatedAt: sql`now()` })
    .where(eq(alertChannels.id, id))
    .returning()
  return row
}

export async function lockChannel(tx: Executor, id: string) {
  const [row] = await tx.select().from(alertChannels).where(eq(alertChannels.id, id)).for('update')
  return row
}

export async function deleteChannelRow(tx: Executor, id: string) {
  await tx.delete(alertChannels).where(eq(alertChannels.id, id))
  // Rules stop naming it; their other channels go on.
  await tx.execute(
    sql`UPDATE alert_rules SET channel_ids = array_remove(channel_ids, ${id}::uuid) WHERE ${id}::uuid = ANY(channel_ids)`,
  )
}

export async function listChannels(tx: Executor) {
  return tx
    .select()
    .from(alertChannels)
    .orderBy(asc(sql`lower(${alertChannels.name})`), asc(alertChannels.id))
}

/** Of these channel ids, the ones that exist. */
export async function existingChannelIds(tx: Executor, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set()
  const rows = await tx
    .select({ id: alertChannels.id })
    .from(alertChannels)
    .where(inArray(alertChannels.id, [...ids]))
  return new Set(rows.map((r) => r.id))
}

export async function insertRule(tx: Executor, row: typeof alertRules.$inferInsert) {
  const [created] = await tx.insert(alertRules).values(row).returning()
  return created!
}

export async function lockRule(tx: Executor, id: string) {
  const [row] = await tx.select().from(alertRules).where(eq(alertRules.id, id)).for('update')
  return row
}

export async function updateRuleRow(tx: Executor, id: string, values: Partial<typeof alertRules.$inferInsert>) {
  const [row] = await tx
    .update(alertRules)
    .set({ ...values, updatedAt: sql`now()` })
    .where(eq(alertRules.id, id))
    .returning()
  return row!
}

export async function deleteRuleRow(tx: Executor, id: string) {
  await tx.delete(alertRules).where(eq(alertRules.id, id))
}

export async function listRules(tx: Executor) {
  return tx
    .select()
    .from(alertRules)
    .orderBy(asc(sql`lower(${alertRules.name})`), asc(alertRules.id))
}

/** The delivery log, newest first, keyset-paged on (created_at, id); `tenantIds` limits it (a tenant owner's). */
export async function listDeliveries(
  tx: Executor,
  filters: {
    channelId?: string | undefined
    ruleId?: string | undefined
    status?: AlertDeliveryRow['status'] | undefined
    tenantIds?: readonly string[] | undefined
  },
  page: { cursor?: { at: string; id: string } | undefined; limit: number },
) {
  return tx
    .select()
    .from(alertDeliveries)
    .where(
      and(
        filters.channelId ? eq(alertDeliveries.channelId, filters.channelId) : undefined,
        filters.ruleId ? eq(alertDeliveries.ruleId, filters.ruleId) : undefined,
        filters.status ? eq(alertDeliveries.status, filters.status) : undefined,
        filters.tenantIds ? inArray(alertDeliveries.tenantId, [...filters.tenantIds, NIL]) : undefined,
        page.cursor
          ? sql`(${alertDeliveries.createdAt}, ${alertDeliveries.id}) < (${page.cursor.at}::timestamptz, ${page.cursor.id}::uuid)`
          : undefined,
      ),
    )
    .orderBy(sql`${alertDeliveries.createdAt} DESC, ${alertDeliveries.id} DESC`)
    .limit(page.limit + 1)
}

const NIL = '00000000-0000-0000-0000-000000000000'

/** Deliveries by channel kind and status: `GET /metrics`. */
export async function deliveryCounts(tx: Executor) {
  const { rows } = await tx.execute<{ kind: string; status: string; n: number }>(sql`
    SELECT c.kind, d.status, count(*)::int AS n FROM alert_deliveries d JOIN alert_channels c ON c.id = d.channel_id
    GROUP BY c.kind, d.status`)
  return rows
}
