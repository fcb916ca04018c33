import { randomUUID } from 'node:crypto'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { eq, sql } from 'drizzle-orm'
import { type DatabaseHandle, openDatabase, openPostgres } from '../src/db/engine.ts'
import { operationRuns } from '../src/db/schema.ts'
import { startOperations } from '../src/jobs/runtime.ts'
import { SecretBox } from '../src/lib/crypto.ts'
import { createLogger } from '../src/lib/logger.ts'
import { startInventorySync } from '../src/modules/inventory/start-sync.ts'
import { addTenant } from '../src/modules/tenants/add-tenant.ts'
import { APP_KEY, control, type Emulator, sleep, spawnEmulator, stopEmulator, withFreshPostgres } from './lib.ts'

/**
 * Inventory sync end to end (issue 5's figures): the shipped worker in its own process reads an
 * emulated tenant over HTTP and writes PostgreSQL (or the embedded cluster).
 * - 10,000 objects, 50 ms latency, Intune's default limits: full sync wall time against the
 *   Graph floor (the requests it needs ÷ the 50 requests/s Intune allows an app per tenant),
 *   then an unchanged re-sync;
 * - 100,000 objects (limits raised BENCH_INVENTORY_LARGE_SCALE× on both sides, so it finishes
 *   in minutes): full sync wall time, the worker's peak RSS, item rows an unchanged re-sync writes;
 * - the same 10,000-object sync on the embedded cluster.
 */

const OBJECTS = Number(process.env.BENCH_INVENTORY_OBJECTS ?? 10_000)
const LARGE = Number(process.env.BENCH_INVENTORY_LARGE ?? 100_000)
const LARGE_SCALE = Number(process.env.BENCH_INVENTORY_LARGE_SCALE ?? 10)
export const LATENCY_MS = 50
export const INTUNE_PER_S = 1000 / 20

type Worker = { child: ChildProcess; output: () => string }

export async function spawnWorker(env: Record<string, string>): Promise<Worker> {
  const child = spawn(process.execPath, ['--max-semi-space-size=8', path.resolve('bench/inventory-worker.ts')], {
    env: { ...process.env, BENCH_APP_KEY: APP_KEY, ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  let output = ''
  child.stdout.on('data', (d: Buffer) => (output += d.toString()))
  for (;;) {
    if (output.includes('ready')) return { child, output: () => output }
    if (child.exitCode !== null) throw new Error(`bench worker exited ${child.exitCode}: ${output}`)
    await sleep(50)
  }
}

async function peakRssMiB(worker: Worker): Promise<number> {
  worker.child.stdin!.write('rss\n')
  for (;;) {
    const match = /peak_rss_kib (\d+)/.exec(worker.output())
    if (match) return Math.round(Number(match[1]) / 102.4) / 10
    await sleep(50)
  }
}

export async function stopWorker(worker: Worker) {
  const exited = new Promise((resolve) => worker.child.once('exit', resolve))
  worker.child.stdin!.end('stop\n')
  await exited
}

type Stats = { graph_requests: number; throttled: number; by_kind: Record<string, number> }

/** An emulated tenant and its row in our database. */
export async function connect(handle: DatabaseHandle, emulator: Emulator, objects: number) {
  const secret = `bench-${randomUUID()}`
  const created = await control<{ tenant_id: string; client_id: string }>(emulator, 'POST', '/tenants', {
    seed: 'bench',
    policies: objects,
    client_id: randomUUID(),
    client_secret: secret,
  })
  const truth = (await control<{ objects: unknown[] }>(emulator, 'GET', `/tenants/${created.tenant_id}/inventory`))
    .objects.length
  const tenant = await addTenant(
    handle.db,
    new SecretBox(Buffer.from(APP_KEY, 'base64')),
    { kind: 'system' },
    {
      name: `Bench ${objects}`,
      entra_tenant_id: created.tenant_id,
      client_id: created.client_id,
      client_secret: secret,
      cloud: 'emulator',
    },
  )
  return { tenantId: tenant.id, truth }
}

/** Versions and transaction ids of every item row: what an unchanged re-sync must leave alone. */
async function rowStamps(handle: DatabaseHandle, tenantId: string) {
  const { rows } = await handle.db.execute<{ id: string; stamp: string }>(
    sql`SELECT id, version::text || ':' || xmin::text AS stamp FROM inventory_items WHERE tenant_id = ${tenantId}`,
  )
  return new Map(rows.map((r) => [r.id, r.stamp]))
}

export async function sync(
  handle: DatabaseHandle,
  operations: Awaited<ReturnType<typeof startOperations>>,
  emulator: Emulator,
  tenantId: string,
  perSecond: number,
  selection?: { mode: 'full' | 'quick' },
) {
  await control(emulator, 'DELETE', '/stats')
  const { run } = await startInventorySync(operations.engine, {
    tenantId,
    selection,
    initiatorUserId: null,
    actor: { kind: 'system' },
  })
  for (;;) {
    const [row] = await handle.db.select().from(operationRuns).where(eq(operationRuns.id, run.id))
    if (row?.status === 'completed') {
      const stats = await control<Stats>(emulator, 'GET', '/stats')
      const wallS = (row.completedAt!.getTime() - row.startedAt!.getTime()) / 1000
      const floorS = stats.graph_requests / perSecond
      const { rows } = await handle.db.execute<{ n: number }>(
        sql`SELECT count(*)::int AS n FROM inventory_items WHERE tenant_id = ${tenantId} AND removed_at IS NULL`,
      )
      return {
        outcome: row.outcome,
        wall_s: round(wallS),
        graph_requests: stats.graph_requests,
        /** Graph requests by what they read (list pages, objects, sub-resources, groups; `$batch` members counted one by one). */
        requests_by_kind: Object.fromEntries(
          Object.entries(stats.by_kind).filter(([kind]) => !['control', 'token', 'discovery'].includes(kind)),
        ),
        throttled_429: stats.throttled,
        floor_s: round(floorS),
        wall_over_floor: round(wallS / floorS),
        items_stored: rows[0]!.n,
        counts: row.summaryCounts,
      }
    }
    await sleep(250)
  }
}

/** `open` runs once the worker is up: on the embedded cluster the worker started it and we join it. */
async function measure(
  open: () => Promise<DatabaseHandle>,
  emulator: Emulator,
  objects: number,
  scale: number,
  workerEnv: Record<string, string>,
  resync: boolean,
) {
  const worker = await spawnWorker({ ...workerEnv, BENCH_BUDGET_SCALE: String(scale) })
  const shared = await open()
  const operations = await startOperations({
    handle: shared,
    logger: createLogger('silent'),
    worker: false,
    shipped: { secrets: new SecretBox(Buffer.from(APP_KEY, 'base64')), emulatorUrl: emulator.url },
  })
  try {
    const { tenantId, truth } = await connect(shared, emulator, objects)
    await control(emulator, 'PUT', '/faults', { latency_ms: LATENCY_MS, throttle_scale: scale })
    const full = { ...(await sync(shared, operations, emulator, tenantId, INTUNE_PER_S * scale)), ground_truth: truth }
    const result: Record<string, unknown> = { engine: shared.engine, objects, limits_scale: scale, full }
    if (resync) {
      const before = await rowStamps(shared, tenantId)
      const again = await sync(shared, operations, emulator, tenantId, INTUNE_PER_S * scale)
      const after = await rowStamps(shared, tenantId)
      let written = after.size - before.size
      for (const [id, stamp] of before) if (after.get(id) !== stamp) written++
      result.unchanged_resync = { ...again, item_rows_written: written }
    }
    result.worker_peak_rss_mib = await peakRssMiB(worker)
    return result
  } finally {
    await control(emulator, 'PUT', '/faults', {})
    await operations.stop()
    await shared.close()
    await stopWorker(worker)
  }
}

export async function runInventoryBench() {
  const emulator = await spawnEmulator()
  try {
    const postgres = await withFreshPostgres(async (url) => {
      const env = { BENCH_DATABASE: url, BENCH_EMULATOR_URL: emulator.url }
      const open = () => Promise.resolve(openPostgres(url, 4))
      const standard = await measure(open, emulator, OBJECTS, 1, env, true)
      print('PostgreSQL', standard)
      const large = await measure(open, emulator, LARGE, LARGE_SCALE, env, true)
      print('PostgreSQL', large)
      return { standard, large }
    })
    const dataDir = mkdtempSync(path.join(tmpdir(), 'ta-bench-inventory-'))
    let embedded: Record<string, unknown>
    try {
      const worker = { BENCH_DATA_DIR: dataDir, BENCH_DATABASE: '', BENCH_EMULATOR_URL: emulator.url }
      const open = () => openDatabase({ databaseUrl: undefined, dataDir, role: 'cli' })
      embedded = await measure(open, emulator, OBJECTS, 1, worker, false)
      print('the embedded cluster', embedded)
    } finally {
      rmSync(dataDir, { recursive: true, force: true })
    }
    return { latency_ms: LATENCY_MS, intune_limit: '1,000 requests per 20 s per app per tenant', postgres, embedded }
  } finally {
    await stopEmulator(emulator)
  }
}

const round = (n: number) => Math.round(n * 100) / 100

function print(engine: string, r: Record<string, unknown>) {
  const full = r.full as Awaited<ReturnType<typeof sync>> & { ground_truth: number }
  console.log(
    `\nInventory sync on ${engine}: ${String(r.objects)} objects, ${LATENCY_MS} ms latency, Intune limits ×${String(r.limits_scale)}`,
  )
  console.log(
    `  full sync                 ${full.wall_s} s (floor ${full.floor_s} s: ${full.graph_requests} Graph requests at ${INTUNE_PER_S * Number(r.limits_scale)}/s; × ${full.wall_over_floor}), ${full.throttled_429} × 429, ${full.outcome}`,
  )
  console.log(`  items stored / truth      ${full.items_stored} / ${full.ground_truth}`)
  const again = r.unchanged_resync as (Awaited<ReturnType<typeof sync>> & { item_rows_written: number }) | undefined
  if (again)
    console.log(
      `  unchanged re-sync         ${again.wall_s} s, ${again.item_rows_written} item rows written, counts ${JSON.stringify(again.counts)}`,
    )
  console.log(`  worker peak RSS           ${String(r.worker_peak_rss_mib)} MiB`)
}

if (import.meta.main) {
  const { writeReport } = await import('./lib.ts')
  console.log(`\nreport: ${writeReport('inventory', await runInventoryBench())}`)
}
