import { randomUUID } from 'node:crypto'
import { and, eq, isNotNull, sql } from 'drizzle-orm'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { auditEvents, inventoryItems, inventoryReferences, notifications, operationRuns } from '../../src/db/schema.ts'
import { RunOwnershipLostError } from '../../src/modules/operations/run-errors.ts'
import { normaliseRead } from '../../src/modules/inventory/normalise.ts'
import { completeUnit, writePage } from '../../src/modules/inventory/store.ts'
import { getPolicyType, GRAPH_PERMISSIONS, POLICY_TYPES, policyTypesOfKind } from '../../src/graph/policy-types.ts'
import { addTenant } from '../../src/modules/tenants/add-tenant.ts'
import { createTenant } from '../graph/emulator-helpers.ts'
import { ORIGIN, type TestContext } from '../harness.ts'
import { runRow } from '../operations/helpers.ts'
import {
  connectTenant,
  control,
  inventoryContext,
  rowVersions,
  startSync,
  storedByType,
  syncAndWait,
  truthByType,
  waitForCompletion,
} from './helpers.ts'

let env: Awaited<ReturnType<typeof inventoryContext>>
let ctx: TestContext
let tenant: Awaited<ReturnType<typeof connectTenant>>

beforeAll(async () => {
  env = await inventoryContext()
  ctx = env.ctx
  tenant = await connectTenant(ctx, env.emulator)
})
afterAll(async () => env.close())
afterEach(async () => {
  await control(env.emulator, 'PUT', '/faults', {})
})

const ALL_UNITS = POLICY_TYPES.length // policy types, foundations and the groups unit
const SCRIPT_TYPES = POLICY_TYPES.filter((e) => e.permission === 'DeviceManagementScripts.Read.All').map((e) => e.key)

describe('inventory sync, end to end', () => {
  it('mirrors the ground truth type by type, with determinate progress and the initiator recorded', async () => {
    const { run } = await startSync(ctx, tenant.tenantId, tenant.token)
    // Not `status === 'queued'`: a fast worker may already have claimed the run when the response is built.
    // That it was queued first is the audit trail's `operation_run.queued` below.
    const done = await waitForCompletion(ctx, run.id)
    expect(done.outcome, JSON.stringify(done.failures)).toBe('succeeded')
    expect(done.initiatorUserId).toBe(tenant.owner.id)
    expect(await storedByType(ctx, tenant.tenantId)).toEqual(await truthByType(env.emulator, tenant.entraTenantId))
    const stored = Object.values(await storedByType(ctx, tenant.tenantId)).flat().length
    expect(done.summaryCounts).toMatchObject({
      total: ALL_UNITS,
      processed: ALL_UNITS,
      succeeded: ALL_UNITS,
      created: stored,
      updated: 0,
      unchanged: 0,
      removed: 0,
    })
    expect(done.units).toHaveLength(ALL_UNITS)
    expect(done.units.every((u) => u.status === 'succeeded' && u.error === null)).toBe(true)
    const groups = done.units.find((u) => u.key === 'group')!
    expect(groups.counts.created).toBeGreaterThan(0)
    const audit = await ctx.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.tenantId, tenant.tenantId), eq(auditEvents.action, 'operation_run.queued')))
    expect(audit.map((a) => a.actorUserId)).toContain(tenant.owner.id)
    // One notification, to the initiator.
    const sent = await ctx.db.select().from(notifications).where(eq(notifications.runId, run.id))
    expect(sent.map((n) => n.userId)).toEqual([tenant.owner.id])
  })

  it('re-syncing at once reports everything unchanged and writes no item row', async () => {
    const before = await rowVersions(ctx, tenant.tenantId)
    const done = await syncAndWait(ctx, tenant.tenantId, tenant.token)
    expect(done.outcome).toBe('succeeded')
    expect(done.summaryCounts).toMatchObject({ created: 0, updated: 0, removed: 0, unchanged: before.length })
    expect(await rowVersions(ctx, tenant.tenantId)).toEqual(before)
    // Last seen moves on without a write: the items report the new run.
    const list = await ctx.request({
      method: 'GET',
      url: `/api/tenants/${tenant.tenantId}/inventory/items?limit=5`,
      token: tenant.token,
    })
    const items = (JSON.parse(list.body) as { data: { last_seen_run_id: string; first_seen_run_id: string }[] }).data
    expect(items.length).toBe(5)
    for (const item of items) {
      expect(item.last_seen_run_id).toBe(done.id)
      expect(item.first_seen_run_id).not.toBe(done.id)
    }
  })

  it('counts exactly what changed in Graph: one created, one updated, one removed', async () => {
    const truth = await truthByType(env.emulator, tenant.entraTenantId)
    const [updatedId] = truth.deviceCompliancePolicy![0]!.split(' ')
    const [deletedId] = truth.deviceConfiguration![0]!.split(' ')
    const created = await control<{ id: string }>(env.emulator, 'POST', `/tenants/${tenant.entraTenantId}/items`, {
      type: 'deviceConfiguration',
      displayName: 'Brand new profile',
    })
    expect(created.status).toBe(201)
    expect(
      (
        await control(env.emulator, 'PATCH', `/tenants/${tenant.entraTenantId}/items/${updatedId}`, {
          description: 'changed in the portal',
        })
      ).status,
    ).toBe(200)
    expect((await control(env.emulator, 'DELETE', `/tenants/${tenant.entraTenantId}/items/${deletedId}`)).status).toBe(
      204,
    )

    const done = await syncAndWait(ctx, tenant.tenantId, tenant.token)
    expect(done.outcome).toBe('succeeded')
    expect(done.summaryCounts).toMatchObject({ created: 1, updated: 1, removed: 1 })
    expect(done.units.find((u) => u.key === 'deviceConfiguration')!.counts).toMatchObject({ created: 1, removed: 1 })
    expect(done.units.find((u) => u.key === 'deviceCompliancePolicy')!.counts).toMatchObject({ updated: 1 })
    expect(await storedByType(ctx, tenant.tenantId)).toEqual(await truthByType(env.emulator, tenant.entraTenantId))

    const [removed] = await ctx.db
      .select()
      .from(inventoryItems)
      .where(and(eq(inventoryItems.tenantId, tenant.tenantId), eq(inventoryItems.externalId, deletedId!)))
    expect(removed!.removedAt).not.toBeNull()
    const [changed] = await ctx.db
      .select()
      .from(inventoryItems)
      .where(and(eq(inventoryItems.tenantId, tenant.tenantId), eq(inventoryItems.externalId, updatedId!)))
    expect(changed!.payload.description).toBe('changed in the portal')
    expect(changed!.version).toBe(2)
    expect(changed!.lastSeenRunId).toBe(done.id)
  })

  it('brings a removed item back when it reappears', async () => {
    const [item] = await ctx.db
      .select()
      .from(inventoryItems)
      .where(and(eq(inventoryItems.tenantId, tenant.tenantId), eq(inventoryItems.policyType, 'assignmentFilter')))
      .limit(1)
    await ctx.db.update(inventoryItems).set({ removedAt: new Date() }).where(eq(inventoryItems.id, item!.id))
    const done = await syncAndWait(ctx, tenant.tenantId, tenant.token)
    expect(done.summaryCounts).toMatchObject({ created: 1, updated: 0, removed: 0 })
    const [back] = await ctx.db.select().from(inventoryItems).where(eq(inventoryItems.id, item!.id))
    expect(back!.removedAt).toBeNull()
  })

  it('skips a type whose permission the app lacks, names it, and removes nothing of it', async () => {
    const scriptsBefore = (await storedByType(ctx, tenant.tenantId)).deviceManagementScript!
    expect(scriptsBefore.length).toBeGreaterThan(0)
    await control(
      env.emulator,
      'PUT',
      `/tenants/${tenant.entraTenantId}/permissions`,
      GRAPH_PERMISSIONS.filter((p) => p !== 'DeviceManagementScripts.Read.All'),
    )
    try {
      const done = await syncAndWait(ctx, tenant.tenantId, tenant.token)
      expect(done.outcome).toBe('partially_succeeded')
      const skipped = done.units
        .filter((u) => u.status === 'skipped')
        .map((u) => u.key)
        .sort()
      expect(skipped).toEqual([...SCRIPT_TYPES].sort())
      expect(done.summaryCounts.skipped).toBe(SCRIPT_TYPES.length)
      expect(done.summaryCounts.succeeded).toBe(ALL_UNITS - SCRIPT_TYPES.length)
      for (const failure of done.failures) {
        expect(failure.code).toBe('missing_permission')
        expect(failure.message).toContain('DeviceManagementScripts.Read.All')
        expect(SCRIPT_TYPES).toContain(failure.subject)
      }
      expect((await storedByType(ctx, tenant.tenantId)).deviceManagementScript).toEqual(scriptsBefore)
    } finally {
      await control(env.emulator, 'PUT', `/tenants/${tenant.entraTenantId}/permissions`, GRAPH_PERMISSIONS)
    }
  })

  it('fails one unit when Graph stays unavailable for it, completes the rest, removes nothing of it', async () => {
    const before = (await storedByType(ctx, tenant.tenantId)).mobileApp!
    await control(env.emulator, 'PUT', '/faults', { unavailable_paths: ['deviceAppManagement/mobileApps'] })
    const done = await syncAndWait(ctx, tenant.tenantId, tenant.token)
    expect(done.outcome).toBe('partially_succeeded')
    const failed = done.units.filter((u) => u.status === 'failed')
    expect(failed.map((u) => u.key)).toEqual(['mobileApp'])
    expect(failed[0]!.error!.code).toBe('graph_unavailable')
    expect(done.failures).toEqual([expect.objectContaining({ code: 'graph_unavailable', subject: 'mobileApp' })])
    expect(done.summaryCounts.succeeded).toBe(ALL_UNITS - 1)
    expect((await storedByType(ctx, tenant.tenantId)).mobileApp).toEqual(before)
  })

  it('fails the types whose per-object reads Graph cannot serve, and removes nothing of them', async () => {
    const subresource = POLICY_TYPES.filter((e) => e.assignments === 'subresource')
      .map((e) => e.key)
      .sort()
    const before = await storedByType(ctx, tenant.tenantId)
    await control(env.emulator, 'PUT', '/faults', { unavailable_paths: ['/assignments'] })
    const done = await syncAndWait(ctx, tenant.tenantId, tenant.token)
    expect(done.outcome).toBe('partially_succeeded')
    expect(
      done.units
        .filter((u) => u.status === 'failed')
        .map((u) => u.key)
        .sort(),
    ).toEqual(subresource)
    expect(await storedByType(ctx, tenant.tenantId)).toEqual(before)
  })

  it('stores an object whose text holds a NUL character (which PostgreSQL cannot), without it', async () => {
    const [id] = (await truthByType(env.emulator, tenant.entraTenantId)).assignmentFilter![0]!.split(' ')
    expect(
      (
        await control(env.emulator, 'PATCH', `/tenants/${tenant.entraTenantId}/items/${id}`, {
          description: 'before\u0000after',
        })
      ).status,
    ).toBe(200)
    const done = await syncAndWait(ctx, tenant.tenantId, tenant.token)
    expect(done.outcome).toBe('succeeded')
    expect(done.summaryCounts.updated).toBe(1)
    const [row] = await ctx.db
      .select()
      .from(inventoryItems)
      .where(and(eq(inventoryItems.tenantId, tenant.tenantId), eq(inventoryItems.externalId, id!)))
    expect(row!.payload.description).toBe('beforeafter')
  })

  it("refuses the inventory writes of an attempt that no longer runs (a re-queued run's stale worker)", async () => {
    const [run] = await ctx.db.select().from(operationRuns).where(eq(operationRuns.tenantId, tenant.tenantId)).limit(1)
    expect(run!.status).toBe('completed')
    const present = (await storedByType(ctx, tenant.tenantId)).deviceConfiguration!
    // With nothing seen, a completed listing would remove every device configuration.
    const scope = {
      tenantId: tenant.tenantId,
      runId: run!.id,
      attempt: run!.attempt,
      entry: getPolicyType('deviceConfiguration'),
    }
    await expect(completeUnit(ctx.db, scope, new Set())).rejects.toThrow(RunOwnershipLostError)
    expect((await storedByType(ctx, tenant.tenantId)).deviceConfiguration).toEqual(present)
  })

  it('mirrors the same inventory through 30% throttling and 5% server errors', async () => {
    const expected = await truthByType(env.emulator, tenant.entraTenantId)
    const versions = await rowVersions(ctx, tenant.tenantId)
    await control(env.emulator, 'DELETE', '/stats')
    await control(env.emulator, 'PUT', '/faults', { throttle_rate: 0.3, error_rate: 0.05, omit_retry_after: true })
    const resilient = await inventoryContext({ retry: { maxAttempts: 14, baseDelayMs: 5 }, emulator: env.emulator })
    try {
      // Its own app, so its own client and retry policy: a fresh database, the same emulated tenant.
      const again = await connectTenant(resilient.ctx, env.emulator)
      const done = await syncAndWait(resilient.ctx, again.tenantId, again.token)
      expect(done.failures, JSON.stringify(done.failures)).toEqual([])
      expect(done.outcome).toBe('succeeded')
      expect(await storedByType(resilient.ctx, again.tenantId)).toEqual(
        await truthByType(env.emulator, again.entraTenantId),
      )
      const stats = (await control<{ throttled: number; graph_requests: number }>(env.emulator, 'GET', '/stats')).body
      // Faults really were injected (a random 30 % of answers; the share counted over every request varies).
      expect(stats.throttled / stats.graph_requests).toBeGreaterThan(0.1)
      expect(resilient.graph.counters.retries).toBeGreaterThan(0)
    } finally {
      await control(env.emulator, 'PUT', '/faults', {})
      await resilient.close()
    }
    // Untouched: the first app's tenant still equals its truth and nothing was written.
    expect(await storedByType(ctx, tenant.tenantId)).toEqual(expected)
    expect(await rowVersions(ctx, tenant.tenantId)).toEqual(versions)
  })

  it('fails the run with what to fix when the client secret is wrong', async () => {
    const { tenant: emulated } = await createTenant(env.emulator, { policies: 20, client_id: randomUUID() })
    const wrong = await addTenant(
      ctx.db,
      ctx.secrets,
      { kind: 'system' },
      {
        name: 'Wrong secret',
        entra_tenant_id: emulated.tenant_id,
        client_id: emulated.client_id,
        client_secret: 'not-the-secret',
        cloud: 'emulator',
      },
    )
    await ctx.factories.member(wrong.id, tenant.owner, 'owner')
    const done = await syncAndWait(ctx, wrong.id, tenant.token)
    expect(done.outcome).toBe('failed')
    expect(done.failures).toHaveLength(1)
    expect(done.failures[0]!.code).toBe('invalid_credentials')
    expect(done.failures[0]!.message).toMatch(
      /client secret .* was rejected: create a new secret in Entra and update the tenant connection/,
    )
    expect(done.failures[0]!.message).not.toContain('not-the-secret')
    expect(await ctx.db.select().from(inventoryItems).where(eq(inventoryItems.tenantId, wrong.id))).toEqual([])
  })

  it('checks a connection: every permission granted, then the one missing with what it blocks, and a wrong secret', async () => {
    const check = async (tenantId: string) => {
      const response = await ctx.request({
        method: 'POST',
        url: `/api/tenants/${tenantId}/connection-check`,
        token: tenant.token,
        headers: { origin: ORIGIN },
      })
      expect(response.statusCode).toBe(200)
      return JSON.parse(response.body) as {
        ok: boolean
        error: { code: string; message: string } | null
        permissions: { permission: string; status: string; blocks: { key: string }[] }[]
      }
    }
    const good = await check(tenant.tenantId)
    expect(good.error).toBeNull()
    expect(good.permissions.map((p) => p.permission).sort()).toEqual([...GRAPH_PERMISSIONS].sort())
    expect(good.permissions.filter((p) => p.status !== 'granted')).toEqual([])
    expect(good.ok).toBe(true)
    await control(
      env.emulator,
      'PUT',
      `/tenants/${tenant.entraTenantId}/permissions`,
      GRAPH_PERMISSIONS.filter((p) => p !== 'DeviceManagementScripts.Read.All'),
    )
    try {
      const missing = await check(tenant.tenantId)
      expect(missing.ok).toBe(false)
      const scripts = missing.permissions.find((p) => p.permission === 'DeviceManagementScripts.Read.All')!
      expect(scripts.status).toBe('missing')
      expect(scripts.blocks.map((b) => b.key).sort()).toEqual([...SCRIPT_TYPES].sort())
      expect(missing.permissions.filter((p) => p.status === 'missing')).toHaveLength(1)
    } finally {
      await control(env.emulator, 'PUT', `/tenants/${tenant.entraTenantId}/permissions`, GRAPH_PERMISSIONS)
    }
    const { tenant: emulated } = await createTenant(env.emulator, { policies: 5, client_id: randomUUID() })
    const wrong = await addTenant(
      ctx.db,
      ctx.secrets,
      { kind: 'system' },
      {
        name: 'Wrong secret 2',
        entra_tenant_id: emulated.tenant_id,
        client_id: emulated.client_id,
        client_secret: 'nope',
        cloud: 'emulator',
      },
    )
    await ctx.factories.member(wrong.id, tenant.owner, 'owner')
    const failed = await check(wrong.id)
    expect(failed).toMatchObject({ ok: false, error: { code: 'invalid_credentials' }, permissions: [] })
  })

  it('flags references to deleted groups as orphaned and shows group names on assignments', async () => {
    const orphans = await ctx.db
      .select()
      .from(inventoryReferences)
      .where(and(eq(inventoryReferences.tenantId, tenant.tenantId), eq(inventoryReferences.orphaned, true)))
    expect(orphans.length).toBeGreaterThan(0)
    const itemId = orphans[0]!.itemId
    const response = await ctx.request({
      method: 'GET',
      url: `/api/tenants/${tenant.tenantId}/inventory/items/${itemId}`,
      token: tenant.token,
    })
    expect(response.statusCode).toBe(200)
    const item = JSON.parse(response.body) as {
      assignments: { group_id: string | null; group_name: string | null; orphaned: boolean }[]
      payload: Record<string, unknown>
      references: { orphaned: boolean; kind: string }[]
    }
    const orphaned = item.assignments.find((a) => a.orphaned)!
    expect(orphaned.group_id).toBe(orphans[0]!.targetExternalId)
    expect(orphaned.group_name).toBeNull()
    expect(item.references.some((r) => r.kind === 'group' && r.orphaned)).toBe(true)
    expect(item.payload.lastModifiedDateTime).toBeUndefined()
    // Elsewhere, an assignment to an existing group carries its name.
    const named = await ctx.db.execute<{ item_id: string }>(
      sql`SELECT r.item_id FROM inventory_references r WHERE r.tenant_id = ${tenant.tenantId} AND r.kind = 'group' AND NOT r.orphaned LIMIT 1`,
    )
    const other = JSON.parse(
      (
        await ctx.request({
          method: 'GET',
          url: `/api/tenants/${tenant.tenantId}/inventory/items/${named.rows[0]!.item_id}`,
          token: tenant.token,
        })
      ).body,
    ) as { assignments: { group_id: string | null; group_name: string | null }[] }
    expect(other.assignments.find((a) => a.group_id)!.group_name).toMatch(/\S/)
  })

  it('keeps removed items out of the list unless asked, and pages through every item exactly once', async () => {
    const present = Object.values(await storedByType(ctx, tenant.tenantId)).flat().length
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const url = `/api/tenants/${tenant.tenantId}/inventory/items?limit=37${cursor ? `&cursor=${cursor}` : ''}`
      const page = JSON.parse((await ctx.request({ method: 'GET', url, token: tenant.token })).body) as {
        data: { id: string; removed_at: string | null }[]
        next_cursor: string | null
      }
      seen.push(...page.data.map((i) => i.id))
      expect(page.data.every((i) => i.removed_at === null)).toBe(true)
      cursor = page.next_cursor
    } while (cursor)
    expect(seen.length).toBe(present)
    expect(new Set(seen).size).toBe(present)
    const removed = await ctx.db
      .select()
      .from(inventoryItems)
      .where(and(eq(inventoryItems.tenantId, tenant.tenantId), isNotNull(inventoryItems.removedAt)))
    const withRemoved = JSON.parse(
      (
        await ctx.request({
          method: 'GET',
          url: `/api/tenants/${tenant.tenantId}/inventory/items?include_removed=true&limit=200&q=${encodeURIComponent(removed[0]!.displayName)}`,
          token: tenant.token,
        })
      ).body,
    ) as { data: { id: string }[] }
    expect(withRemoved.data.map((i) => i.id)).toContain(removed[0]!.id)
  })

  it('filters by type, category and text', async () => {
    const get = async (query: string) =>
      (
        JSON.parse(
          (
            await ctx.request({
              method: 'GET',
              url: `/api/tenants/${tenant.tenantId}/inventory/items?limit=200&${query}`,
              token: tenant.token,
            })
          ).body,
        ) as { data: { policy_type: string; category: string; display_name: string; kind: string }[] }
      ).data
    const compliance = await get('type=deviceCompliancePolicy')
    expect(compliance.length).toBeGreaterThan(0)
    expect(compliance.every((i) => i.policy_type === 'deviceCompliancePolicy' && i.kind === 'policy')).toBe(true)
    const foundations = await get('category=Foundations')
    expect(new Set(foundations.map((i) => i.policy_type))).toEqual(
      new Set(
        policyTypesOfKind('foundation')
          .map((e) => e.key)
          .filter((k) => foundations.some((i) => i.policy_type === k)),
      ),
    )
    expect(foundations.every((i) => i.kind === 'foundation')).toBe(true)
    const name = compliance[0]!.display_name
    const found = await get(`q=${encodeURIComponent(name.slice(2, 12).toUpperCase())}`)
    expect(found.map((i) => i.display_name)).toContain(name)
    expect(await get('q=%25_no-such-name')).toEqual([])
  })

  it('runs a selection: only the chosen types, and identical selections written differently are one run', async () => {
    await control(env.emulator, 'PUT', '/faults', { latency_ms: 40 })
    const first = await startSync(ctx, tenant.tenantId, tenant.token, {
      policy_types: ['deviceCompliancePolicy', 'deviceConfiguration', 'deviceConfiguration'],
      include_foundations: false,
      include_dependencies: false,
    })
    const second = await startSync(ctx, tenant.tenantId, tenant.token, {
      include_dependencies: false,
      policy_types: ['deviceConfiguration', 'deviceCompliancePolicy'],
      include_foundations: false,
    })
    expect(second.deduplicated).toBe(true)
    expect(second.run.id).toBe(first.run.id)
    const done = await waitForCompletion(ctx, first.run.id)
    expect(done.context).toEqual({
      selection: {
        policy_types: ['deviceCompliancePolicy', 'deviceConfiguration'],
        categories: [],
        include_foundations: false,
        include_dependencies: false,
        mode: 'full',
      },
    })
    expect(done.units.map((u) => u.key).sort()).toEqual(['deviceCompliancePolicy', 'deviceConfiguration'])
    expect(done.summaryCounts.total).toBe(2)
    expect((await runRow(ctx, first.run.id)).outcome).toBe('succeeded')
  })
})

// Issue 12, item 4: untrusted text from Graph never blocks a type's mirroring.
const idsOf = async (type: string, atLeast = 3) => {
  const ids = (await truthByType(env.emulator, tenant.entraTenantId))[type]!.map((line) => line.split(' ')[0]!)
  expect(ids.length).toBeGreaterThanOrEqual(atLeast)
  return ids
}
const stored = async (externalId: string) =>
  (
    await ctx.db
      .select()
      .from(inventoryItems)
      .where(and(eq(inventoryItems.tenantId, tenant.tenantId), eq(inventoryItems.externalId, externalId)))
  )[0]

describe('a lone UTF-16 surrogate in one Graph object', () => {
  it('is stored as U+FFFD, and the rest of its type (an update, a removal) is mirrored in the same sync', async () => {
    const [lone, updated, removed] = await idsOf('deviceConfiguration')
    const items = `/tenants/${tenant.entraTenantId}/items`
    expect(
      (
        await control(env.emulator, 'PATCH', `${items}/${lone}`, {
          displayName: 'Lone \ud800 high',
          description: 'low \udfff',
        })
      ).status,
    ).toBe(200)
    expect(
      (await control(env.emulator, 'PATCH', `${items}/${updated}`, { description: 'changed in Graph' })).status,
    ).toBe(200)
    expect((await control(env.emulator, 'DELETE', `${items}/${removed}`)).status).toBe(204)
    const done = await syncAndWait(ctx, tenant.tenantId, tenant.token)
    expect(done.failures).toEqual([])
    expect(done.outcome).toBe('succeeded')
    expect(done.summaryCounts).toMatchObject({ updated: 2, removed: 1 })
    expect((await stored(lone!))!).toMatchObject({
      displayName: 'Lone \ufffd high',
      payload: expect.objectContaining({ description: 'low \ufffd' }),
    })
    expect((await stored(updated!))!.payload.description).toBe('changed in Graph')
    expect((await stored(removed!))!.removedAt).not.toBeNull()
  })
})

describe('an object the database refuses anyway', () => {
  it('costs only itself: the rest of the page is written and the refused one is reported', async () => {
    const [run] = await ctx.db.select().from(operationRuns).where(eq(operationRuns.tenantId, tenant.tenantId)).limit(1)
    // writePage is fenced on a running attempt: let the completed run stand for one here.
    await ctx.db.update(operationRuns).set({ status: 'running' }).where(eq(operationRuns.id, run!.id))
    try {
      const entry = getPolicyType('deviceConfiguration')
      const [a, b] = await idsOf('deviceConfiguration', 2)
      const good = normaliseRead(entry, {
        item: { id: a!, displayName: 'Written', description: 'new' },
        assignments: [],
        details: {},
      })
      // A date no timestamptz can hold, past the normaliser (which drops such dates): PostgreSQL refuses the row.
      const bad = {
        ...normaliseRead(entry, {
          item: { id: b!, displayName: 'Refused', description: 'new' },
          assignments: [],
          details: {},
        }),
        graphLastModifiedAt: '+275760-09-13T00:00:00.000Z',
      }
      const result = await writePage(
        ctx.db,
        { tenantId: tenant.tenantId, runId: run!.id, attempt: run!.attempt, entry },
        [good, bad],
      )
      expect(result).toMatchObject({ updated: 1, rejected: [expect.objectContaining({ externalId: b })] })
      expect((await stored(a!))!.displayName).toBe('Written')
      expect((await stored(b!))!.displayName).not.toBe('Refused')
    } finally {
      await ctx.db.update(operationRuns).set({ status: 'completed' }).where(eq(operationRuns.id, run!.id))
    }
  })
})
