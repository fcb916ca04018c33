import { sql } from 'drizzle-orm'
import type { openPostgres } from '../src/db/engine.ts'
import { uuidv7 } from '../src/lib/ids.ts'
import { evaluateTenant } from '../src/modules/baselines/evaluate.ts'

/**
 * A full drift evaluation (issue 25): a tenant of BENCH_DRIFT_OBJECTS (10,000) settings catalog-like
 * objects of 20 settings each and a baseline of BENCH_DRIFT_ENTRIES (1,000) entries built from them,
 * 10 % of which expect another value for two settings. `evaluateTenant` is timed three times: the
 * first evaluation (binds every entry by name, opens the findings), and two more on the unchanged
 * tenant (every finding stands; none is opened or resolved).
 */

const OBJECTS = Number(process.env.BENCH_DRIFT_OBJECTS ?? 10_000)
const ENTRIES = Number(process.env.BENCH_DRIFT_ENTRIES ?? 1_000)

export async function measureEvaluation(handle: ReturnType<typeof openPostgres>, tenantId: string) {
  const db = handle.db
  const runId = uuidv7()
  const settings = Array.from({ length: 20 }, (_, s) => `'setting${s}', (n * ${s + 1}) % 97`).join(', ')
  await db.execute(sql`
    INSERT INTO inventory_items (id, tenant_id, policy_type, external_id, display_name, category, platform, payload,
                                 content_hash, first_seen_run_id, last_seen_run_id)
    SELECT gen_random_uuid(), ${tenantId}, 'deviceConfiguration', gen_random_uuid()::text, 'Profile ' || n, 'Configuration',
           'windows', jsonb_build_object('@odata.type', '#microsoft.graph.windows10GeneralConfiguration',
             'displayName', 'Profile ' || n, ${sql.raw(settings)}), 'h' || n, ${runId}, ${runId}
      FROM generate_series(1, ${OBJECTS}) AS n`)
  await db.execute(sql`
    INSERT INTO inventory_type_states (tenant_id, policy_type, last_run_id, last_synced_at, item_count, last_full_sync_at)
    VALUES (${tenantId}, 'deviceConfiguration', ${runId}, now(), ${OBJECTS}, now())`)
  const baselineId = uuidv7()
  await db.execute(
    sql`INSERT INTO baselines (id, name, home_tenant_id) VALUES (${baselineId}, 'Security baseline', ${tenantId})`,
  )
  // The entries' content: the object's payload, every tenth with two settings the tenant does not hold.
  await db.execute(sql`
    INSERT INTO baseline_contents (content_hash, payload, assignments)
    SELECT 'b' || n, CASE WHEN n % 10 = 0 THEN i.payload || '{"setting3": -1, "setting7": -1}'::jsonb ELSE i.payload END,
           '[]'::jsonb
      FROM generate_series(1, ${ENTRIES}) AS n
      JOIN inventory_items i ON i.tenant_id = ${tenantId} AND i.display_name = 'Profile ' || n`)
  await db.execute(sql`
    INSERT INTO baseline_entries (id, baseline_id, policy_type, display_name, odata_type, source_tenant_id,
                                  source_external_id, content_hash, compare, ignore, added_in_version)
    SELECT gen_random_uuid(), ${baselineId}, 'deviceConfiguration', 'Profile ' || n,
           '#microsoft.graph.windows10GeneralConfiguration', ${tenantId}, 'x' || n, 'b' || n,
           '{"mode": "whole", "assignments": false}'::jsonb, '[]'::jsonb, 1
      FROM generate_series(1, ${ENTRIES}) AS n`)
  await db.execute(sql`
    INSERT INTO baseline_versions (baseline_id, number, summary, entries) VALUES (${baselineId}, 1, 'Created', '[]'::jsonb)`)
  await db.execute(
    sql`INSERT INTO baseline_assignments (tenant_id, baseline_id, enabled) VALUES (${tenantId}, ${baselineId}, true)`,
  )
  await db.execute(sql`VACUUM ANALYZE`)
  const times: number[] = []
  let first: Awaited<ReturnType<typeof evaluateTenant>> = []
  let last: Awaited<ReturnType<typeof evaluateTenant>> = []
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now()
    const result = await evaluateTenant(db, tenantId, { now: new Date(), actor: { kind: 'system' } })
    times.push(Math.round(performance.now() - t0))
    if (i === 0) first = result
    last = result
  }
  const { rows } = await db.execute<{ n: number }>(
    sql`SELECT count(*)::int AS n FROM findings WHERE tenant_id = ${tenantId} AND state = 'open'`,
  )
  return {
    objects: OBJECTS,
    entries: ENTRIES,
    first_ms: times[0]!,
    unchanged_ms: times.slice(1),
    opened_first: first[0]?.opened ?? 0,
    opened_again: last[0]?.opened ?? 0,
    resolved_again: last[0]?.resolved ?? 0,
    open_findings: rows[0]!.n,
  }
}
