import os from 'node:os'
import { sql } from 'drizzle-orm'
import type { openPostgres } from '../src/db/engine.ts'
import { uuidv7 } from '../src/lib/ids.ts'
import { createApiToken } from '../src/modules/access/api-tokens.ts'
import { listMemberships } from '../src/modules/access/repository.ts'
import { buildOverview } from '../src/modules/overview/build-overview.ts'
import { withBenchApp } from './app.ts'

/**
 * The overview (issue 27): GET /api/overview for a member of BENCH_OVERVIEW_TENANTS (500) tenants,
 * through the HTTP app (authentication, the queries, serialisation), each tenant with
 * BENCH_OVERVIEW_RUNS (40) inventory syncs of mixed outcomes, 200 changes in the last week by 5
 * actors, 10 backup sets and 3 credentials with an expiry. p50 / p95 over BENCH_SAMPLES (100) requests.
 */

const TENANTS = Number(process.env.BENCH_OVERVIEW_TENANTS ?? 500)
const RUNS = Number(process.env.BENCH_OVERVIEW_RUNS ?? 40)
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 100)

const p = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! * 100) / 100
}

export async function seedOverview(handle: ReturnType<typeof openPostgres>, userId: string) {
  const db = handle.db
  await db.execute(sql`
    INSERT INTO tenants (id, name, entra_tenant_id, client_id, client_secret_encrypted, cloud)
    SELECT gen_random_uuid(), 'Tenant ' || lpad(i::text, 4, '0'), gen_random_uuid(), 'client', 'x', 'emulator'
      FROM generate_series(1, ${TENANTS}) AS i`)
  await db.execute(
    sql`INSERT INTO tenant_memberships (tenant_id, user_id, role) SELECT id, ${userId}, 'owner' FROM tenants`,
  )
  // Mixed outcomes; every seventh tenant's syncs all fail, every fifth lacks a permission.
  await db.execute(sql`
    INSERT INTO operation_runs (id, tenant_id, type, status, outcome, identity_key, context, failures, created_at, queued_at, completed_at)
    SELECT gen_random_uuid(), t.id, 'inventory.sync', 'completed',
           CASE WHEN t.n % 7 = 0 THEN 'failed' WHEN t.n % 5 = 0 THEN 'partially_succeeded' ELSE 'succeeded' END,
           gen_random_uuid()::text, '{}',
           CASE WHEN t.n % 5 = 0 THEN '[{"code":"missing_permission","message":"lacks","subject":"deviceManagementScript"}]'::jsonb
                ELSE '[]'::jsonb END,
           now() - (r || ' hours')::interval, now() - (r || ' hours')::interval, now() - (r || ' hours')::interval
      FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM tenants) t, generate_series(1, ${RUNS}) AS r`)
  // Other run types in between, which the lateral reads walk past.
  await db.execute(sql`
    INSERT INTO operation_runs (id, tenant_id, type, status, outcome, identity_key, context, created_at, queued_at, completed_at)
    SELECT gen_random_uuid(), t.id, 'backup.create', 'completed', 'succeeded', gen_random_uuid()::text, '{}',
           now() - (r || ' minutes')::interval, now(), now()
      FROM tenants t, generate_series(1, 20) AS r`)
  await db.execute(sql`
    INSERT INTO backup_sets (id, tenant_id, name, status, origin, created_at)
    SELECT gen_random_uuid(), t.id, 'Nightly', 'complete', 'created', now() - (b || ' days')::interval FROM tenants t, generate_series(1, 10) AS b`)
  const runId = uuidv7()
  await db.execute(sql`
    INSERT INTO inventory_items (id, tenant_id, policy_type, external_id, display_name, category, platform, payload, content_hash,
                                 first_seen_run_id, last_seen_run_id)
    SELECT gen_random_uuid(), t.id, k.type, k.type, k.type, 'Foundations', 'all',
           jsonb_build_object(k.field, to_char(now() + interval '20 days', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')), 'h', ${runId}, ${runId}
      FROM tenants t, (VALUES ('applePushNotificationCertificate', 'expirationDateTime'), ('vppToken', 'expirationDateTime'),
                             ('depOnboardingSetting', 'tokenExpirationDateTime'), ('deviceConfiguration', 'x')) AS k(type, field)`)
  await db.execute(sql`
    INSERT INTO inventory_changes (id, tenant_id, item_id, policy_type, display_name, kind, detected_at, run_id, changed_by)
    SELECT gen_random_uuid(), i.tenant_id, i.id, i.policy_type, i.display_name, 'updated', now() - (c || ' minutes')::interval * 40,
           ${runId}, jsonb_build_object('user_principal_name', 'admin' || (c % 5) || '@contoso.com', 'activity', 'Patch', 'at', now())
      FROM inventory_items i, generate_series(1, 200) AS c WHERE i.policy_type = 'deviceConfiguration'`)
  // As autovacuum leaves a settled database: statistics, and visibility maps for index-only scans.
  await db.execute(sql`VACUUM ANALYZE`)
}

export function runOverviewBench() {
  return withBenchApp(async ({ handle, app }) => {
    const userId = uuidv7()
    await handle.db.execute(
      sql`INSERT INTO users (id, email, name, password_hash) VALUES (${userId}, 'bench@example.com', 'Bench', 'x')`,
    )
    const started = performance.now()
    await seedOverview(handle, userId)
    const seedS = Math.round((performance.now() - started) / 100) / 10
    const token = (await createApiToken(handle.db, { kind: 'system' }, userId, { name: 'bench' })).secret
    const times: number[] = []
    let rows = 0
    for (let i = 0; i < SAMPLES + 5; i++) {
      const t0 = performance.now()
      const response = await app.inject({
        method: 'GET',
        url: '/api/overview',
        headers: { authorization: `Bearer ${token}` },
      })
      if (response.statusCode !== 200) throw new Error(`overview answered ${response.statusCode}: ${response.body}`)
      if (i >= 5) times.push(performance.now() - t0)
      rows = (JSON.parse(response.body) as { data: unknown[] }).data.length
    }
    // The queries alone, without HTTP, authentication and serialisation: where the time goes.
    const memberships = await listMemberships(handle.db, userId)
    const queries: number[] = []
    for (let i = 0; i < SAMPLES; i++) {
      const t0 = performance.now()
      await buildOverview(handle.db, memberships)
      queries.push(performance.now() - t0)
    }
    const load = os.loadavg()[0]!.toFixed(1)
    return {
      tenants: TENANTS,
      rows,
      syncs_per_tenant: RUNS,
      seed_s: seedS,
      p50_ms: p(times, 0.5),
      p95_ms: p(times, 0.95),
      samples: SAMPLES,
      queries_p50_ms: p(queries, 0.5),
      queries_p95_ms: p(queries, 0.95),
      cpus: os.cpus().length,
      load_average_1m: Number(load),
    }
  })
}

export function printOverview(r: Awaited<ReturnType<typeof runOverviewBench>>) {
  console.log(
    `\nOverview: GET /api/overview, ${r.tenants} tenants (${r.syncs_per_tenant} syncs, 200 changes, 10 backups each), ${r.samples} requests`,
  )
  console.log(`  p50 ${r.p50_ms} ms, p95 ${r.p95_ms} ms (target ≤ 100 ms); ${r.rows} rows`)
  console.log(
    `  the queries alone: p50 ${r.queries_p50_ms} ms, p95 ${r.queries_p95_ms} ms (${r.cpus} CPUs, load average ${r.load_average_1m})`,
  )
}
