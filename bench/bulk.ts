import { randomUUID } from 'node:crypto'
import { and, eq, sql } from 'drizzle-orm'
import { openDatabase } from '../src/db/engine.ts'
import { runMigrations } from '../src/db/migrate.ts'
import { inventoryItems, operationRuns } from '../src/db/schema.ts'
import { GraphClient } from '../src/graph/graph-client.ts'
import { POLICY_TYPES } from '../src/graph/policy-types.ts'
import { BudgetRegistry, INTUNE_BUDGET } from '../src/graph/throttle-budget.ts'
import { createMsalTokenProvider } from '../src/graph/token-provider.ts'
import { startOperations } from '../src/jobs/runtime.ts'
import { SecretBox } from '../src/lib/crypto.ts'
import { createLogger } from '../src/lib/logger.ts'
import { uuidv7 } from '../src/lib/ids.ts'
import { describeSelection, planBulk, startBulk } from '../src/modules/bulk/start-bulk.ts'
import { APP_KEY, control, sleep, spawnEmulator, stopEmulator, withFreshPostgres } from './lib.ts'
import { connect, sync } from './inventory.ts'

/**
 * Bulk operations (issue 16), on PostgreSQL:
 * - bulk assign of a group to BENCH_BULK_POLICIES (1,000) policies of mixed types, against the
 *   emulator with 50 ms latency and Intune's write limit (100 writes per 20 s per app) scaled by
 *   BENCH_BULK_SCALE (default 5, so the run takes ~40 s instead of ~200 s; 1 = Intune's own):
 *   wall time of the run (backup, fresh reads, writes, read-backs) against the write floor
 *   (writes ÷ the write limit), and the 429s the emulator sent;
 * - the console's "select all 100,000 items of a filter, open the preview": the selection summary
 *   (the action bar) and the dry-run plan with its first 200 rows, on a 100,000-item inventory,
 *   timed where the server spends it (p50/p95 of BENCH_SAMPLES, default 10).
 */

const POLICIES = Number(process.env.BENCH_BULK_POLICIES ?? 1000)
const SCALE = Number(process.env.BENCH_BULK_SCALE ?? 5)
const PREVIEW_ITEMS = Number(process.env.BENCH_BULK_PREVIEW_ITEMS ?? 100_000)
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 10)
const LATENCY_MS = 50

const round = (n: number) => Math.round(n * 100) / 100
const pct = (values: number[], q: number) =>
  round([...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))]!)

async function bulkAssign(url: string) {
  const emulator = await spawnEmulator()
  const handle = await openDatabase({ databaseUrl: url, dataDir: '/nonexistent', role: 'cli' })
  await runMigrations(handle)
  const tokens = createMsalTokenProvider()
  const graph = new GraphClient({
    tokens,
    budgets: new BudgetRegistry({
      ...INTUNE_BUDGET,
      reads: INTUNE_BUDGET.reads * SCALE,
      writes: INTUNE_BUDGET.writes * SCALE,
    }),
  })
  const operations = await startOperations({
    handle,
    logger: createLogger('silent'),
    worker: true,
    shipped: { secrets: new SecretBox(Buffer.from(APP_KEY, 'base64')), emulatorUrl: emulator.url, graph, tokens },
  })
  try {
    // A tenant large enough to hold POLICIES policies that have assignments.
    const { tenantId } = await connect(handle, emulator, Math.round(POLICIES * 1.6))
    await control(emulator, 'PUT', '/faults', { latency_ms: LATENCY_MS, throttle_scale: SCALE })
    await sync(handle, operations, emulator, tenantId, (INTUNE_BUDGET.reads * SCALE) / 20)
    const assignable = POLICY_TYPES.filter((e) => e.kind === 'policy' && e.assignments !== null).map((e) => e.key)
    const rows = await handle.db
      .select({ id: inventoryItems.id })
      .from(inventoryItems)
      .where(
        and(
          eq(inventoryItems.tenantId, tenantId),
          sql`${inventoryItems.removedAt} IS NULL`,
          sql`${inventoryItems.policyType} = ANY(${`{${assignable.join(',')}}`}::text[])`,
        ),
      )
      .orderBy(sql`md5(${inventoryItems.id}::text)`)
      .limit(POLICIES)
    await control(emulator, 'DELETE', '/stats')
    const { run } = await startBulk(operations.engine, handle.db, {
      tenantId,
      body: {
        action: 'assign',
        params: { group_id: randomUUID(), intent: 'include' },
        item_ids: rows.map((r) => r.id),
        dry_run: false,
      },
      initiatorUserId: null,
      actor: { kind: 'system' },
    })
    for (;;) {
      const [row] = await handle.db.select().from(operationRuns).where(eq(operationRuns.id, run.id))
      if (row?.status === 'completed') {
        const stats = await control<{ graph_requests: number; throttled: number; by_kind: Record<string, number> }>(
          emulator,
          'GET',
          '/stats',
        )
        const wallS = (row.completedAt!.getTime() - row.startedAt!.getTime()) / 1000
        const writes = row.summaryCounts.succeeded ?? 0
        const floorS = writes / ((INTUNE_BUDGET.writes * SCALE) / 20)
        return {
          policies: rows.length,
          types: new Set(
            (
              await handle.db
                .select({ t: inventoryItems.policyType })
                .from(inventoryItems)
                .where(sql`${inventoryItems.id} = ANY(${`{${rows.map((r) => r.id).join(',')}}`}::uuid[])`)
            ).map((r) => r.t),
          ).size,
          outcome: row.outcome,
          writes,
          write_limit_per_20s: INTUNE_BUDGET.writes * SCALE,
          wall_s: round(wallS),
          floor_s: round(floorS),
          wall_over_floor: round(wallS / floorS),
          throttled_429: stats.throttled,
          graph_requests: stats.graph_requests,
        }
      }
      await sleep(250)
    }
  } finally {
    await control(emulator, 'PUT', '/faults', {})
    await operations.stop()
    await handle.close()
    await stopEmulator(emulator)
  }
}

/** 100,000 inventory items of mixed types with an assignment each, written directly (no Graph needed to time the preview). */
async function previewOf100k(url: string) {
  const handle = await openDatabase({ databaseUrl: url, dataDir: '/nonexistent', role: 'cli' })
  await runMigrations(handle)
  try {
    const tenantId = uuidv7()
    await handle.db.execute(
      sql`INSERT INTO tenants (id, name, entra_tenant_id, client_id, cloud, client_secret_encrypted) VALUES (${tenantId}, 'Bench preview', ${randomUUID()}, 'bench', 'emulator', 'x')`,
    )
    const types = POLICY_TYPES.filter((e) => e.kind === 'policy').map((e) => e.key)
    const run = uuidv7()
    await handle.db.execute(sql`
      INSERT INTO inventory_items (id, tenant_id, policy_type, external_id, display_name, category, platform, payload, assignments, content_hash, first_seen_run_id, last_seen_run_id)
      SELECT gen_random_uuid(), ${tenantId}, (${`{${types.join(',')}}`}::text[])[1 + n % ${types.length}], 'obj-' || n, 'Policy ' || lpad(n::text, 6, '0'), 'Configuration', 'windows',
        jsonb_build_object('displayName', 'Policy ' || n, 'roleScopeTagIds', jsonb_build_array('0')),
        jsonb_build_array(jsonb_build_object('id', 'a' || n, 'target', jsonb_build_object('@odata.type', '#microsoft.graph.groupAssignmentTarget', 'groupId', 'g-' || (n % 50)))),
        md5(n::text), ${run}, ${run}
      FROM generate_series(1, ${PREVIEW_ITEMS}) AS n`)
    await handle.db.execute(sql`ANALYZE inventory_items`)
    const summary: number[] = []
    const preview: number[] = []
    let count = 0
    for (let i = 0; i < SAMPLES + 2; i++) {
      let started = performance.now()
      const s = await describeSelection(handle.db, tenantId, { filter: {} }, true)
      const a = performance.now() - started
      started = performance.now()
      const plan = await planBulk(handle.db, tenantId, {
        action: 'assign',
        params: { group_id: 'g-new', intent: 'include' },
        filter: {},
        dry_run: true,
        preview_limit: 200,
      })
      const b = performance.now() - started
      count = plan.item_count
      if (s.item_count !== PREVIEW_ITEMS || plan.items.length !== 200) throw new Error('unexpected preview')
      if (i >= 2) {
        summary.push(a)
        preview.push(b)
      }
    }
    return {
      items: count,
      selection_summary_ms: { p50: pct(summary, 0.5), p95: pct(summary, 0.95) },
      preview_first_rows_ms: { p50: pct(preview, 0.5), p95: pct(preview, 0.95) },
    }
  } finally {
    await handle.close()
  }
}

export async function runBulkBench() {
  const assign = await withFreshPostgres(bulkAssign)
  const preview = await withFreshPostgres(previewOf100k)
  return { latency_ms: LATENCY_MS, scale: SCALE, assign, preview }
}
