import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { eq, sql } from 'drizzle-orm'
import { type DatabaseHandle, openDatabase, openPostgres } from '../src/db/engine.ts'
import { runMigrations } from '../src/db/migrate.ts'
import { backupSets, operationRuns } from '../src/db/schema.ts'
import { startOperations } from '../src/jobs/runtime.ts'
import { SecretBox } from '../src/lib/crypto.ts'
import { uuidv7 } from '../src/lib/ids.ts'
import { createLogger } from '../src/lib/logger.ts'
import { startBackup } from '../src/modules/backups/commands.ts'
import { finishSet, pinObjects, type BackupObject } from '../src/modules/backups/store.ts'
import { contentHashOf } from '../src/modules/backups/zip-import.ts'
import { startInventorySync } from '../src/modules/inventory/start-sync.ts'
import { addTenant } from '../src/modules/tenants/add-tenant.ts'
import { connect, LATENCY_MS, spawnWorker, stopWorker } from './inventory.ts'
import { APP_KEY, control, sleep, spawnEmulator, stopEmulator, withFreshPostgres } from './lib.ts'

/**
 * Backup sets (issue 14's figures):
 * - beside a full sync: a 10,000-object emulated tenant (BENCH_BACKUP_TENANT_OBJECTS), 50 ms
 *   latency, Intune's default limits, one worker process with one Graph budget per tenant. A full
 *   sync alone, then a backup alone (wall time, Graph requests, rows and bytes it adds), then a
 *   full sync and a backup started together (the wall time of each);
 * - ZIPs: a set of N objects (payloads shaped like device configurations, about 1.5 KB of JSON
 *   each) exported with the writer issue 14 first shipped (yazl, bench/backups-yazl-export.ts;
 *   stopped after BENCH_BACKUP_YAZL_LIMIT_S, 600 s) and with the shipped one (zip-stream), then the
 *   shipped ZIP imported into another tenant, each step in its own process: wall time, ZIP size and
 *   peak RSS at 10,000 and 100,000 objects (BENCH_BACKUP_SIZES). The target is memory flat in the
 *   object count. `npm run bench -- backups` runs both; `backups-zip` only the ZIPs.
 */
const SIZES = (process.env.BENCH_BACKUP_SIZES ?? '10000,100000').split(',').map(Number)
const TENANT_OBJECTS = Number(process.env.BENCH_BACKUP_TENANT_OBJECTS ?? 10_000)
const YAZL_LIMIT_S = Number(process.env.BENCH_BACKUP_YAZL_LIMIT_S ?? 600)

const objectOf = (i: number): BackupObject => {
  const payload = {
    '@odata.type': '#microsoft.graph.windows10GeneralConfiguration',
    id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    displayName: `Policy ${i % 500}`,
    description: 'Bench object '.repeat(8),
    passwordRequired: i % 2 === 0,
    passwordMinimumLength: 8 + (i % 8),
    settings: Array.from({ length: 12 }, (_, k) => ({
      name: `setting${k}`,
      value: `value-${(i + k) % 97}`,
      enabled: k % 3 === 0,
    })),
    roleScopeTagIds: ['0'],
  }
  const assignments = [
    { target: { '@odata.type': '#microsoft.graph.groupAssignmentTarget', groupId: `group-${i % 50}` } },
  ]
  return {
    policyType: 'deviceConfiguration',
    externalId: payload.id,
    displayName: payload.displayName,
    contentHash: contentHashOf(payload, assignments),
    payload,
    assignments,
  }
}

type ChildResult = { ms: number; peak_rss_mib: number; baseline_rss_mib: number } | { stopped_after_s: number }

/** A measured step in its own process, with the server's V8 flags (package.json `start`); stopped after `limitS`. */
const child = (args: string[], limitS = 3600): ChildResult => {
  try {
    const out = execFileSync(
      process.execPath,
      ['--max-semi-space-size=8', path.resolve('bench/backups-child.ts'), ...args],
      { encoding: 'utf8', timeout: limitS * 1000, killSignal: 'SIGKILL' },
    )
    return JSON.parse(out.trim().split('\n').at(-1)!) as ChildResult
  } catch (error) {
    if ((error as { signal?: string }).signal === 'SIGKILL') return { stopped_after_s: limitS }
    throw error
  }
}
const describe = (r: ChildResult) =>
  'stopped_after_s' in r
    ? `stopped after ${r.stopped_after_s} s`
    : `${(r.ms / 1000).toFixed(1)} s, peak RSS ${r.peak_rss_mib} MiB (baseline ${r.baseline_rss_mib})`

export async function runBackupsBench(options: { zipOnly?: boolean } = {}) {
  const beside = options.zipOnly ? null : await withFreshPostgres(besideSync)
  const zips = await zipBench()
  return { beside, zips }
}

async function zipBench() {
  const results: Record<string, unknown>[] = []
  for (const size of SIZES) {
    await withFreshPostgres(async (url) => {
      const handle = await openDatabase({ databaseUrl: url, dataDir: '/nonexistent', role: 'cli' })
      const dir = mkdtempSync(path.join(tmpdir(), 'ta-bench-backups-'))
      try {
        await runMigrations(handle)
        const source = await addTenant(
          handle.db,
          new SecretBox(Buffer.from(APP_KEY, 'base64')),
          { kind: 'system' },
          {
            name: 'Source',
            entra_tenant_id: crypto.randomUUID(),
            client_id: crypto.randomUUID(),
            client_secret: 's',
            cloud: 'emulator',
          },
        )
        const target = await addTenant(
          handle.db,
          new SecretBox(Buffer.from(APP_KEY, 'base64')),
          { kind: 'system' },
          {
            name: 'Target',
            entra_tenant_id: crypto.randomUUID(),
            client_id: crypto.randomUUID(),
            client_secret: 's',
            cloud: 'emulator',
          },
        )
        const id = uuidv7()
        await handle.db
          .insert(backupSets)
          .values({ id, tenantId: source.id, name: `Bench ${size}`, status: 'running', origin: 'created' })
        for (let i = 0; i < size; i += 2000)
          await pinObjects(
            handle.db,
            source.id,
            id,
            Array.from({ length: Math.min(2000, size - i) }, (_, k) => objectOf(i + k)),
          )
        await finishSet(handle.db, id, 'complete', {
          format: 'tenantatlas-backup',
          version: 1,
          name: `Bench ${size}`,
          source_tenant: { id: source.id, name: 'Source', entra_tenant_id: source.entraTenantId },
          created_at: new Date().toISOString(),
          initiator: { user_id: null, name: 'System' },
          origin: 'created',
          item_count: size,
          counts_by_type: { deviceConfiguration: size },
          missing: [],
        })
        await handle.db.execute(sql`VACUUM ANALYZE backup_set_items`)
        const before = child(['export-yazl', url, id, path.join(dir, 'yazl.zip')], YAZL_LIMIT_S)
        const yazlBytes = 'ms' in before ? statSync(path.join(dir, 'yazl.zip')).size : null
        const file = path.join(dir, 'backup.zip')
        const exported = child(['export', url, id, file])
        const zipBytes = statSync(file).size
        const imported = child(['import', url, target.id, file])
        const { rows } = await handle.db.execute<{ n: number }>(
          sql`SELECT count(*)::int AS n FROM backup_set_items i JOIN backup_sets s ON s.id = i.backup_id WHERE s.tenant_id = ${target.id}`,
        )
        if (rows[0]!.n !== size) throw new Error(`imported ${rows[0]!.n} of ${size} objects`)
        results.push({
          objects: size,
          zip_mib: Math.round(zipBytes / 104857.6) / 10,
          yazl_zip_mib: yazlBytes === null ? null : Math.round(yazlBytes / 104857.6) / 10,
          export_before_yazl: before,
          export: exported,
          import: imported,
        })
        console.log(`backup ZIP, ${size.toLocaleString('en')} objects: ${(zipBytes / 1048576).toFixed(1)} MiB`)
        console.log(`  export before (yazl):      ${describe(before)}`)
        console.log(`  export after (zip-stream): ${describe(exported)}`)
        console.log(`  import (yauzl):            ${describe(imported)}`)
      } finally {
        await handle.close()
        rmSync(dir, { recursive: true, force: true })
      }
    })
  }
  return { results }
}

type Footprint = { sets: number; set_items: number; contents: number; bytes: number }

/** Rows of the backup tables and the content store, and their size on disk (indexes and TOAST included). */
async function footprint(handle: DatabaseHandle): Promise<Footprint> {
  await handle.db.execute(sql`VACUUM ANALYZE backup_sets, backup_set_items, inventory_contents`)
  const { rows } = await handle.db.execute<{ sets: number; set_items: number; contents: number; bytes: string }>(sql`
    SELECT (SELECT count(*)::int FROM backup_sets) AS sets, (SELECT count(*)::int FROM backup_set_items) AS set_items,
      (SELECT count(*)::int FROM inventory_contents) AS contents,
      (pg_total_relation_size('backup_sets') + pg_total_relation_size('backup_set_items') + pg_total_relation_size('inventory_contents'))::text AS bytes`)
  const r = rows[0]!
  return { sets: r.sets, set_items: r.set_items, contents: r.contents, bytes: Number(r.bytes) }
}

const delta = (a: Footprint, b: Footprint) => ({
  sets: b.sets - a.sets,
  set_items: b.set_items - a.set_items,
  contents: b.contents - a.contents,
  bytes: b.bytes - a.bytes,
})

async function waitFor(handle: DatabaseHandle, runId: string) {
  for (;;) {
    const [row] = await handle.db.select().from(operationRuns).where(eq(operationRuns.id, runId))
    if (row?.status === 'completed')
      return {
        outcome: row.outcome,
        wall_s: Math.round((row.completedAt!.getTime() - row.startedAt!.getTime()) / 100) / 10,
        started_at: row.startedAt!,
        completed_at: row.completedAt!,
      }
    await sleep(250)
  }
}

async function besideSync(url: string) {
  const emulator = await spawnEmulator()
  const worker = await spawnWorker({ BENCH_DATABASE: url, BENCH_EMULATOR_URL: emulator.url, BENCH_BUDGET_SCALE: '1' })
  const handle = openPostgres(url, 4)
  const operations = await startOperations({
    handle,
    logger: createLogger('silent'),
    worker: false,
    shipped: { secrets: new SecretBox(Buffer.from(APP_KEY, 'base64')), emulatorUrl: emulator.url },
  })
  const system = { initiatorUserId: null, actor: { kind: 'system' as const } }
  const requests = async () => await control<{ graph_requests: number; throttled: number }>(emulator, 'GET', '/stats')
  try {
    const { tenantId, truth } = await connect(handle, emulator, TENANT_OBJECTS)
    await control(emulator, 'PUT', '/faults', { latency_ms: LATENCY_MS })
    // 1. A full sync alone (it fills the inventory and its content store).
    await control(emulator, 'DELETE', '/stats')
    const sync = await waitFor(
      handle,
      (await startInventorySync(operations.engine, { tenantId, selection: undefined, ...system })).run.id,
    )
    const syncStats = await requests()
    // 2. A backup of everything alone: what it reads, and what it adds to the database.
    const before = await footprint(handle)
    await control(emulator, 'DELETE', '/stats')
    const started = await startBackup(operations.engine, handle.db, { tenantId, body: {}, ...system })
    const backup = await waitFor(handle, started.run.id)
    const backupStats = await requests()
    const added = delta(before, await footprint(handle))
    const [set] = await handle.db.select().from(backupSets).where(eq(backupSets.id, started.backup.id))
    // 3. A full sync and a backup started together.
    await control(emulator, 'DELETE', '/stats')
    const t0 = Date.now()
    const syncRun = await startInventorySync(operations.engine, { tenantId, selection: undefined, ...system })
    const backupRun = await startBackup(operations.engine, handle.db, { tenantId, body: {}, ...system })
    const [syncTogether, backupTogether] = await Promise.all([
      waitFor(handle, syncRun.run.id),
      waitFor(handle, backupRun.run.id),
    ])
    const togetherStats = await requests()
    const both =
      Math.round((Math.max(syncTogether.completed_at.getTime(), backupTogether.completed_at.getTime()) - t0) / 100) / 10
    const result = {
      objects: truth,
      latency_ms: LATENCY_MS,
      sync_alone: {
        outcome: sync.outcome,
        wall_s: sync.wall_s,
        graph_requests: syncStats.graph_requests,
        throttled: syncStats.throttled,
      },
      backup_alone: {
        outcome: backup.outcome,
        wall_s: backup.wall_s,
        graph_requests: backupStats.graph_requests,
        throttled: backupStats.throttled,
        objects: set?.itemCount,
        added,
      },
      together: {
        sync: { outcome: syncTogether.outcome, wall_s: syncTogether.wall_s },
        backup: { outcome: backupTogether.outcome, wall_s: backupTogether.wall_s },
        both_done_s: both,
        graph_requests: togetherStats.graph_requests,
        throttled: togetherStats.throttled,
      },
    }
    console.log(`backup beside a full sync, ${truth.toLocaleString('en')}-object tenant, ${LATENCY_MS} ms latency:`)
    console.log(
      `  full sync alone: ${sync.wall_s} s, ${syncStats.graph_requests} Graph requests (${syncStats.throttled} 429s)`,
    )
    console.log(
      `  backup alone:    ${backup.wall_s} s, ${backupStats.graph_requests} Graph requests (${backupStats.throttled} 429s), ${set?.itemCount} objects; adds ${added.sets} set, ${added.set_items} item rows, ${added.contents} content rows, ${(added.bytes / 1048576).toFixed(1)} MiB`,
    )
    console.log(
      `  together:        sync ${syncTogether.wall_s} s, backup ${backupTogether.wall_s} s, both done after ${both} s (${togetherStats.graph_requests} requests, ${togetherStats.throttled} 429s)`,
    )
    return result
  } finally {
    await control(emulator, 'PUT', '/faults', {})
    await operations.stop()
    await handle.close()
    await stopWorker(worker)
    await stopEmulator(emulator)
  }
}
