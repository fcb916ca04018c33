import { sql } from 'drizzle-orm'
import type { Executor } from '../../db/engine.ts'
import { toTextArray } from '../inventory/store.ts'

export type FindingSummary = {
  bySeverity: { low: number; medium: number; high: number; critical: number }
  entries: number
  deviating: number
  unknown: number
}

/**
 * The overview's drift signals for many tenants in one statement (tenants with an enabled baseline
 * only): open and acknowledged findings by severity, and entries deviating or unknown (by their findings).
 */
export async function findingSummaryByTenant(db: Executor, tenantIds: readonly string[]) {
  const out = new Map<string, FindingSummary>()
  if (tenantIds.length === 0) return out
  const ids = toTextArray(tenantIds)
  const { rows } = await db.execute<{
    tenant_id: string
    entries: number
    deviating: number
    unknown: number
    low: number
    medium: number
    high: number
    critical: number
  }>(sql`
    WITH a AS (
      SELECT tenant_id, baseline_id FROM baseline_assignments WHERE enabled AND tenant_id = ANY(${ids}::uuid[])
    ), e AS (
      SELECT a.tenant_id, e.id AS entry_id FROM a
      JOIN baseline_entries e ON e.baseline_id = a.baseline_id AND e.removed_in_version IS NULL
    ), f AS (
      SELECT tenant_id, entry_id, bool_or(unknown_since IS NOT NULL) AS unknown,
        bool_or(state IN ('open', 'acknowledged')) AS deviating
      FROM findings WHERE tenant_id = ANY(${ids}::uuid[]) AND state <> 'resolved'
        AND baseline_id IN (SELECT baseline_id FROM a WHERE a.tenant_id = findings.tenant_id)
      GROUP BY tenant_id, entry_id
    ), s AS (
      SELECT tenant_id,
        count(*) FILTER (WHERE severity = 'low')::int AS low, count(*) FILTER (WHERE severity = 'medium')::int AS medium,
        count(*) FILTER (WHERE severity = 'high')::int AS high, count(*) FILTER (WHERE severity = 'critical')::int AS critical
      FROM findings WHERE tenant_id = ANY(${ids}::uuid[]) AND state IN ('open', 'acknowledged') AND unknown_since IS NULL
      GROUP BY tenant_id
    )
    SELECT e.tenant_id, count(*)::int AS entries,
      count(*) FILTER (WHERE f.deviating AND NOT f.unknown)::int AS deviating,
      count(*) FILTER (WHERE f.unknown)::int AS unknown,
      coalesce(max(s.low), 0)::int AS low, coalesce(max(s.medium), 0)::int AS medium,
      coalesce(max(s.high), 0)::int AS high, coalesce(max(s.critical), 0)::int AS critical
    FROM e LEFT JOIN f USING (tenant_id, entry_id) LEFT JOIN s USING (tenant_id)
    GROUP BY e.tenant_id`)
  for (const r of rows)
    out.set(r.tenant_id, {
      bySeverity: { low: r.low, medium: r.medium, high: r.high, critical: r.critical },
      entries: r.entries,
      deviating: r.deviating,
      unknown: r.unknown,
    })
  return out
}
