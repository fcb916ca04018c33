import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { randomBytes, randomUUID } from 'node:crypto'
import pg from 'pg'
import { type DatabaseHandle, openEmbedded, openPostgres } from '../src/db/engine.ts'
import { runMigrations } from '../src/db/migrate.ts'
import { buildApp } from '../src/http/app.ts'
import { startOperations } from '../src/jobs/runtime.ts'
import { loadConfig } from '../src/lib/config.ts'
import { SecretBox } from '../src/lib/crypto.ts'
import { createLogger } from '../src/lib/logger.ts'
import { createApiToken } from '../src/modules/access/api-tokens.ts'
import { createCatalog } from '../src/modules/operations/catalog.ts'
import { LIVE_CHANNEL, publishRunUpdated, type RunUpdatedEvent } from '../src/modules/operations/live.ts'
import { addTenant } from '../src/modules/tenants/add-tenant.ts'
import { upsertMembership } from '../src/modules/tenants/repository.ts'
import { users } from '../src/db/schema.ts'
import { hashPassword } from '../src/lib/crypto.ts'
import { uuidv7 } from '../src/lib/ids.ts'
import { PG_URL, hasWrk, wrk } from './lib.ts'
import { openEventStream } from '../test/sse.ts'
import { testType } from '../test/operations/fixtures.ts'

const catalog = createCatalog({
  'bench.noop': testType({ label: 'Benchmark no-op', idempotent: true, maxAttempts: 3 }),
})
const handlers = { 'bench.noop': async () => {} }
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 100)
const THROUGHPUT_RUNS = Number(process.env.BENCH_THROUGHPUT_RUNS ?? 500)

export const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! * 100) / 100
}

async function openBenchDatabase(
  engine: 'embedded' | 'postgres',
): Promise<{ handle: DatabaseHandle; drop(): Promise<void> }> {
  if (engine === 'embedded') {
    const dir = mkdtempSync(path.join(tmpdir(), 'ta-bench-ops-'))
    const handle = await openEmbedded(dir, 'serve')
    await runMigrations(handle)
    return {
      handle: { ...handle, close: () => Promise.resolve() },
      drop: async () => {
        await handle.close()
        rmSync(dir, { recursive: true, force: true })
      },
    }
  }
  const name = `ta_bench_ops_${Date.now()}`
  const admin = new pg.Client({ connectionString: PG_URL })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  const url = new URL(PG_URL)
  url.pathname = `/${name}`
  const handle = openPostgres(url.toString(), 20)
  await runMigrations(handle)
  return {
    handle,
    drop: async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await admin.end()
    },
  }
}

async function benchUser(handle: DatabaseHandle) {
  const [user] = await handle.db
    .insert(users)
    .values({
      id: uuidv7(),
      email: `bench-${randomUUID()}@example.com`,
      name: 'Bench',
      passwordHash: await hashPassword('bench-password'),
      isAdmin: true,
    })
    .returning()
  return user!
}

/** Start → running latency, commit → SSE latency and lifecycle throughput on one engine. */
async function lifecycle(engine: 'embedded' | 'postgres') {
  const db = await openBenchDatabase(engine)
  const { handle } = db
  const logger = createLogger('silent')
  const secrets = new SecretBox(randomBytes(32))
  const operations = await startOperations({ handle, logger, worker: true, catalog, handlers, concurrency: 8 })
  const app = await buildApp({
    handle,
    config: loadConfig({ DATA_DIR: '/nonexistent' }),
    secrets,
    logger,
    engine: operations.engine,
    hub: operations.hub,
  })
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  try {
    const user = await benchUser(handle)
    const tenant = await addTenant(
      handle.db,
      secrets,
      { kind: 'system' },
      { name: 'Bench', entra_tenant_id: randomUUID(), client_id: randomUUID(), client_secret: 'x', cloud: 'emulator' },
    )
    await upsertMembership(handle.db, tenant.id, user.id, 'owner')
    const { secret } = await createApiToken(handle.db, { kind: 'system' }, user.id, { name: 'bench' })

    // Watch status changes through the same LISTEN the product uses: first time each status was seen, per run.
    const seen = new Map<string, Map<string, number>>()
    await operations.listener.listen(LIVE_CHANNEL, (payload) => {
      const event = JSON.parse(payload) as RunUpdatedEvent
      const statuses = seen.get(event.run_id) ?? new Map<string, number>()
      if (!statuses.has(event.status)) statuses.set(event.status, performance.now())
      seen.set(event.run_id, statuses)
    })
    const when = async (runId: string, status: string) => {
      const deadline = Date.now() + 10_000
      for (;;) {
        const at = seen.get(runId)?.get(status)
        if (at !== undefined) return at
        if (Date.now() > deadline) throw new Error(`run ${runId} never reached ${status}`)
        await new Promise((resolve) => setTimeout(resolve, 1))
      }
    }

    // 1. start → running, one run at a time, idle worker.
    const startLatency: number[] = []
    for (let i = 0; i < SAMPLES; i++) {
      const t0 = performance.now()
      const { run } = await operations.engine.startRun({
        tenantId: tenant.id,
        type: 'bench.noop',
        context: { i },
        initiatorUserId: user.id,
        actor: { kind: 'system' },
      })
      startLatency.push((await when(run.id, 'running')) - t0)
      await when(run.id, 'completed')
    }

    // 2. commit of a run update → SSE event at a client, over real HTTP.
    const arrivals = new Map<string, (t: number) => void>()
    const stream = await openEventStream(`${url}/api/tenants/${tenant.id}/events`, secret, (event, data) => {
      if (event === 'run.updated') arrivals.get((data as { id: string }).id)?.(performance.now())
    })
    const { run: probe } = await operations.engine.startRun({
      tenantId: tenant.id,
      type: 'bench.noop',
      context: { probe: true },
      initiatorUserId: null,
      actor: { kind: 'system' },
    })
    await new Promise((resolve) => setTimeout(resolve, 500))
    const sseLatency: number[] = []
    for (let i = 0; i < SAMPLES; i++) {
      const arrived = new Promise<number>((resolve) => arrivals.set(probe.id, resolve))
      const t0 = performance.now()
      await handle.db.transaction((tx) =>
        publishRunUpdated(tx, { id: probe.id, tenantId: tenant.id, status: 'completed', cancelRequestedAt: null }),
      )
      sseLatency.push((await arrived) - t0)
    }
    stream.close()

    // 3. Throughput: many no-op runs through the whole lifecycle, notifications included.
    const t0 = performance.now()
    const runs = await Promise.all(
      Array.from({ length: THROUGHPUT_RUNS }, (_, i) =>
        operations.engine.startRun({
          tenantId: tenant.id,
          type: 'bench.noop',
          context: { batch: i },
          initiatorUserId: user.id,
          actor: { kind: 'system' },
        }),
      ),
    )
    for (;;) {
      const { rows } = await handle.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM operation_runs WHERE status <> 'completed' AND id = ANY($1::uuid[])`,
        [runs.map((r) => r.run.id)],
      )
      if (rows[0]!.n === 0) break
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    const seconds = (performance.now() - t0) / 1000
    const { rows: notified } = await handle.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM notifications WHERE run_id = ANY($1::uuid[])',
      [runs.map((r) => r.run.id)],
    )

    return {
      engine,
      start_to_running_ms: {
        p50: percentile(startLatency, 50),
        p95: percentile(startLatency, 95),
        samples: startLatency.length,
      },
      commit_to_sse_ms: {
        p50: percentile(sseLatency, 50),
        p95: percentile(sseLatency, 95),
        samples: sseLatency.length,
      },
      lifecycle_runs_per_s: Math.round((THROUGHPUT_RUNS / seconds) * 10) / 10,
      lifecycle_runs: THROUGHPUT_RUNS,
      notifications_written: notified[0]!.n,
    }
  } finally {
    await app.close()
    await operations.stop()
    await handle.close()
    await db.drop()
  }
}

/** Monitoring on PostgreSQL with 1,000,000 runs across 1,000 tenants. */
async function monitoringAtScale() {
  const TENANTS = Number(process.env.BENCH_TENANTS ?? 1000)
  const RUNS = Number(process.env.BENCH_RUNS ?? 1_000_000)
  const db = await openBenchDatabase('postgres')
  const { handle } = db
  const logger = createLogger('silent')
  const secrets = new SecretBox(randomBytes(32))
  const operations = await startOperations({ handle, logger, worker: false, catalog, handlers })
  const app = await buildApp({
    handle,
    config: loadConfig({ DATA_DIR: '/nonexistent' }),
    secrets,
    logger,
    engine: operations.engine,
    hub: operations.hub,
  })
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  try {
    const user = await benchUser(handle)
    const seedStart = performance.now()
    await handle.pool.query(
      `INSERT INTO tenants (id, name, entra_tenant_id, client_id, client_secret_encrypted, cloud)
       SELECT gen_random_uuid(), 'Tenant ' || g, gen_random_uuid(), gen_random_uuid()::text, 'v1:x:y:z', 'emulator' FROM generate_series(1, $1) g`,
      [TENANTS],
    )
    await handle.pool.query(
      `INSERT INTO tenant_memberships (tenant_id, user_id, role) SELECT id, $1, 'owner' FROM tenants`,
      [user.id],
    )
    // Mostly completed history, a few active runs per tenant, a mix of outcomes and initiators.
    await handle.pool.query(
      `WITH t AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM tenants)
       INSERT INTO operation_runs (id, tenant_id, type, status, outcome, initiator_user_id, identity_key, context, summary_counts, created_at, queued_at, started_at, completed_at)
       SELECT gen_random_uuid(), t.id, 'bench.noop',
              CASE WHEN g % 500 = 0 THEN 'queued' WHEN g % 500 = 1 THEN 'running' ELSE 'completed' END,
              CASE WHEN g % 500 IN (0, 1) THEN NULL WHEN g % 10 = 0 THEN 'failed' WHEN g % 7 = 0 THEN 'partially_succeeded' ELSE 'succeeded' END,
              CASE WHEN g % 3 = 0 THEN NULL ELSE $2::uuid END,
              md5(g::text), jsonb_build_object('n', g), '{"total": 10, "processed": 10}'::jsonb,
              now() - (g || ' seconds')::interval, now() - (g || ' seconds')::interval, now() - (g || ' seconds')::interval,
              CASE WHEN g % 500 IN (0, 1) THEN NULL ELSE now() - (g || ' seconds')::interval END
       FROM generate_series(1, $1) g JOIN t ON t.n = 1 + (g % $3)`,
      [RUNS, user.id, TENANTS],
    )
    await handle.pool.query('ANALYZE')
    const seedSeconds = Math.round((performance.now() - seedStart) / 100) / 10
    const { rows } = await handle.pool.query<{ id: string }>('SELECT id FROM tenants ORDER BY id LIMIT 1 OFFSET $1', [
      Math.min(17, TENANTS - 1),
    ])
    const tenantId = rows[0]!.id
    const { secret } = await createApiToken(handle.db, { kind: 'system' }, user.id, { name: 'bench' })
    const headers = { authorization: `Bearer ${secret}` }

    const timed = async (path: string) => {
      const latencies: number[] = []
      for (let i = 0; i < 20; i++) await (await fetch(`${url}${path}`, { headers })).arrayBuffer() // warm-up
      for (let i = 0; i < SAMPLES * 2; i++) {
        const t0 = performance.now()
        const response = await fetch(`${url}${path}`, { headers })
        await response.arrayBuffer()
        if (!response.ok) throw new Error(`${path}: ${response.status}`)
        latencies.push(performance.now() - t0)
      }
      return { p50: percentile(latencies, 50), p95: percentile(latencies, 95) }
    }
    const firstPage = await timed(`/api/tenants/${tenantId}/operation-runs`)
    const filtered = await timed(
      `/api/tenants/${tenantId}/operation-runs?status=completed&outcome=failed&initiator=${user.id}&type=bench.noop`,
    )
    const page = (await (
      await fetch(`${url}/api/tenants/${tenantId}/operation-runs?limit=50`, { headers })
    ).json()) as { next_cursor: string }
    const deepPage = await timed(`/api/tenants/${tenantId}/operation-runs?cursor=${page.next_cursor}`)
    const seconds = Number(process.env.BENCH_WRK_SECONDS ?? 30)
    const active = hasWrk()
      ? await wrk(`${url}/api/tenants/${tenantId}/operation-runs/active`, {
          connections: 64,
          threads: 2,
          seconds,
          headers: [`Authorization: Bearer ${secret}`],
        })
      : null
    return {
      runs: RUNS,
      tenants: TENANTS,
      seed_seconds: seedSeconds,
      list_first_page_ms: firstPage,
      list_filtered_ms: filtered,
      list_second_page_ms: deepPage,
      active_under_wrk: active,
      wrk_seconds: seconds,
    }
  } finally {
    await app.close()
    await operations.stop()
    await handle.close()
    await db.drop()
  }
}

export async function runOperationsBench() {
  const embedded = await lifecycle('embedded')
  const postgres = await lifecycle('postgres')
  const monitoring = await monitoringAtScale()
  return { lifecycle: [embedded, postgres], monitoring }
}
