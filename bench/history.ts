import { createHash, randomUUID } from 'node:crypto'
import { sql } from 'drizzle-orm'
import { type DatabaseHandle, openPostgres } from '../src/db/engine.ts'
import { runMigrations } from '../src/db/migrate.ts'
import { startOperations } from '../src/jobs/runtime.ts'
import { SecretBox } from '../src/lib/crypto.ts'
import { createLogger } from '../src/lib/logger.ts'
import { listChanges } from '../src/modules/inventory/history.ts'
import { itemDiff } from '../src/modules/inventory/item-diff.ts'
import { APP_KEY, control, spawnEmulator, stopEmulator, withFreshPostgres } from './lib.ts'
import { connect, INTUNE_PER_S, LATENCY_MS, spawnWorker, stopWorker, sync } from './inventory.ts'

/**
 * Versions, diffs and the change history (issue 13's figures), on PostgreSQL:
 * - quick vs full sync: a 10,000-object tenant, 50 ms latency, Intune's default limits; a full
 *   sync fills the inventory, 1 % of the objects change (half by PATCH, half by a new
 *   description through the control API, each recorded in the audit log), then a quick sync;
 *   Graph requests and wall time of both;
 * - storage per version (content + version row + change entry, indexes included) after that;
 *   100 syncs with 1 % churn each computed from it;
 * - the diff of a settings catalog policy of 500 settings (50 changed), p95 of itemDiff();
 * - the first page (50) of the change history with BENCH_HISTORY_CHANGES (1,000,000) entries, p95.
 */

const OBJECTS = Number(process.env.BENCH_HISTORY_OBJECTS ?? 10_000)
const CHANGES = Number(process.env.BENCH_HISTORY_CHANGES ?? 1_000_000)
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 100)

const p = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! * 100) / 100
}

async function timed(samples: number, work: () => Promise<unknown>) {
  const times: number[] = []
  for (let i = 0; i < samples + 5; i++) {
    const started = performance.now()
    await work()
    if (i >= 5) times.push(performance.now() - started)
  }
  return { p50_ms: p(times, 0.5), p95_ms: p(times, 0.95) }
}

async function quickVsFull(url: string) {
  const emulator = await spawnEmulator()
  const worker = await spawnWorker({ BENCH_DATABASE: url, BENCH_EMULATOR_URL: emulator.url, BENCH_BUDGET_SCALE: '1' })
  const handle = openPostgres(url, 4)
  const operations = await startOperations({
    handle,
    logger: createLogger('silent'),
    worker: false,
    shipped: { secrets: new SecretBox(Buffer.from(APP_KEY, 'base64')), emulatorUrl: emulator.url },
  })
  try {
    const created = await connect(handle, emulator, OBJECTS)
    const { tenantId } = created
    await control(emulator, 'PUT', '/faults', { latency_ms: LATENCY_MS })
    const full = await sync(handle, operations, emulator, tenantId, INTUNE_PER_S)
    const { rows: entra } = await handle.db.execute<{ entra_tenant_id: string }>(
      sql`SELECT entra_tenant_id FROM tenants WHERE id = ${tenantId}`,
    )
    const { rows: policies } = await handle.db.execute<{ external_id: string }>(sql`
      SELECT external_id FROM inventory_items WHERE tenant_id = ${tenantId} AND policy_type <> 'group' AND removed_at IS NULL ORDER BY md5(external_id) LIMIT ${Math.round(created.truth / 100)}`)
    for (const [n, row] of policies.entries()) {
      await control(
        emulator,
        'PATCH',
        `/tenants/${entra[0]!.entra_tenant_id}/items/${row.external_id}`,
        n % 2 === 0
          ? { description: `bench change ${n}` }
          : { displayName: `Bench renamed ${n}`, actor: { app_name: 'Bench automation' } },
      )
    }
    const quick = await sync(handle, operations, emulator, tenantId, INTUNE_PER_S, { mode: 'quick' })
    const storage = await storageOf(handle, tenantId)
    return {
      objects: created.truth,
      changed: policies.length,
      full,
      quick,
      requests_share: Math.round((quick.graph_requests / full.graph_requests) * 1000) / 10,
      storage,
    }
  } finally {
    await control(emulator, 'PUT', '/faults', {})
    await operations.stop()
    await handle.close()
    await stopWorker(worker)
    await stopEmulator(emulator)
  }
}

async function storageOf(handle: DatabaseHandle, tenantId: string) {
  await handle.db.execute(sql`VACUUM ANALYZE inventory_contents`)
  const { rows } = await handle.db.execute<{ versions: number; items: number; bytes: string }>(sql`
    SELECT (SELECT count(*)::int FROM inventory_versions WHERE tenant_id = ${tenantId}) AS versions,
      (SELECT count(*)::int FROM inventory_items WHERE tenant_id = ${tenantId}) AS items,
      (pg_total_relation_size('inventory_contents') + pg_total_relation_size('inventory_versions') + pg_total_relation_size('inventory_changes'))::text AS bytes`)
  const r = rows[0]!
  const perVersion = Number(r.bytes) / r.versions
  return {
    versions: r.versions,
    history_bytes: Number(r.bytes),
    bytes_per_version: Math.round(perVersion),
    // 100 syncs, each changing 1 % of the items: one version and one change entry per changed item.
    hundred_syncs_1pct_churn_mib: Math.round((perVersion * r.items * 0.01 * 100) / 1024 / 102.4) / 10,
  }
}

/** A settings catalog policy of 500 settings in two versions (50 values changed), diffed. */
async function diffBench(handle: DatabaseHandle) {
  const { rows } = await handle.db.execute<{ id: string }>(
    sql`INSERT INTO tenants (id, name, entra_tenant_id, client_id, client_secret_encrypted, cloud) VALUES (${randomUUID()}, 'Diff bench', ${randomUUID()}, ${randomUUID()}, 'unused', 'emulator') RETURNING id`,
  )
  const tenantId = rows[0]!.id
  const itemId = randomUUID()
  const settings = (changed: boolean) =>
    Array.from({ length: 500 }, (_, i) => ({
      id: String(i),
      settingInstance:
        i % 2 === 0
          ? {
              '@odata.type': '#microsoft.graph.deviceManagementConfigurationChoiceSettingInstance',
              settingDefinitionId: `device_vendor_msft_policy_config_setting_${i}`,
              choiceSettingValue: {
                value: `device_vendor_msft_policy_config_setting_${i}_${changed && i % 20 === 0 ? 0 : 1}`,
                children: [],
              },
            }
          : {
              '@odata.type': '#microsoft.graph.deviceManagementConfigurationSimpleSettingInstance',
              settingDefinitionId: `device_vendor_msft_policy_config_value_${i}`,
              simpleSettingValue: { value: changed && i % 20 === 1 ? i + 1 : i },
            },
    }))
  const contents = [false, true].map((changed) => {
    const payload = { displayName: 'Big policy', settings: settings(changed) }
    return { payload, hash: createHash('sha256').update(JSON.stringify(payload)).digest('hex') }
  })
  const runId = randomUUID()
  await handle.db.execute(sql`
    INSERT INTO inventory_items (id, tenant_id, policy_type, external_id, display_name, category, platform, payload, content_hash, first_seen_run_id, last_seen_run_id)
    VALUES (${itemId}, ${tenantId}, 'settingsCatalogPolicy', 'big', 'Big policy', 'Configuration', 'windows', ${JSON.stringify(contents[1]!.payload)}::jsonb, ${contents[1]!.hash}, ${runId}, ${runId})`)
  for (const [n, c] of contents.entries()) {
    await handle.db.execute(
      sql`INSERT INTO inventory_contents (tenant_id, content_hash, payload, assignments) VALUES (${tenantId}, ${c.hash}, ${JSON.stringify(c.payload)}::jsonb, '[]')`,
    )
    await handle.db.execute(
      sql`INSERT INTO inventory_versions (id, tenant_id, item_id, number, content_hash, run_id) VALUES (${randomUUID()}, ${tenantId}, ${itemId}, ${n + 1}, ${c.hash}, ${runId})`,
    )
  }
  await handle.db.execute(sql`
    INSERT INTO setting_definitions (tenant_id, id, display_name, options)
    SELECT ${tenantId}, 'device_vendor_msft_policy_config_setting_' || i, 'Setting ' || i,
      jsonb_build_object('device_vendor_msft_policy_config_setting_' || i || '_0', 'Not allowed', 'device_vendor_msft_policy_config_setting_' || i || '_1', 'Allowed')
    FROM generate_series(0, 499) AS i`)
  let changes = 0
  const timing = await timed(SAMPLES, async () => {
    changes = (await itemDiff(handle.db, tenantId, itemId, {})).changes.length
  })
  return { settings: 500, changes, ...timing }
}

/** The change history's first page with many entries in the database (one tenant holds them all). */
async function feedBench(handle: DatabaseHandle) {
  const { rows } = await handle.db.execute<{ id: string }>(
    sql`INSERT INTO tenants (id, name, entra_tenant_id, client_id, client_secret_encrypted, cloud) VALUES (${randomUUID()}, 'Feed bench', ${randomUUID()}, ${randomUUID()}, 'unused', 'emulator') RETURNING id`,
  )
  const tenantId = rows[0]!.id
  const itemId = randomUUID()
  const runId = randomUUID()
  await handle.db.execute(sql`
    INSERT INTO inventory_items (id, tenant_id, policy_type, external_id, display_name, category, platform, payload, content_hash, first_seen_run_id, last_seen_run_id)
    VALUES (${itemId}, ${tenantId}, 'deviceConfiguration', 'feed', 'Feed item', 'Configuration', 'windows', '{}', 'h', ${runId}, ${runId})`)
  const started = performance.now()
  await handle.db.execute(sql`
    INSERT INTO inventory_changes (id, tenant_id, item_id, policy_type, display_name, kind, detected_at, run_id)
    SELECT gen_random_uuid(), ${tenantId}, ${itemId}, (ARRAY['deviceConfiguration','mobileApp','deviceCompliancePolicy'])[1 + i % 3], 'Item ' || i,
      (ARRAY['created','updated','removed','restored'])[1 + i % 4], now() - (i || ' seconds')::interval, ${runId}
    FROM generate_series(1, ${CHANGES}) AS i`)
  await handle.db.execute(sql`ANALYZE inventory_changes`)
  const loadS = Math.round((performance.now() - started) / 100) / 10
  const first = await timed(SAMPLES, () => listChanges(handle.db, tenantId, {}, { cursor: undefined, limit: 51 }))
  const filtered = await timed(SAMPLES, () =>
    listChanges(handle.db, tenantId, { type: 'mobileApp', kind: 'updated' }, { cursor: undefined, limit: 51 }),
  )
  return { entries: CHANGES, load_s: loadS, first_page: first, first_page_type_and_kind: filtered }
}

export async function runHistoryBench() {
  return withFreshPostgres(async (url) => {
    const handle = openPostgres(url, 4)
    try {
      await runMigrations(handle)
      const diff = await diffBench(handle)
      const feed = await feedBench(handle)
      const sync = await quickVsFull(url)
      return { sync, diff, feed }
    } finally {
      await handle.close()
    }
  })
}

export function printHistory(r: Awaited<ReturnType<typeof runHistoryBench>>) {
  const s = r.sync
  console.log(
    `\nQuick vs full sync: ${s.objects} objects, ${LATENCY_MS} ms latency, Intune's default limits, ${s.changed} objects (1 %) changed`,
  )
  console.log(`  full sync:  ${s.full.graph_requests} Graph requests, ${s.full.wall_s} s`)
  console.log(
    `  quick sync: ${s.quick.graph_requests} Graph requests (${s.requests_share} % of the full sync's; target ≤ 10 %), ${s.quick.wall_s} s (target ≤ 20 s); counts ${JSON.stringify(s.quick.counts)}`,
  )
  console.log(
    `  quick sync requests by kind: ${JSON.stringify(s.quick.requests_by_kind)} (batch: the $batch HTTP requests whose members are counted by kind)`,
  )
  console.log(
    `Storage: ${s.storage.bytes_per_version} bytes per version (content, version row, change entry, indexes); 100 syncs with 1 % churn: ${s.storage.hundred_syncs_1pct_churn_mib} MiB`,
  )
  console.log(
    `Diff of a settings catalog policy of ${r.diff.settings} settings (${r.diff.changes} changes): p50 ${r.diff.p50_ms} ms, p95 ${r.diff.p95_ms} ms (target ≤ 50 ms)`,
  )
  console.log(
    `Change history, first page with ${r.feed.entries.toLocaleString('en')} entries: p50 ${r.feed.first_page.p50_ms} ms, p95 ${r.feed.first_page.p95_ms} ms (target ≤ 30 ms); by type and kind p95 ${r.feed.first_page_type_and_kind.p95_ms} ms`,
  )
}
