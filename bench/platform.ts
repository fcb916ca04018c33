import { randomBytes, randomUUID } from 'node:crypto'
import { eq } from 'drizzle-orm'
import { openPostgres } from '../src/db/engine.ts'
import { runMigrations } from '../src/db/migrate.ts'
import { operationRuns, users } from '../src/db/schema.ts'
import { buildApp } from '../src/http/app.ts'
import { startOperations } from '../src/jobs/runtime.ts'
import { loadConfig } from '../src/lib/config.ts'
import { hashPassword, SecretBox } from '../src/lib/crypto.ts'
import { uuidv7 } from '../src/lib/ids.ts'
import { createLogger } from '../src/lib/logger.ts'
import { createApiToken } from '../src/modules/access/api-tokens.ts'
import { createCatalog } from '../src/modules/operations/catalog.ts'
import { Scheduler } from '../src/modules/schedules/scheduler.ts'
import { addTenant } from '../src/modules/tenants/add-tenant.ts'
import { upsertMembership } from '../src/modules/tenants/repository.ts'
import { stampHandler } from '../test/operations/recipe/jobs.ts'
import { recipeOperationTypes } from '../test/operations/recipe/operation-types.ts'
import { withFreshPostgres } from './lib.ts'
import { percentile } from './operations.ts'

const ITEMS = Number(process.env.BENCH_ITEMS ?? 100_000)
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 100)
const SCHEDULED_TENANTS = Number(process.env.BENCH_TENANTS ?? 1_000)

const catalog = createCatalog({ ...recipeOperationTypes })
const handlers = { 'recipe.stamp': stampHandler }

const stats = (values: number[]) => ({ p50: percentile(values, 50), p95: percentile(values, 95) })

/**
 * Per-item results on PostgreSQL: one run of the recipe's test type records BENCH_ITEMS results
 * (every 10th failed) through the run execution API; then the items API is timed over HTTP
 * (first page, a page filtered to failed items, a page deep in the run by cursor).
 */
export async function runPlatformBench() {
  return { items: await itemsBench(), schedules: await schedulesBench() }
}

/**
 * BENCH_TENANTS tenants with a schedule each, all due at the same minute; two schedulers (two
 * worker processes' worth) fire them side by side: time until every run is queued, and duplicates.
 */
async function schedulesBench() {
  return withFreshPostgres(async (url) => {
    const handle = openPostgres(url, 12)
    await runMigrations(handle)
    const logger = createLogger('silent')
    const operations = await startOperations({ handle, logger, worker: false, catalog, handlers, scheduler: false })
    try {
      const slot = new Date('2030-01-01T02:00:00.000Z')
      await handle.pool.query(
        `INSERT INTO tenants (id, name, entra_tenant_id, client_id, client_secret_encrypted, cloud)
         SELECT gen_random_uuid(), 'Tenant ' || i, gen_random_uuid(), 'client', 'x', 'emulator' FROM generate_series(1, $1) AS i`,
        [SCHEDULED_TENANTS],
      )
      await handle.pool.query(
        `INSERT INTO schedules (id, tenant_id, name, operation_type, input, cron, timezone, enabled, next_run_at)
         SELECT gen_random_uuid(), id, 'Nightly', 'recipe.stamp', '{"targets":0}', '0 2 * * *', 'UTC', true, $1 FROM tenants`,
        [slot.toISOString()],
      )
      const now = () => new Date(slot.getTime() + 500)
      const schedulers = [0, 1].map(() => new Scheduler(handle.db, operations.engine, logger, { now }))
      const t0 = performance.now()
      const fired = await Promise.all(schedulers.map((s) => s.tick()))
      const allQueuedMs = performance.now() - t0
      const { rows } = await handle.pool.query<{ runs: number; schedules: number; tenants: number; jobs: number }>(
        `SELECT count(*)::int AS runs, count(DISTINCT schedule_id)::int AS schedules, count(DISTINCT tenant_id)::int AS tenants, count(job_id)::int AS jobs
         FROM operation_runs WHERE status = 'queued'`,
      )
      return {
        tenants: SCHEDULED_TENANTS,
        schedulers: schedulers.length,
        fired_per_scheduler: fired,
        all_queued_ms: Math.round(allQueuedMs),
        runs_per_s: Math.round(SCHEDULED_TENANTS / (allQueuedMs / 1000)),
        runs: rows[0]!.runs,
        duplicates: rows[0]!.runs - rows[0]!.schedules,
        runs_with_a_job: rows[0]!.jobs,
      }
    } finally {
      await operations.stop()
      await handle.close()
    }
  })
}

async function itemsBench() {
  return withFreshPostgres(async (url) => {
    const handle = openPostgres(url, 10)
    await runMigrations(handle)
    const logger = createLogger('silent')
    const secrets = new SecretBox(randomBytes(32))
    const operations = await startOperations({ handle, logger, worker: true, catalog, handlers })
    const app = await buildApp({
      handle,
      config: loadConfig({ DATA_DIR: '/nonexistent' }),
      secrets,
      logger,
      engine: operations.engine,
      hub: operations.hub,
    })
    const base = await app.listen({ port: 0, host: '127.0.0.1' })
    try {
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
      const tenant = await addTenant(
        handle.db,
        secrets,
        { kind: 'system' },
        {
          name: 'Bench',
          entra_tenant_id: randomUUID(),
          client_id: randomUUID(),
          client_secret: 'x',
          cloud: 'emulator',
        },
      )
      await upsertMembership(handle.db, tenant.id, user!.id, 'owner')
      const { secret } = await createApiToken(handle.db, { kind: 'system' }, user!.id, { name: 'bench' })

      const t0 = performance.now()
      const { run } = await operations.engine.startRun({
        tenantId: tenant.id,
        type: 'recipe.stamp',
        context: { targets: ITEMS, fail_every: 10 },
        initiatorUserId: user!.id,
        actor: { kind: 'system' },
      })
      let done = (await handle.db.select().from(operationRuns).where(eq(operationRuns.id, run.id)))[0]!
      while (done.status !== 'completed') {
        await new Promise((resolve) => setTimeout(resolve, 20))
        done = (await handle.db.select().from(operationRuns).where(eq(operationRuns.id, run.id)))[0]!
      }
      const startToCompletedMs = performance.now() - t0
      const recordingMs = done.completedAt!.getTime() - done.startedAt!.getTime()
      const { rows } = await handle.pool.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM operation_run_items WHERE run_id = $1',
        [run.id],
      )

      const items = `${base}/api/tenants/${tenant.id}/operation-runs/${run.id}/items`
      const time = async (target: string) => {
        const samples: number[] = []
        for (let i = 0; i < SAMPLES; i++) {
          const s = performance.now()
          const response = await fetch(target, { headers: { authorization: `Bearer ${secret}` } })
          if (!response.ok) throw new Error(`${target} → ${response.status}`)
          await response.arrayBuffer()
          samples.push(performance.now() - s)
        }
        return stats(samples)
      }
      const deep = String(Math.floor(ITEMS * 0.9))
      const { rows: cursorRow } = await handle.pool.query<{ id: string }>(
        'SELECT id::text FROM operation_run_items WHERE run_id = $1 ORDER BY id OFFSET $2 LIMIT 1',
        [run.id, deep],
      )
      return {
        items: ITEMS,
        outcome: done.outcome,
        summary_counts: done.summaryCounts,
        rows_recorded: rows[0]!.n,
        start_to_completed_ms: Math.round(startToCompletedMs),
        recording_ms: recordingMs,
        rows_per_s: Math.round(ITEMS / (recordingMs / 1000)),
        list_first_page_ms: await time(`${items}?limit=100`),
        list_failed_page_ms: await time(`${items}?status=failed&limit=100`),
        list_deep_page_by_cursor_ms: await time(`${items}?limit=100&cursor=${cursorRow[0]!.id}`),
        samples: SAMPLES,
      }
    } finally {
      await app.close()
      await operations.stop()
      await handle.close()
    }
  })
}
