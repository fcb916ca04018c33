import { sql } from 'drizzle-orm'
import type { Executor } from '../../db/engine.ts'
import { uuidv7 } from '../../lib/ids.ts'
import type { AlertEvent } from './events.ts'

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
