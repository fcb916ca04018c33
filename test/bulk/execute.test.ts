import { and, eq, inArray } from 'drizzle-orm'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  backupSets,
  inventoryItems,
  notifications,
  operationRunItems,
  type InventoryItemRow,
} from '../../src/db/schema.ts'
import { findPolicyType } from '../../src/graph/policy-types.ts'
import { ORIGIN, type TestContext } from '../harness.ts'
import { connectTenant, control, inventoryContext, syncAndWait, waitForCompletion } from '../inventory/helpers.ts'
import { setByType } from '../backups/helpers.ts'
import {
  appWritesByObject,
  stillAssignable as stillAssignableIn,
  targetKey,
  truthWithContent,
} from './emulator-truth.ts'
import { addScopeTag, assignedTo, bulkRequest, frozen, leastAssignedGroup, plan, startBulk } from './helpers.ts'

/** Bulk runs end to end: API → queue → worker → Graph writes on the emulator over HTTP. */
let env: Awaited<ReturnType<typeof inventoryContext>>
let ctx: TestContext
let tenant: Awaited<ReturnType<typeof connectTenant>>
/** The group and scope tags the actions add: the tenant's own (a foreign or unknown one is refused with 422). */
let GROUP: string
let TAG: string
let OTHER_TAG: string

beforeAll(async () => {
  env = await inventoryContext()
  ctx = env.ctx
  tenant = await connectTenant(ctx, env.emulator, { policies: 150 })
  TAG = await addScopeTag(env.emulator, tenant.entraTenantId, 'Bulk tag')
  OTHER_TAG = await addScopeTag(env.emulator, tenant.entraTenantId, 'Bulk tag (lost answers)')
  await syncAndWait(ctx, tenant.tenantId, tenant.token)
  GROUP = await leastAssignedGroup(ctx, tenant.tenantId)
})
afterAll(async () => env.close())
afterEach(async () => {
  await control(env.emulator, 'PUT', '/faults', {})
})

/** Present items of policy types that have assignments, round-robin over the types: a mixed selection. */
async function mixedPolicies(n: number): Promise<InventoryItemRow[]> {
  const rows = await ctx.db
    .select()
    .from(inventoryItems)
    .where(eq(inventoryItems.tenantId, tenant.tenantId))
    .orderBy(inventoryItems.displayName, inventoryItems.id)
  const byType = new Map<string, InventoryItemRow[]>()
  for (const row of rows) {
    const entry = findPolicyType(row.policyType)
    if (row.removedAt || !entry || entry.kind !== 'policy' || entry.assignments === null) continue
    byType.set(row.policyType, [...(byType.get(row.policyType) ?? []), row])
  }
  const out: InventoryItemRow[] = []
  for (let i = 0; out.length < n; i++) {
    let added = false
    for (const list of byType.values()) {
      if (list[i] && out.length < n) {
        out.push(list[i]!)
        added = true
      }
    }
    if (!added) break
  }
  return out
}

async function undo(runId: string) {
  const state = await ctx.request({
    method: 'GET',
    url: `/api/tenants/${tenant.tenantId}/bulk-operations/${runId}`,
    token: tenant.token,
  })
  expect(JSON.parse(state.body)).toMatchObject({ undo: { available: true, reason: null } })
  const response = await ctx.request({
    method: 'POST',
    url: `/api/tenants/${tenant.tenantId}/bulk-operations/${runId}/undo`,
    token: tenant.token,
    headers: { origin: ORIGIN },
  })
  expect(response.statusCode, response.body).toBe(201)
  return JSON.parse(response.body) as {
    id: string
    items: { action: string; display_name: string; reason: string | null }[]
  }
}

async function executePlan(planId: string) {
  const response = await ctx.request({
    method: 'POST',
    url: `/api/tenants/${tenant.tenantId}/restore-plans/${planId}/execute`,
    token: tenant.token,
    headers: { origin: ORIGIN },
  })
  expect(response.statusCode, response.body).toBe(202)
  return waitForCompletion(ctx, (JSON.parse(response.body) as { run: { id: string } }).run.id)
}

const stillAssignable = (assignments: unknown) => stillAssignableIn(env.emulator, tenant.entraTenantId, assignments)

const run = async (payload: Record<string, unknown>) =>
  waitForCompletion(ctx, (await startBulk(ctx, tenant.tenantId, tenant.token, payload)).run.id)

describe('bulk runs', () => {
  it(
    'adds a group to 50 policies of mixed types keeping every other assignment, then removes it restoring the original sets',
    { timeout: 180_000 },
    async () => {
      const picked = (await mixedPolicies(90)).filter((p) => !assignedTo(p, GROUP)).slice(0, 50)
      expect(picked).toHaveLength(50)
      expect(new Set(picked.map((p) => p.policyType)).size).toBeGreaterThan(8)
      const before = await truthWithContent(env.emulator, tenant.entraTenantId)
      const assigned = await run({
        action: 'assign',
        params: { group_id: GROUP, intent: 'include' },
        item_ids: picked.map((p) => p.id),
      })
      expect(assigned.outcome, JSON.stringify(assigned.failures)).toBe('succeeded')
      expect(assigned.summaryCounts).toMatchObject({ total: 50, processed: 50, succeeded: 50 })
      const after = await truthWithContent(env.emulator, tenant.entraTenantId)
      for (const item of picked) {
        // An assignment to the tenant's deleted group is left out of the re-sent set (Graph refuses it).
        const was = stillAssignable(before.get(item.externalId)!.content.assignments).map(targetKey).sort()
        const now = (after.get(item.externalId)!.content.assignments ?? []).map(targetKey)
        const added = now.filter((t) => t.includes(GROUP))
        expect(added, item.policyType).toHaveLength(1)
        expect(now.filter((t) => !t.includes(GROUP)).sort(), item.policyType).toEqual(was)
      }
      // The backup before the change holds every item as it was, labelled with the run.
      const [set] = await ctx.db.select().from(backupSets).where(eq(backupSets.runId, assigned.id))
      expect(set).toMatchObject({ status: 'complete', protected: true, labels: ['bulk', assigned.id], itemCount: 50 })
      const pinned = Object.values(await setByType(ctx, set!.id))
        .flat()
        .map((line) => line.split(' ')[0])
      expect(pinned.sort()).toEqual(picked.map((p) => p.externalId).sort())

      const removed = await run({ action: 'unassign', params: { group_id: GROUP }, item_ids: picked.map((p) => p.id) })
      expect(removed.outcome, JSON.stringify(removed.failures)).toBe('succeeded')
      const restored = await truthWithContent(env.emulator, tenant.entraTenantId)
      for (const item of picked) {
        expect(
          (restored.get(item.externalId)!.content.assignments ?? []).map(targetKey).sort(),
          item.policyType,
        ).toEqual(stillAssignable(before.get(item.externalId)!.content.assignments).map(targetKey).sort())
      }
      const notes = (await ctx.db.select().from(operationRunItems).where(eq(operationRunItems.runId, assigned.id)))
        .map((i) => i.message)
        .filter(
          (m) =>
            m?.startsWith('Assignment to group') && m.endsWith('left out: the group no longer exists in the tenant'),
        )
      expect(notes.length, 'items whose assignment to the deleted group was left out').toBeGreaterThan(0)
    },
  )

  it('skips a type that cannot take the action, with the reason, and acts on the rest', async () => {
    const [config] = await mixedPolicies(1)
    const [filter] = await ctx.db
      .select()
      .from(inventoryItems)
      .where(and(eq(inventoryItems.tenantId, tenant.tenantId), eq(inventoryItems.policyType, 'assignmentFilter')))
      .limit(1)
    const done = await run({
      action: 'assign',
      params: { group_id: GROUP, intent: 'exclude' },
      item_ids: [config!.id, filter!.id],
    })
    expect(done.outcome).toBe('succeeded')
    const items = await ctx.db.select().from(operationRunItems).where(eq(operationRunItems.runId, done.id))
    expect(items.find((i) => i.targetId === filter!.externalId)).toMatchObject({
      status: 'skipped',
      code: 'unsupported_type',
      message: 'Assignment filters have no assignments',
    })
    expect(items.find((i) => i.targetId === config!.externalId)).toMatchObject({
      status: 'succeeded',
      action: 'assign',
    })
  })

  it('assigns All devices (no group) keeping every other assignment; a second run skips them; exclude is refused', async () => {
    const ALL_DEVICES = '#microsoft.graph.allDevicesAssignmentTarget'
    const isAllDevices = (a: Record<string, unknown>) =>
      (a.target as Record<string, unknown> | undefined)?.['@odata.type'] === ALL_DEVICES
    const picked = (await mixedPolicies(40)).filter((p) => !(p.assignments ?? []).some(isAllDevices)).slice(0, 6)
    expect(picked.length).toBeGreaterThan(2)
    const ids = picked.map((p) => p.id)
    const refused = await bulkRequest(ctx, tenant.tenantId, tenant.token, {
      action: 'assign',
      params: { target: 'all_devices', intent: 'exclude' },
      item_ids: ids,
      dry_run: true,
    })
    expect(refused.statusCode).toBe(422)
    expect(refused.body).toContain('params.intent')
    const preview = await plan(ctx, tenant.tenantId, tenant.token, {
      action: 'assign',
      params: { target: 'all_devices', intent: 'include' },
      item_ids: ids,
    })
    expect(preview.counts).toEqual({ change: picked.length, skip: 0 })
    const before = await truthWithContent(env.emulator, tenant.entraTenantId)
    const done = await run({ action: 'assign', params: { target: 'all_devices', intent: 'include' }, item_ids: ids })
    expect(done.outcome, JSON.stringify(done.failures)).toBe('succeeded')
    const after = await truthWithContent(env.emulator, tenant.entraTenantId)
    for (const item of picked) {
      const now = after.get(item.externalId)!.content.assignments ?? []
      expect(now.filter(isAllDevices), item.policyType).toHaveLength(1)
      const was = stillAssignable(before.get(item.externalId)!.content.assignments).map(targetKey).sort()
      expect(
        now
          .filter((a) => !isAllDevices(a))
          .map(targetKey)
          .sort(),
        item.policyType,
      ).toEqual(was)
    }
    await syncAndWait(ctx, tenant.tenantId, tenant.token)
    // The SQL skip decision and the TypeScript one agree: every item is assigned so already.
    const again = await plan(ctx, tenant.tenantId, tenant.token, {
      action: 'assign',
      params: { target: 'all_devices', intent: 'include' },
      item_ids: ids,
    })
    expect(again.counts).toEqual({ change: 0, skip: picked.length })
    expect(again.items.every((i) => i.reason === 'Already assigned to All devices')).toBe(true)
  })

  it('adds and removes a scope tag', async () => {
    const picked = (await mixedPolicies(12)).filter((p) => findPolicyType(p.policyType)!.key !== 'roleScopeTag')
    const ids = picked.map((p) => p.id)
    const added = await run({ action: 'add_scope_tag', params: { scope_tag_id: TAG }, item_ids: ids })
    expect(added.outcome, JSON.stringify(added.failures)).toBe('succeeded')
    let truth = await truthWithContent(env.emulator, tenant.entraTenantId)
    for (const p of picked) expect(truth.get(p.externalId)!.content.roleScopeTagIds, p.policyType).toContain(TAG)
    const removed = await run({ action: 'remove_scope_tag', params: { scope_tag_id: TAG }, item_ids: ids })
    expect(removed.outcome).toBe('succeeded')
    truth = await truthWithContent(env.emulator, tenant.entraTenantId)
    for (const p of picked) expect(truth.get(p.externalId)!.content.roleScopeTagIds, p.policyType).not.toContain(TAG)
  })

  it('renames exactly as the preview said', async () => {
    // Objects holding a secret Graph returns masked cannot be restored (the restore plan blocks them), so Undo is shown on others.
    const picked = (await mixedPolicies(12)).filter((p) => !JSON.stringify(p.payload).includes('****')).slice(0, 10)
    const payload = {
      action: 'rename',
      params: { prefix: 'EU-', find: 'a', replace: 'A' },
      item_ids: picked.map((p) => p.id),
    }
    const preview = await plan(ctx, tenant.tenantId, tenant.token, payload)
    const done = await run(payload)
    expect(done.outcome, JSON.stringify(done.failures)).toBe('succeeded')
    const truth = await truthWithContent(env.emulator, tenant.entraTenantId)
    for (const item of preview.items) {
      const source = picked.find((p) => p.id === item.id)!
      expect(truth.get(source.externalId)!.display_name).toBe(item.new_name)
    }
    // The inventory shows the new names at once; Undo puts the old ones back.
    const rows = await ctx.db
      .select()
      .from(inventoryItems)
      .where(
        inArray(
          inventoryItems.id,
          picked.map((p) => p.id),
        ),
      )
    expect(rows.map((r) => r.displayName).sort()).toEqual(preview.items.map((i) => i.new_name).sort())
    const undoPlan = await undo(done.id)
    expect(undoPlan.items.every((i) => i.action === 'update')).toBe(true)
    const undoRun = await executePlan(undoPlan.id)
    expect(undoRun.outcome).toBe('succeeded')
    const back = await truthWithContent(env.emulator, tenant.entraTenantId)
    for (const p of picked) expect(back.get(p.externalId)!.display_name).toBe(p.displayName)
    // Undone: the run says by which restore run, and offers no second Undo (issue 24).
    const after = await ctx.request({
      method: 'GET',
      url: `/api/tenants/${tenant.tenantId}/bulk-operations/${done.id}`,
      token: tenant.token,
    })
    expect(JSON.parse(after.body)).toMatchObject({
      undo: { available: false, reason: expect.stringContaining(undoRun.id) as string },
      undone_by_run_id: undoRun.id,
    })
    const again = await ctx.request({
      method: 'POST',
      url: `/api/tenants/${tenant.tenantId}/bulk-operations/${done.id}/undo`,
      token: tenant.token,
      headers: { origin: ORIGIN },
    })
    expect(again.statusCode).toBe(409)
  })

  it('duplicates with the assignments, each copy once', async () => {
    const picked = (await mixedPolicies(30))
      .filter((p) =>
        [
          'deviceConfiguration',
          'settingsCatalogPolicy',
          'deviceCompliancePolicy',
          'groupPolicyConfiguration',
          'deviceManagementScript',
        ].includes(p.policyType),
      )
      .slice(0, 6)
    const done = await run({
      action: 'duplicate',
      params: { name_suffix: ' (pilot)' },
      item_ids: picked.map((p) => p.id),
    })
    expect(
      done.outcome,
      JSON.stringify(await ctx.db.select().from(operationRunItems).where(eq(operationRunItems.runId, done.id))),
    ).toBe('succeeded')
    const truth = [...(await truthWithContent(env.emulator, tenant.entraTenantId)).values()]
    for (const p of picked) {
      const copies = truth.filter((o) => o.display_name === `${p.displayName} (pilot)`)
      expect(copies, p.policyType).toHaveLength(1)
      const original = truth.find((o) => o.id === p.externalId)!
      expect((copies[0]!.content.assignments ?? []).map(targetKey).sort()).toEqual(
        stillAssignable(original.content.assignments).map(targetKey).sort(),
      )
    }
  })

  it(
    'deletes after backing up every item; Undo re-creates them all with their assignments',
    { timeout: 180_000 },
    async () => {
      // What a restore cannot re-create (ADR 019/020) is left out here: objects with masked secrets, apps (their packages are not in a backup).
      const picked = (await mixedPolicies(30))
        .filter((p) => !JSON.stringify(p.payload).includes('****') && p.policyType !== 'mobileApp')
        .slice(-8)
      const before = await truthWithContent(env.emulator, tenant.entraTenantId)
      const done = await run({
        action: 'delete',
        params: { confirm_count: picked.length },
        item_ids: picked.map((p) => p.id),
      })
      expect(done.outcome, JSON.stringify(done.failures)).toBe('succeeded')
      const truth = await truthWithContent(env.emulator, tenant.entraTenantId)
      for (const p of picked) expect(truth.has(p.externalId)).toBe(false)
      const [set] = await ctx.db.select().from(backupSets).where(eq(backupSets.runId, done.id))
      expect(set).toMatchObject({ status: 'complete', itemCount: picked.length })
      // The inventory shows them removed at once, with the change history saying so.
      const rows = await ctx.db
        .select()
        .from(inventoryItems)
        .where(
          inArray(
            inventoryItems.id,
            picked.map((p) => p.id),
          ),
        )
      expect(rows.every((r) => r.removedAt !== null)).toBe(true)

      const plan = await undo(done.id)
      expect(
        plan.items.map((i) => i.action),
        JSON.stringify(plan.items.filter((i) => i.action !== 'create')),
      ).toEqual(picked.map(() => 'create'))
      const restored = await executePlan(plan.id)
      expect(restored.outcome, JSON.stringify(restored.failures)).toBe('succeeded')
      const after = [...(await truthWithContent(env.emulator, tenant.entraTenantId)).values()]
      for (const p of picked) {
        const original = before.get(p.externalId)!
        const again = after.filter(
          (o) => o.type === p.policyType && o.display_name === p.displayName && !truth.has(o.id),
        )
        expect(again, p.policyType).toHaveLength(1)
        expect((again[0]!.content.assignments ?? []).map(targetKey).sort(), p.policyType).toEqual(
          (original.content.assignments ?? []).map(targetKey).sort(),
        )
      }
    },
  )

  it(
    'writes every item once although Graph loses responses, and stops between items when cancelled',
    { timeout: 180_000 },
    async () => {
      await syncAndWait(ctx, tenant.tenantId, tenant.token)
      const picked = await mixedPolicies(40)
      const writesBefore = await appWritesByObject(env.emulator, tenant, tenant.secret)
      await control(env.emulator, 'PUT', '/faults', { drop_response_rate: 0.3 })
      const done = await run({
        action: 'add_scope_tag',
        params: { scope_tag_id: OTHER_TAG },
        item_ids: picked.map((p) => p.id),
      })
      expect(
        done.outcome,
        JSON.stringify(
          await ctx.db
            .select()
            .from(operationRunItems)
            .where(and(eq(operationRunItems.runId, done.id), eq(operationRunItems.status, 'failed'))),
        ),
      ).toBe('succeeded')
      await control(env.emulator, 'PUT', '/faults', {})
      const writesAfter = await appWritesByObject(env.emulator, tenant, tenant.secret)
      for (const p of picked)
        expect(
          (writesAfter.get(p.externalId)?.length ?? 0) - (writesBefore.get(p.externalId)?.length ?? 0),
          p.policyType,
        ).toBe(1)
      expect(await ctx.db.select().from(notifications).where(eq(notifications.runId, done.id))).toHaveLength(1)
      // Lost responses happened, and were settled by reading Intune's audit log, not by writing again.
      expect((await frozen(ctx, done.id)).filter((r) => r.result?.how === 'reconciled').length).toBeGreaterThan(0)

      // Cancel: the run ends cancelled with items left pending, none half-written.
      await control(env.emulator, 'PUT', '/faults', { latency_ms: 40 })
      const { run: started } = await startBulk(ctx, tenant.tenantId, tenant.token, {
        action: 'remove_scope_tag',
        params: { scope_tag_id: OTHER_TAG },
        item_ids: picked.map((p) => p.id),
      })
      for (;;) {
        const states = await frozen(ctx, started.id)
        if (states.some((s) => s.state === 'succeeded')) break
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      await ctx.engine.cancelRun({ kind: 'system' }, tenant.tenantId, started.id)
      const cancelled = await waitForCompletion(ctx, started.id)
      expect(cancelled.outcome).toBe('cancelled')
      const states = await frozen(ctx, started.id)
      expect(states.filter((s) => s.state === 'pending').length).toBeGreaterThan(0)
    },
  )
})
