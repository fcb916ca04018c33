import { sql } from 'drizzle-orm'
import type { Executor } from '../../db/engine.ts'
import type { RunFailure, RunOutcome, RunStatus } from '../../db/schema.ts'

export type LatestRuns = {
  last: {
    id: string
    status: RunStatus
    outcome: RunOutcome | null
    createdAt: Date
    completedAt: Date | null
    failures: RunFailure[]
  } | null
  lastSuccessAt: Date | null
}

/**
 * Per tenant, the newest run of a type and when one last completed without failing (succeeded or
 * partially: a partial sync still mirrored what it could read). One statement for many tenants; each
 * lateral walks the tenant's runs newest first on operation_runs_tenant_type_created_idx (its NULLS LAST
 * order) and stops at the first match.
 */
export async function latestRunsByTenant(
  db: Executor,
  tenantIds: string[],
  type: string,
): Promise<Map<string, LatestRuns>> {
  if (tenantIds.length === 0) return new Map()
  const { rows } = await db.execute<{
    tenant_id: string
    id: string | null
    status: RunStatus | null
    outcome: RunOutcome | null
    created_at: string | null
    completed_at: string | null
    failures: RunFailure[] | null
    success_at: string | null
  }>(sql`
    SELECT t.id AS tenant_id, l.id, l.status, l.outcome, l.created_at, l.completed_at, l.failures, s.completed_at AS success_at
      FROM unnest(${`{${tenantIds.join(',')}}`}::uuid[]) AS t(id)
      LEFT JOIN LATERAL (
        SELECT r.id, r.status, r.outcome, r.created_at, r.completed_at, r.failures FROM operation_runs r
         WHERE r.tenant_id = t.id AND r.type = ${type}
         ORDER BY r.created_at DESC NULLS LAST, r.id DESC NULLS LAST LIMIT 1) l ON true
      LEFT JOIN LATERAL (
        SELECT r.completed_at FROM operation_runs r
         WHERE r.tenant_id = t.id AND r.type = ${type} AND r.status = 'completed'
           AND r.outcome IN ('succeeded', 'partially_succeeded')
         ORDER BY r.created_at DESC NULLS LAST, r.id DESC NULLS LAST LIMIT 1) s ON true`)
  return new Map(
    rows.map((r) => [
      r.tenant_id,
      {
        last: r.id
          ? {
              id: r.id,
              status: r.status!,
              outcome: r.outcome,
              createdAt: new Date(r.created_at!),
              completedAt: r.completed_at ? new Date(r.completed_at) : null,
              failures: r.failures ?? [],
            }
          : null,
        lastSuccessAt: r.success_at ? new Date(r.success_at) : null,
      },
    ]),
  )
}
