import { sql } from 'drizzle-orm'
import type { Executor } from '../../db/engine.ts'

/** Per tenant, its newest usable backup set (complete or partial), in one statement for many tenants. */
export async function newestBackupByTenant(
  db: Executor,
  tenantIds: string[],
): Promise<Map<string, { id: string; createdAt: Date }>> {
  if (tenantIds.length === 0) return new Map()
  const { rows } = await db.execute<{ tenant_id: string; id: string; created_at: string }>(sql`
    SELECT t.id AS tenant_id, b.id, b.created_at
      FROM unnest(${`{${tenantIds.join(',')}}`}::uuid[]) AS t(id)
      CROSS JOIN LATERAL (
        SELECT s.id, s.created_at FROM backup_sets s
         WHERE s.tenant_id = t.id AND s.status IN ('complete', 'partial')
         ORDER BY s.created_at DESC NULLS LAST, s.id DESC NULLS LAST LIMIT 1) b`)
  return new Map(rows.map((r) => [r.tenant_id, { id: r.id, createdAt: new Date(r.created_at) }]))
}
