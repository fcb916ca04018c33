import { randomUUID } from 'node:crypto'
import { and, eq, sql } from 'drizzle-orm'
import { openDatabase, openPostgres } from '../src/db/engine.ts'
import { runMigrations } from '../src/db/migrate.ts'
import { backupSets, graphWrites, inventoryItems, operationRuns, restorePlans } from '../src/db/schema.ts'
import { GraphClient } from '../src/graph/graph-client.ts'
import { BudgetRegistry } from '../src/graph/throttle-budget.ts'
import { createMsalTokenProvider } from '../src/graph/token-provider.ts'
import { startOperations } from '../src/jobs/runtime.ts'
import { SecretBox } from '../src/lib/crypto.ts'
import { uuidv7 } from '../src/lib/ids.ts'
import { createLogger } from '../src/lib/logger.ts'
import { startBackup } from '../src/modules/backups/commands.ts'
import { finishSet, pinObjects, type BackupObject } from '../src/modules/backups/store.ts'
import { contentHashOf } from '../src/modules/backups/zip-import.ts'
import { startInventorySync } from '../src/modules/inventory/start-sync.ts'
import { buildPlan } from '../src/modules/restore/plan.ts'
import { savePlan } from '../src/modules/restore/repository.ts'
import { addTenant } from '../src/modules/tenants/add-tenant.ts'
import { APP_KEY, control, sleep, spawnEmulator, stopEmulator, withFreshPostgres } from './lib.ts'

/**
 * Restore (issue 15's figures), on PostgreSQL:
 * - a restore of BENCH_RESTORE_OBJECTS (1,000) objects of mixed types (every object of the
 *   writable types deleted from an emulated tenant, then restored from a backup): wall time of the
 *   run against the write floor (the writes it needed ÷ the rate Intune allows; target ≤ 1.25×),
 *   and the 429s received. Time is scaled 10×: Intune's write limit of 100 per 20 s per app is
 *   100 per 2 s in the emulator and the client alike, and Graph's latency 50 ms is 5 ms;
 * - the plan build for a 10,000-object backup against a 10,000-object tenant, same tenant (by
 *   id) and across tenants (by name, with the mapping), target ≤ 5 s.
 */

const RESTORE_OBJECTS = Number(process.env.BENCH_RESTORE_OBJECTS ?? 1000)
const PLAN_OBJECTS = Number(process.env.BENCH_PLAN_OBJECTS ?? 10_000)
const SCALE = 10
const WINDOW_MS = 20_000 / SCALE
const WRITES_PER_WINDOW = 100
const round = (n: number) => Math.round(n * 100) / 100

async function waitRun(db: ReturnType<typeof openPostgres>['db'], runId: string) {
  for (;;) {
    const [row] = await db.select().from(operationRuns).where(eq(operationRuns.id, runId))
    if (row?.status === 'completed') return row
    await sleep(100)
  }
}

type RestoreOptions = {
  objects: number
  /** Lost answers: the share of applied writes whose response the emulator drops. */
  dropResponseRate?: number
  /** How late Intune's audit log lists an event (ms): an hour leaves every lost answer to the content check. */
  auditDelayMs?: number
}

async function restoreRun(url: string, options: RestoreOptions = { objects: RESTORE_OBJECTS }) {
  const objects = options.objects
  const emulator = await spawnEmulator()
  const handle = openPostgres(url, 6)
  await runMigrations(handle)
  const tokens = createMsalTokenProvider()
  const graph = new GraphClient({
    tokens,
    budgets: new BudgetRegistry({ reads: 1000, writes: WRITES_PER_WINDOW, windowMs: WINDOW_MS }),
  })
  const secrets = new SecretBox(Buffer.from(APP_KEY, 'base64'))
  const operations = await startOperations({
    handle,
    logger: createLogger('silent'),
    worker: true,
    shipped: { secrets, emulatorUrl: emulator.url, graph, tokens },
    timings: { pollingIntervalSeconds: 0.5 },
  })
  try {
    await control(emulator, 'PUT', '/faults', { throttle_window_ms: WINDOW_MS, latency_ms: 50 / SCALE })
    const secret = `bench-${randomUUID()}`
    const created = await control<{ tenant_id: string; client_id: string }>(emulator, 'POST', '/tenants', {
      seed: 'restore',
      policies: Math.round(objects * 1.6),
      client_id: randomUUID(),
      client_secret: secret,
    })
    const tenant = await addTenant(
      handle.db,
      secrets,
      { kind: 'system' },
      {
        name: 'Bench restore',
        entra_tenant_id: created.tenant_id,
        client_id: created.client_id,
        client_secret: secret,
        cloud: 'emulator',
      },
    )
    const sync = async () =>
      waitRun(
        handle.db,
        (
          await startInventorySync(operations.engine, {
            tenantId: tenant.id,
            selection: undefined,
            initiatorUserId: null,
            actor: { kind: 'system' },
          })
        ).run.id,
      )
    await sync()
    const { run: backupRun, backup } = await startBackup(operations.engine, handle.db, {
      tenantId: tenant.id,
      body: {},
      initiatorUserId: null,
      actor: { kind: 'system' },
    })
    await waitRun(handle.db, backupRun.id)
    // Every object of the writable types without a secret, mixed, until RESTORE_OBJECTS are deleted.
    const truth = (
      await control<{ objects: { type: string; id: string; content: Record<string, unknown> }[] }>(
        emulator,
        'GET',
        `/tenants/${created.tenant_id}/inventory?include=content`,
      )
    ).objects
    const FOUNDATIONS = ['roleScopeTag', 'assignmentFilter', 'notificationMessageTemplate']
    const victims = truth
      .filter(
        (o) =>
          o.type !== 'group' &&
          !FOUNDATIONS.includes(o.type) &&
          !['vppToken', 'depOnboardingSetting', 'mobileApp'].includes(o.type) &&
          !JSON.stringify(o.content).includes('****'),
      )
      .slice(0, objects)
    const byType: Record<string, number> = {}
    for (const v of victims) {
      await control(emulator, 'DELETE', `/tenants/${created.tenant_id}/items/${v.id}`)
      byType[v.type] = (byType[v.type] ?? 0) + 1
    }
    await sync()
    const built = await buildPlan(
      handle.db,
      { targetTenantId: tenant.id, sourceTenantId: tenant.id, backupId: backup.id, selection: null },
      () => Promise.resolve(new Set()),
    )
    const planId = uuidv7()
    await handle.db
      .insert(restorePlans)
      .values({ id: planId, targetTenantId: tenant.id, sourceTenantId: tenant.id, backupId: backup.id })
    await savePlan(handle.db, planId, built)
    const creates = built.items.filter((i) => i.action === 'create').length
    await control(emulator, 'DELETE', '/stats')
    if (options.dropResponseRate)
      await control(emulator, 'PUT', '/faults', {
        throttle_window_ms: WINDOW_MS,
        latency_ms: 50 / SCALE,
        drop_response_rate: options.dropResponseRate,
      })
    if (options.auditDelayMs)
      await control(emulator, 'PUT', `/tenants/${created.tenant_id}/faults`, { audit_delay_ms: options.auditDelayMs })
    const { run } = await operations.engine.startRun({
      tenantId: tenant.id,
      type: 'restore.execute',
      context: { plan_id: planId },
      initiatorUserId: null,
      actor: { kind: 'system' },
    })
    const done = await waitRun(handle.db, run.id)
    const stats = await control<{
      throttled: number
      graph_requests: number
      dropped: number
      by_kind: Record<string, number>
    }>(emulator, 'GET', '/stats')
    const writes = await handle.db
      .select({ n: sql<number>`count(*)::int` })
      .from(graphWrites)
      .where(and(eq(graphWrites.runId, run.id), eq(graphWrites.state, 'confirmed')))
    const writeCount = writes[0]!.n
    const { rows: failed } = await handle.db.execute<{
      target_type: string
      code: string
      message: string
      n: number
    }>(sql`
      SELECT target_type, code, min(message) AS message, count(*)::int AS n FROM operation_run_items WHERE run_id = ${run.id} AND status = 'failed' GROUP BY 1, 2 ORDER BY 4 DESC LIMIT 5`)
    for (const f of failed) console.log(`  failed: ${f.n} × ${f.target_type} ${f.code}: ${f.message}`)
    const wallS = (done.completedAt!.getTime() - done.startedAt!.getTime()) / 1000
    const floorS = writeCount / (WRITES_PER_WINDOW / (WINDOW_MS / 1000))
    const result = {
      objects_restored: creates,
      by_type: byType,
      outcome: done.outcome,
      failed: failed,
      writes: writeCount,
      graph_requests: stats.graph_requests,
      graph_writes_sent: stats.by_kind.write ?? 0,
      lost_answers: stats.dropped,
      wall_s: round(wallS),
      write_floor_s: round(floorS),
      wall_over_floor: round(wallS / floorS),
      throttled_429: stats.throttled,
      scale: `${SCALE}× (writes ${WRITES_PER_WINDOW} per ${WINDOW_MS} ms, latency ${50 / SCALE} ms)`,
    }
    console.log(
      `restore of ${creates} objects (${Object.keys(byType).length} types): ${writeCount} writes, wall ${result.wall_s} s vs write floor ${result.write_floor_s} s = ${result.wall_over_floor}× (target ≤ 1.25), 429s: ${stats.throttled}, outcome ${done.outcome}`,
    )
    return result
  } finally {
    await operations.stop()
    await handle.close()
    await stopEmulator(emulator)
  }
}

const policyOf = (i: number, variant: number): BackupObject => {
  const payload = {
    '@odata.type': '#microsoft.graph.windows10GeneralConfiguration',
    id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    displayName: `Policy ${i}`,
    description: 'Bench object '.repeat(8),
    passwordRequired: i % 2 === 0,
    passwordMinimumLength: 8 + ((i + variant) % 8),
    roleScopeTagIds: ['0', String(1 + (i % 5))],
  }
  const assignments = [
    {
      id: `${payload.id}_g`,
      target: {
        '@odata.type': '#microsoft.graph.groupAssignmentTarget',
        groupId: `10000000-0000-4000-8000-${String(i % 50).padStart(12, '0')}`,
        deviceAndAppManagementAssignmentFilterType: 'none',
      },
    },
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

/** A tenant's inventory as a sync leaves it (policies, scope tags, groups), written directly. */
async function seedInventory(
  db: ReturnType<typeof openPostgres>['db'],
  tenantId: string,
  objects: readonly BackupObject[],
) {
  const runId = uuidv7()
  const extras: BackupObject[] = [
    ...Array.from({ length: 5 }, (_, k) => ({
      policyType: 'roleScopeTag',
      externalId: String(k + 1),
      displayName: `Tag ${k + 1}`,
      contentHash: `tag${k}`,
      payload: { displayName: `Tag ${k + 1}` },
      assignments: [],
    })),
    ...Array.from({ length: 50 }, (_, k) => ({
      policyType: 'group',
      externalId: `10000000-0000-4000-8000-${String(k).padStart(12, '0')}`,
      displayName: `Group ${k}`,
      contentHash: `g${k}`,
      payload: { displayName: `Group ${k}` },
      assignments: [],
    })),
  ]
  const all = [...objects, ...extras]
  for (let i = 0; i < all.length; i += 1000) {
    await db.insert(inventoryItems).values(
      all.slice(i, i + 1000).map((o) => ({
        id: uuidv7(),
        tenantId,
        policyType: o.policyType,
        externalId: o.externalId,
        displayName: o.displayName,
        category: 'Configuration',
        platform: 'windows',
        payload: o.payload,
        assignments: o.assignments,
        contentHash: o.contentHash,
        firstSeenRunId: runId,
        lastSeenRunId: runId,
      })),
    )
  }
}

async function planBuild(url: string) {
  const handle = await openDatabase({ databaseUrl: url, dataDir: '/nonexistent', role: 'cli' })
  try {
    await runMigrations(handle)
    const secrets = new SecretBox(Buffer.from(APP_KEY, 'base64'))
    const tenant = (name: string) =>
      addTenant(
        handle.db,
        secrets,
        { kind: 'system' },
        { name, entra_tenant_id: randomUUID(), client_id: randomUUID(), client_secret: 's', cloud: 'emulator' },
      )
    const source = await tenant('Source')
    const other = await tenant('Other')
    // The backup: PLAN_OBJECTS policies. The tenants: the same objects, 10 % of them changed, 5 % gone.
    const backupObjects = Array.from({ length: PLAN_OBJECTS }, (_, i) => policyOf(i, 0))
    const current = backupObjects
      .filter((_, i) => i % 20 !== 0)
      .map((o, i) => (i % 10 === 0 ? policyOf(Number(o.externalId.slice(-12)), 1) : o))
    await seedInventory(handle.db, source.id, current)
    await seedInventory(
      handle.db,
      other.id,
      current.map((o) => ({ ...o, externalId: `x-${o.externalId}` })),
    )
    const backupId = uuidv7()
    await handle.db
      .insert(backupSets)
      .values({ id: backupId, tenantId: source.id, name: 'Bench', status: 'running', origin: 'created' })
    for (let i = 0; i < backupObjects.length; i += 2000)
      await pinObjects(handle.db, source.id, backupId, backupObjects.slice(i, i + 2000))
    await finishSet(handle.db, backupId, 'complete', {
      format: 'tenantatlas-backup',
      version: 1,
      name: 'Bench',
      source_tenant: { id: source.id, name: 'Source', entra_tenant_id: source.entraTenantId },
      created_at: new Date().toISOString(),
      initiator: { user_id: null, name: 'System' },
      origin: 'created',
      item_count: PLAN_OBJECTS,
      counts_by_type: { deviceConfiguration: PLAN_OBJECTS },
      missing: [],
    })
    const out: Record<string, unknown> = {}
    for (const [label, target] of [
      ['same_tenant', source],
      ['other_tenant', other],
    ] as const) {
      const times: number[] = []
      let counts: Record<string, number> = {}
      for (let k = 0; k < 3; k++) {
        const started = performance.now()
        const built = await buildPlan(
          handle.db,
          { targetTenantId: target.id, sourceTenantId: source.id, backupId, selection: null },
          () => Promise.resolve(new Set()),
        )
        const planId = uuidv7()
        await handle.db
          .insert(restorePlans)
          .values({ id: planId, targetTenantId: target.id, sourceTenantId: source.id, backupId })
        await savePlan(handle.db, planId, built)
        times.push(performance.now() - started)
        counts = {}
        for (const i of built.items) counts[i.action] = (counts[i.action] ?? 0) + 1
      }
      out[label] = { build_and_store_ms: times.map(Math.round), best_s: round(Math.min(...times) / 1000), counts }
      console.log(
        `plan build, ${PLAN_OBJECTS.toLocaleString('en')}-object backup against a ${current.length.toLocaleString('en')}-object tenant (${label.replace('_', ' ')}): ${times.map((t) => (t / 1000).toFixed(2)).join(' / ')} s (target ≤ 5 s); ${JSON.stringify(counts)}`,
      )
    }
    return out
  } finally {
    await handle.close()
  }
}

/**
 * The content check's cost (issue 21): the same restore (BENCH_CONTENT_OBJECTS, 300, objects:
 * creates and their assignments) without faults, then with 30 % of the answers lost and the audit
 * log an hour late, so every lost answer is settled by the content check. Extra Graph requests
 * per lost answer = (requests with faults − requests without) ÷ lost answers; of those, one is the
 * audit log query every settled write made before the check was mandatory, the rest the check's
 * reads. Writes sent must not grow: a lost answer is never sent again.
 */
async function contentCheckCost() {
  const objects = Number(process.env.BENCH_CONTENT_OBJECTS ?? 300)
  const clean = await withFreshPostgres((url) => restoreRun(url, { objects }))
  const lossy = await withFreshPostgres((url) =>
    restoreRun(url, { objects, dropResponseRate: 0.3, auditDelayMs: 3_600_000 }),
  )
  const extra = lossy.graph_requests - clean.graph_requests
  const perLost = lossy.lost_answers > 0 ? round(extra / lossy.lost_answers) : null
  const result = {
    objects,
    writes: lossy.writes,
    lost_answers: lossy.lost_answers,
    graph_requests_clean: clean.graph_requests,
    graph_requests_lossy: lossy.graph_requests,
    writes_sent_clean: clean.graph_writes_sent,
    writes_sent_lossy: lossy.graph_writes_sent,
    extra_requests_per_lost_answer: perLost,
    content_check_reads_per_lost_answer: perLost === null ? null : round(perLost - 1),
    extra_reads_per_write: round(extra / lossy.writes),
    wall_clean_s: clean.wall_s,
    wall_lossy_s: lossy.wall_s,
    outcome_lossy: lossy.outcome,
  }
  console.log(
    `content check: ${lossy.lost_answers} of ${lossy.writes} answers lost, ${extra} extra Graph requests = ${perLost} per lost answer (1 audit query + ${result.content_check_reads_per_lost_answer} reads), writes sent ${clean.graph_writes_sent} → ${lossy.graph_writes_sent}, wall ${clean.wall_s} s → ${lossy.wall_s} s, outcome ${lossy.outcome}`,
  )
  return result
}

export async function runRestoreBench(options: { contentCheckOnly?: boolean } = {}) {
  if (options.contentCheckOnly) return { content_check: await contentCheckCost() }
  const plan = await withFreshPostgres((url) => planBuild(url))
  const restore = await withFreshPostgres((url) => restoreRun(url))
  const content_check = await contentCheckCost()
  return { restore, plan, content_check }
}
