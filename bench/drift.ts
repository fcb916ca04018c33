import os from 'node:os'
import { sql } from 'drizzle-orm'
import { uuidv7 } from '../src/lib/ids.ts'
import { createApiToken } from '../src/modules/access/api-tokens.ts'
import { measureEvaluation } from './drift-evaluate.ts'
import { withBenchApp } from './app.ts'

/**
 * Drift findings (issue 25): the first page of GET /api/tenants/{id}/findings for an owner of a tenant
 * holding BENCH_FINDINGS (1,000,000) findings of 4 baselines in every state and severity, through the
 * HTTP app (authentication, the query, presentation). p50 / p95 over BENCH_SAMPLES (100) requests for
 * each filter a console user picks: none, state, severity, baseline.
 */

const FINDINGS = Number(process.env.BENCH_FINDINGS ?? 1_000_000)
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 100)
const FILTERS = ['', '?state=open', '?severity=high', '?state=acknowledged&severity=critical', 'baseline'] as const

const p = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! * 100) / 100
}

export function runDriftBench() {
  return withBenchApp(async ({ handle, app }) => {
    const db = handle.db
    const userId = uuidv7()
    const tenantId = uuidv7()
    await db.execute(
      sql`INSERT INTO users (id, email, name, password_hash) VALUES (${userId}, 'bench@example.com', 'Bench', 'x')`,
    )
    await db.execute(sql`
        INSERT INTO tenants (id, name, entra_tenant_id, client_id, client_secret_encrypted, cloud)
        VALUES (${tenantId}, 'Contoso', gen_random_uuid(), 'client', 'x', 'emulator')`)
    await db.execute(
      sql`INSERT INTO tenant_memberships (tenant_id, user_id, role) VALUES (${tenantId}, ${userId}, 'owner')`,
    )
    const baselineIds = [uuidv7(), uuidv7(), uuidv7(), uuidv7()]
    for (const [i, id] of baselineIds.entries())
      await db.execute(
        sql`INSERT INTO baselines (id, name, home_tenant_id) VALUES (${id}, ${`Baseline ${i + 1}`}, ${tenantId})`,
      )
    const started = performance.now()
    await db.execute(sql`
        INSERT INTO findings (id, tenant_id, baseline_id, entry_id, item_id, path, label, kind, expected, actual, severity,
                              state, first_seen_at, last_seen_at, reopened_count, caused_by)
        SELECT gen_random_uuid(), ${tenantId}, (${sql.raw(`ARRAY['${baselineIds.join("','")}']`)}::uuid[])[1 + n % 4],
               gen_random_uuid(), gen_random_uuid(), 'settings.value' || (n % 50), 'Setting ' || (n % 50),
               (ARRAY['changed','missing','added','removed'])[1 + n % 4], to_jsonb(n), to_jsonb(n + 1),
               (ARRAY['low','medium','high','critical'])[1 + (n / 4) % 4],
               (ARRAY['open','acknowledged','excepted','resolved'])[1 + (n / 16) % 4],
               now() - (n % 1000 || ' minutes')::interval, now(), n % 3,
               jsonb_build_object('version_id', gen_random_uuid(), 'changed_by',
                 jsonb_build_object('user_principal_name', 'admin' || (n % 5) || '@contoso.com'))
          FROM generate_series(1, ${FINDINGS}) AS n`)
    await db.execute(sql`VACUUM ANALYZE findings`)
    const seedS = Math.round((performance.now() - started) / 100) / 10
    const token = (await createApiToken(db, { kind: 'system' }, userId, { name: 'bench' })).secret
    const results = []
    for (const filter of FILTERS) {
      const query = filter === 'baseline' ? `?baseline_id=${baselineIds[2]}` : filter
      const times: number[] = []
      let rows = 0
      for (let i = 0; i < SAMPLES + 5; i++) {
        const t0 = performance.now()
        const response = await app.inject({
          method: 'GET',
          url: `/api/tenants/${tenantId}/findings${query}`,
          headers: { authorization: `Bearer ${token}` },
        })
        if (response.statusCode !== 200) throw new Error(`findings answered ${response.statusCode}: ${response.body}`)
        if (i >= 5) times.push(performance.now() - t0)
        rows = (JSON.parse(response.body) as { data: unknown[] }).data.length
      }
      results.push({
        filter: filter === 'baseline' ? '?baseline_id=…' : filter || '(none)',
        rows,
        p50_ms: p(times, 0.5),
        p95_ms: p(times, 0.95),
      })
    }
    // The evaluation in a tenant of its own, beside the million findings.
    const evaluationTenant = uuidv7()
    await db.execute(sql`
        INSERT INTO tenants (id, name, entra_tenant_id, client_id, client_secret_encrypted, cloud)
        VALUES (${evaluationTenant}, 'Fabrikam', gen_random_uuid(), 'client', 'x', 'emulator')`)
    const evaluation = await measureEvaluation(handle, evaluationTenant)
    return {
      evaluation,
      findings: FINDINGS,
      seed_s: seedS,
      samples: SAMPLES,
      results,
      cpus: os.cpus().length,
      load_average_1m: Number(os.loadavg()[0]!.toFixed(1)),
    }
  })
}

export function printDrift(r: Awaited<ReturnType<typeof runDriftBench>>) {
  console.log(
    `\nDrift findings: first page of GET /api/tenants/{id}/findings at ${r.findings.toLocaleString('en')} findings, ${r.samples} requests each (seeded in ${r.seed_s} s)`,
  )
  for (const x of r.results)
    console.log(`  ${x.filter.padEnd(40)} p50 ${x.p50_ms} ms, p95 ${x.p95_ms} ms (target ≤ 50 ms); ${x.rows} rows`)
  const e = r.evaluation
  console.log(
    `Drift evaluation: ${e.objects.toLocaleString('en')} objects, a ${e.entries.toLocaleString('en')}-entry baseline: first ${e.first_ms} ms (target ≤ 5,000 ms; ${e.opened_first} findings opened), unchanged tenant ${e.unchanged_ms.join(' / ')} ms (opened ${e.opened_again}, resolved ${e.resolved_again}; ${e.open_findings} open)`,
  )
  console.log(`  (${r.cpus} CPUs, load average ${r.load_average_1m})`)
}
