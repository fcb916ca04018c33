import { randomUUID } from 'node:crypto'
import { and, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  auditEvents,
  backupRetention,
  backupSets,
  inventoryContents,
  inventoryItems,
  inventoryVersions,
  operationRuns,
  restorePlans,
  schedules,
} from '../src/db/schema.ts'
import { uuidv7 } from '../src/lib/ids.ts'
import { createLogger } from '../src/lib/logger.ts'
import { createApiToken } from '../src/modules/access/api-tokens.ts'
import { createPruneHandler } from '../src/modules/backups/prune.ts'
import { exportBackupZip } from '../src/modules/backups/zip-export.ts'
import { contentHashOf } from '../src/modules/backups/zip-import.ts'
import { createCatalog } from '../src/modules/operations/catalog.ts'
import { finishRun } from '../src/modules/operations/finish-run.ts'
import { Scheduler } from '../src/modules/schedules/scheduler.ts'
import { shippedCatalog } from '../src/operation-types.ts'
import { seedBackupSet } from './backups/seed.ts'
import { unzip, zipOf } from './backups/zip-helpers.ts'
import { bulkNoopHandlers } from './bulk/noop-handlers.ts'
import { createTestContext, errorOf, type TestContext } from './harness.ts'
import { testCatalog, testHandlers } from './operations/fixtures.ts'

/**
 * Issue 22, items 1–7: each reproduces what a hostile tester with an account in two tenants found.
 * No worker: runs stay queued, and what a start would write is read from the database.
 */
const catalog = createCatalog({ ...testCatalog.specs, ...shippedCatalog.specs })
const handlers = {
  ...testHandlers,
  'inventory.sync': async () => {},
  'backup.create': async () => {},
  'backup.prune': async () => {},
  'restore.execute': async () => {},
  'compare.run': async () => {},
  'docs.export': async () => {},
  'drift.evaluate': async () => {},
  ...bulkNoopHandlers,
}

let ctx: TestContext
type Person = { user: { id: string; email: string }; token: string }
let x: Person
let owner: Person
let a: string
let b: string

beforeAll(async () => {
  ctx = await createTestContext({ catalog, handlers, worker: false })
  a = (await ctx.factories.tenant({ name: 'Tenant A' })).id
  b = (await ctx.factories.tenant({ name: 'Tenant B' })).id
  x = await ctx.factories.userWithToken()
  owner = await ctx.factories.userWithToken()
  await ctx.factories.member(a, x.user, 'readonly')
  await ctx.factories.member(b, x.user, 'owner')
  await ctx.factories.member(a, owner.user, 'owner')
  await ctx.factories.member(b, owner.user, 'owner')
})
afterAll(() => ctx.close())

/** An inventory item of the tenant with one version. */
async function itemWithVersion(tenantId: string) {
  const { run } = await ctx.engine.startRun({
    tenantId,
    type: 'test.noop',
    context: { seed: randomUUID() },
    initiatorUserId: null,
    actor: { kind: 'system' },
  })
  const payload = { displayName: 'Policy', value: 1 }
  const hash = contentHashOf(payload, [])
  await ctx.db
    .insert(inventoryContents)
    .values({ tenantId, contentHash: hash, payload, assignments: [] })
    .onConflictDoNothing()
  const itemId = uuidv7()
  await ctx.db.insert(inventoryItems).values({
    id: itemId,
    tenantId,
    policyType: 'deviceConfiguration',
    externalId: randomUUID(),
    displayName: 'Policy',
    category: 'Configuration',
    platform: 'windows',
    payload,
    contentHash: hash,
    firstSeenRunId: run.id,
    lastSeenRunId: run.id,
  })
  const versionId = uuidv7()
  await ctx.db
    .insert(inventoryVersions)
    .values({ id: versionId, tenantId, itemId, number: 1, contentHash: hash, runId: run.id })
  return { itemId, versionId }
}

const setsOf = async (tenantId: string) => ctx.db.select().from(backupSets).where(eq(backupSets.tenantId, tenantId))

async function completedRun(tenantId: string, type: 'backup.prune' | 'backup.create', initiatorUserId: string) {
  const context = type === 'backup.create' ? { name: null, selection: null, item_ids: [randomUUID()] } : {}
  const { run } = await ctx.engine.startRun({ tenantId, type, context, initiatorUserId, actor: { kind: 'system' } })
  await ctx.db.transaction((tx) =>
    finishRun(tx, catalog, { runId: run.id, from: ['queued'], outcome: 'succeeded', actor: { kind: 'system' } }),
  )
  return run.id
}

describe('item 1: a readonly member never writes into a tenant through another', () => {
  it('keeps a version restore’s snapshot in the target tenant, and both backup lists answer', async () => {
    const { versionId } = await itemWithVersion(a)
    const before = (await setsOf(a)).length
    const response = await ctx.request({
      method: 'POST',
      url: `/api/tenants/${b}/restore-plans`,
      payload: { version_id: versionId },
      token: x.token,
    })
    expect(response.statusCode, response.body).toBe(201)
    expect((await setsOf(a)).length).toBe(before)
    const plan = JSON.parse(response.body) as { id: string }
    const [row] = await ctx.db.select().from(restorePlans).where(eq(restorePlans.id, plan.id))
    const [set] = await ctx.db.select().from(backupSets).where(eq(backupSets.id, row!.backupId))
    expect(set!.tenantId).toBe(b)
    for (const tenantId of [a, b]) {
      const list = await ctx.request({ method: 'GET', url: `/api/tenants/${tenantId}/backups`, token: owner.token })
      expect(list.statusCode, list.body).toBe(200)
    }
    const one = await ctx.request({ method: 'GET', url: `/api/tenants/${b}/backups/${set!.id}`, token: owner.token })
    expect(one.statusCode, one.body).toBe(200)
  })
})

describe('item 2: token scopes hold on re-run and schedules', () => {
  it('refuses a re-run of a type the token may not start', async () => {
    const scoped = (
      await createApiToken(ctx.db, { kind: 'system' }, owner.user.id, {
        name: 'ops',
        scope: 'tenant.view,operations.manage',
      })
    ).secret
    for (const type of ['backup.prune', 'backup.create'] as const) {
      const runId = await completedRun(a, type, owner.user.id)
      const response = await ctx.request({
        method: 'POST',
        url: `/api/tenants/${a}/operation-runs/${runId}/rerun`,
        token: scoped,
      })
      expect(response.statusCode, `${type}: ${response.body}`).toBe(403)
      expect(errorOf(response.body).message).toMatch(/backups\.manage/)
    }
  })

  it('refuses a schedule of a type the token may not start', async () => {
    const scoped = (
      await createApiToken(ctx.db, { kind: 'system' }, owner.user.id, {
        name: 'sched',
        scope: 'tenant.view,schedules.manage',
      })
    ).secret
    const inputs: Record<string, unknown> = { 'backup.prune': {}, 'backup.create': {}, 'inventory.sync': {} }
    for (const [type, input] of Object.entries(inputs)) {
      const payload = { name: `S ${type}`, operation_type: type, input, cron: '0 2 * * *' }
      const response = await ctx.request({ method: 'POST', url: `/api/tenants/${a}/schedules`, payload, token: scoped })
      expect(response.statusCode, `${type}: ${response.body}`).toBe(403)
    }
  })

  it('does not fire a schedule whose creator lost the capability, and says why on the schedule', async () => {
    const tenantId = (await ctx.factories.tenant()).id
    const creator = await ctx.factories.userWithToken()
    await ctx.factories.member(tenantId, creator.user, 'owner')
    const created = await ctx.request({
      method: 'POST',
      url: `/api/tenants/${tenantId}/schedules`,
      token: creator.token,
      payload: { name: 'Nightly prune', operation_type: 'backup.prune', input: {}, cron: '0 2 * * *' },
    })
    expect(created.statusCode, created.body).toBe(201)
    const id = (JSON.parse(created.body) as { id: string }).id
    await ctx.factories.member(tenantId, creator.user, 'readonly')
    const due = new Date(Date.now() + 2 * 86_400_000)
    const scheduler = new Scheduler(ctx.db, ctx.engine, createLogger('silent'), { now: () => due })
    await scheduler.tick()
    const runs = await ctx.db
      .select()
      .from(operationRuns)
      .where(and(eq(operationRuns.tenantId, tenantId), eq(operationRuns.scheduleId, id)))
    expect(runs).toEqual([])
    const shown = await ctx.request({ method: 'GET', url: `/api/tenants/${tenantId}/schedules`, token: owner.token })
    expect(shown.statusCode).toBe(404) // owner is not a member of this tenant
    const [row] = await ctx.db.select().from(schedules).where(eq(schedules.id, id))
    expect(row!.blockedReason).toMatch(/backups\.manage/)
  })
})

describe('item 3: a plan carries its source tenant’s rights', () => {
  it('answers 404 to a target owner who cannot see the source, and to a readonly member of the target', async () => {
    const source = (await ctx.factories.tenant()).id
    const target = (await ctx.factories.tenant()).id
    await ctx.factories.member(source, owner.user, 'owner')
    const targetOwner = await ctx.factories.userWithToken()
    const reader = await ctx.factories.userWithToken()
    await ctx.factories.member(target, targetOwner.user, 'owner')
    await ctx.factories.member(target, owner.user, 'owner')
    await ctx.factories.member(target, reader.user, 'readonly')
    const set = await seedBackupSet(ctx.db, source, [
      { policyType: 'deviceConfiguration', externalId: 'o-1', displayName: 'O 1', payload: { a: 1 }, assignments: [] },
    ])
    const created = await ctx.request({
      method: 'POST',
      url: `/api/tenants/${target}/restore-plans`,
      payload: { backup_id: set.id },
      token: owner.token,
    })
    expect(created.statusCode, created.body).toBe(201)
    const planUrl = `/api/tenants/${target}/restore-plans/${(JSON.parse(created.body) as { id: string }).id}`
    for (const [method, url, payload] of [
      ['GET', planUrl],
      ['PATCH', planUrl, { refresh: true }],
      ['POST', `${planUrl}/execute`],
    ] as const) {
      const response = await ctx.request({ method, url, payload, token: targetOwner.token })
      expect(response.statusCode, `${method} ${url}`).toBe(404)
    }
    expect((await ctx.request({ method: 'GET', url: planUrl, token: reader.token })).statusCode).toBe(404)
    expect((await ctx.request({ method: 'GET', url: planUrl, token: owner.token })).statusCode).toBe(200)
  })
})

/** The ZIP of a seeded set of `tenantId`, with its manifest changed by `edit`. */
async function zipWith(tenantId: string, edit: (manifest: Record<string, unknown>) => void, suffix = '') {
  const set = await seedBackupSet(ctx.db, tenantId, [
    {
      policyType: 'deviceConfiguration',
      externalId: `o-${randomUUID()}`,
      displayName: 'O',
      payload: { a: 1 },
      assignments: [],
    },
  ])
  const entries = await unzip(Buffer.concat(await exportBackupZip(ctx.db, set).toArray()))
  return zipOf(
    entries.map(([name, text]) => {
      if (name !== 'manifest.json') return [name, text]
      const manifest = JSON.parse(text) as Record<string, unknown>
      edit(manifest)
      const edited = JSON.stringify(manifest)
      return [name, suffix ? `${edited.slice(0, -1)},${suffix}}` : edited]
    }),
  )
}

describe('item 4: an imported manifest’s source is a claim', () => {
  it('shows a forged source as claimed, never as a tenant of this workspace, and audits it as a claim', async () => {
    const c = (await ctx.factories.tenant()).id
    await ctx.factories.member(c, owner.user, 'owner')
    const zip = await zipWith(c, (m) => {
      m.source_tenant = { id: b, name: 'Tenant B', entra_tenant_id: '00000000-0000-0000-0000-00000000000b' }
    })
    const response = await ctx.request({
      method: 'POST',
      url: `/api/tenants/${c}/backups/import`,
      payload: zip,
      headers: { 'content-type': 'application/zip' },
      token: owner.token,
    })
    expect(response.statusCode, response.body).toBe(201)
    const set = JSON.parse(response.body) as {
      id: string
      source_tenant: unknown
      source: { claimed: { id: string }; verified: boolean }
    }
    expect(set.source_tenant).toBeNull()
    expect(set.source).toMatchObject({ claimed: { id: b }, verified: false })
    const [event] = await ctx.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.tenantId, c), eq(auditEvents.action, 'backup.imported')))
    expect(event!.metadata).not.toHaveProperty('source_tenant_id')
    expect(event!.metadata).toMatchObject({ claimed_source_tenant_id: b, source_verified: false })
  })
})

/** `{"a":{"a":…}}` nested `depth` levels. */
const deep = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`

describe('item 5: deep JSON and raw ZIP uploads', () => {
  it('answers a deeply nested body with a 4xx naming the limit, signed in or not', async () => {
    for (const url of ['/api/auth/sign-in', '/api/tokens']) {
      const response = await ctx.request({
        method: 'POST',
        url,
        payload: deep(5_000),
        headers: { 'content-type': 'application/json' },
        token: x.token,
      })
      expect(response.statusCode, `${url}: ${response.body}`).toBeGreaterThanOrEqual(400)
      expect(response.statusCode).toBeLessThan(500)
      expect(errorOf(response.body).message).toMatch(/64/)
    }
  })

  it('refuses a ZIP entry nested thousands of levels with a 422', async () => {
    const zip = await zipWith(a, () => {}, `"deep":${'['.repeat(4_500)}${']'.repeat(4_500)}`)
    const response = await ctx.request({
      method: 'POST',
      url: `/api/tenants/${a}/backups/import`,
      payload: zip,
      headers: { 'content-type': 'application/zip' },
      token: owner.token,
    })
    expect(response.statusCode, response.body).toBe(422)
  })

  it('imports a raw application/zip body (the round trip of an export)', async () => {
    const set = await seedBackupSet(ctx.db, a, [
      {
        policyType: 'deviceConfiguration',
        externalId: 'round-trip',
        displayName: 'Round trip',
        payload: { v: 2 },
        assignments: [],
      },
    ])
    const exported = await ctx.request({
      method: 'GET',
      url: `/api/tenants/${a}/backups/${set.id}/export`,
      token: owner.token,
    })
    expect(exported.statusCode).toBe(200)
    const response = await ctx.request({
      method: 'POST',
      url: `/api/tenants/${a}/backups/import`,
      payload: exported.rawPayload,
      headers: { 'content-type': 'application/zip' },
      token: owner.token,
    })
    expect(response.statusCode, response.body).toBe(201)
    const imported = JSON.parse(response.body) as {
      item_count: number
      source: { claimed: { id: string }; verified: boolean }
      source_tenant: { id: string }
    }
    expect(imported.item_count).toBe(1)
    expect(imported.source).toMatchObject({ claimed: { id: a }, verified: true })
    expect(imported.source_tenant.id).toBe(a)
  })
})

describe('item 6: one import never breaks a backup list', () => {
  it('keeps the list small with a manifest of 220,000 missing entries', async () => {
    const missing = Array.from({ length: 220_000 }, (_, i) => ({
      type: 'deviceConfiguration',
      id: `m-${i}`,
      name: `M ${i}`,
      code: 'not_found',
      message: 'gone',
    }))
    const zip = await zipWith(a, (m) => {
      m.missing = missing
    })
    const response = await ctx.request({
      method: 'POST',
      url: `/api/tenants/${a}/backups/import`,
      payload: zip,
      headers: { 'content-type': 'application/zip' },
      token: owner.token,
    })
    expect(response.statusCode, response.body.slice(0, 300)).toBe(201)
    expect(response.body.length).toBeLessThan(20_000)
    const id = (JSON.parse(response.body) as { id: string }).id
    const list = await ctx.request({ method: 'GET', url: `/api/tenants/${a}/backups`, token: owner.token })
    expect(list.statusCode).toBe(200)
    expect(list.body.length).toBeLessThan(200_000)
    const entry = (JSON.parse(list.body) as { data: { id: string; missing_count: number }[] }).data.find(
      (s) => s.id === id,
    )
    expect(entry!.missing_count).toBe(220_000)
    const page = await ctx.request({
      method: 'GET',
      url: `/api/tenants/${a}/backups/${id}/missing?limit=100`,
      token: owner.token,
    })
    expect(page.statusCode, page.body).toBe(200)
    const body = JSON.parse(page.body) as { data: { id: string }[]; next_cursor: string | null }
    expect(body.data.map((m) => m.id).slice(0, 2)).toEqual(['m-0', 'm-1'])
    expect(body.next_cursor).not.toBeNull()
    const next = await ctx.request({
      method: 'GET',
      url: `/api/tenants/${a}/backups/${id}/missing?limit=100&cursor=${body.next_cursor}`,
      token: owner.token,
    })
    expect((JSON.parse(next.body) as { data: { id: string }[] }).data[0]!.id).toBe('m-100')
  })
})

describe('item 7: schedules authorize first; id limits fit the body limit', () => {
  it('answers a readonly member’s schedule with 403 before looking at the body', async () => {
    for (const [method, path] of [
      ['POST', ''],
      ['PATCH', `/${randomUUID()}`],
    ] as const) {
      const response = await ctx.request({
        method,
        url: `/api/tenants/${a}/schedules${path}`,
        payload: { bogus: 1 },
        token: x.token,
      })
      expect(response.statusCode, response.body).toBe(403)
    }
  })

  it('accepts 10,000 ids in a restore plan, a plan edit and a bulk request (a 4xx other than 413)', async () => {
    const ids = Array.from({ length: 10_000 }, () => randomUUID())
    const set = await seedBackupSet(ctx.db, b, [
      { policyType: 'deviceConfiguration', externalId: 'o-1', displayName: 'O 1', payload: { a: 1 }, assignments: [] },
    ])
    const plan = await ctx.request({
      method: 'POST',
      url: `/api/tenants/${b}/restore-plans`,
      payload: { backup_id: set.id, item_ids: ids },
      token: owner.token,
    })
    expect(plan.statusCode, plan.body.slice(0, 200)).toBe(422)
    expect(plan.body).toMatch(/not in this backup/)
    const bulk = await ctx.request({
      method: 'POST',
      url: `/api/tenants/${b}/bulk-operations`,
      payload: { action: 'rename', params: { prefix: 'P ' }, item_ids: ids, dry_run: true },
      token: owner.token,
    })
    expect(bulk.statusCode, bulk.body.slice(0, 200)).not.toBe(413)
  })
})

describe('retention never deletes what people made because of what the system made', () => {
  const old = (days: number) => new Date(Date.now() - days * 86_400_000)
  async function tenantWithSets() {
    const tenantId = (await ctx.factories.tenant()).id
    const object = [
      { policyType: 'deviceConfiguration', externalId: 'o-1', displayName: 'O 1', payload: { a: 1 }, assignments: [] },
    ]
    const real = [
      await seedBackupSet(ctx.db, tenantId, object, { name: 'Real 1', createdAt: old(10) }),
      await seedBackupSet(ctx.db, tenantId, object, { name: 'Real 2', createdAt: old(9) }),
    ]
    for (const [i, kind] of (['version', 'version', 'system', 'import'] as const).entries()) {
      const set = await seedBackupSet(ctx.db, tenantId, object, { name: `Newer ${kind} ${i}`, createdAt: old(5 - i) })
      await ctx.db.update(backupSets).set({ kind }).where(eq(backupSets.id, set.id))
    }
    return { tenantId, real }
  }
  /** The prune handler over a real database, with the run's bookkeeping recorded here. */
  async function prune(tenantId: string, context: Record<string, unknown> = {}) {
    const items: { target: { name: string }; status: string; code?: string }[] = []
    const run = {
      run: { tenantId },
      db: ctx.db,
      context,
      progress: () => Promise.resolve(),
      recordItems: (r: typeof items) => Promise.resolve(void items.push(...r)),
      transaction: (fn: Parameters<typeof ctx.db.transaction>[0]) => ctx.db.transaction(fn),
    }
    await createPruneHandler()(run as never)
    return items
  }

  it('keeps the newest keep_last full backups whatever newer version, system and imported sets exist', async () => {
    const { tenantId, real } = await tenantWithSets()
    await ctx.db.insert(backupRetention).values({ tenantId, keepLast: 2, keepDays: 0 })
    await prune(tenantId)
    const left = (await setsOf(tenantId)).map((s) => s.id)
    for (const set of real) expect(left).toContain(set.id)
  })

  it('keeps the last full backup unless the prune is told to delete it', async () => {
    const { tenantId, real } = await tenantWithSets()
    await ctx.db.insert(backupRetention).values({ tenantId, keepLast: 0, keepDays: 0 })
    const items = await prune(tenantId)
    expect(items.find((i) => i.code === 'last_full_backup')?.target.name).toBe('Real 2')
    expect((await setsOf(tenantId)).map((s) => s.id)).toEqual([real[1]!.id])
    await prune(tenantId, { delete_last_full_backup: true })
    expect(await setsOf(tenantId)).toEqual([])
  })
})

describe('the backup list with 100 sets, imported ones among them', () => {
  it('answers its first page small (printed: time and size, for docs/benchmarks.md)', async () => {
    const tenantId = (await ctx.factories.tenant()).id
    await ctx.factories.member(tenantId, owner.user, 'owner')
    const missing = Array.from({ length: 20_000 }, (_, i) => ({
      type: 'deviceConfiguration',
      id: `m-${i}`,
      name: `Missing object ${i}`,
      code: 'not_found',
      message: 'gone',
    }))
    for (let i = 0; i < 100; i++) {
      const set = await seedBackupSet(
        ctx.db,
        tenantId,
        [
          {
            policyType: 'deviceConfiguration',
            externalId: `o-${i}`,
            displayName: `O ${i}`,
            payload: { i },
            assignments: [],
          },
        ],
        { name: `Set ${i}` },
      )
      if (i % 5 === 0) {
        // As an import of such a file stores it (finishSet): the manifest with the first entries, the whole list apart.
        const manifest = {
          ...set.manifest,
          origin: 'imported',
          source_tenant: { id: b, name: 'Claimed', entra_tenant_id: 'x' },
          source_verified: false,
          missing: missing.slice(0, 10),
        }
        await ctx.db
          .update(backupSets)
          .set({
            origin: 'imported',
            kind: 'import',
            status: 'partial',
            manifest,
            missing,
            missingCount: missing.length,
          })
          .where(eq(backupSets.id, set.id))
      }
    }
    const timings: number[] = []
    let size = 0
    for (let i = 0; i < 5; i++) {
      const started = performance.now()
      const list = await ctx.request({ method: 'GET', url: `/api/tenants/${tenantId}/backups`, token: owner.token })
      timings.push(performance.now() - started)
      expect(list.statusCode).toBe(200)
      size = list.body.length
      const sets = (JSON.parse(list.body) as { data: { missing_count: number; missing: unknown[] }[] }).data
      expect(sets).toHaveLength(50)
      expect(sets.filter((s) => s.missing_count === 20_000).length).toBe(10)
      expect(Math.max(...sets.map((s) => s.missing.length))).toBeLessThanOrEqual(10)
    }
    expect(size).toBeLessThan(200_000)
    process.stdout.write(
      `backup list: 100 sets (20 imported, 20,000 missing each): first page ${size} bytes, median ${Math.round(timings.sort((x, y) => x - y)[2]!)} ms\n`,
    )
  })
})
