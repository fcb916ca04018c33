import { and, eq } from 'drizzle-orm'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  graphWrites,
  inventoryChanges,
  inventoryItems,
  inventoryVersions,
  notifications,
  operationRunItems,
} from '../../src/db/schema.ts'
import { getPolicyType } from '../../src/graph/policy-types.ts'
import { notWritableReason } from '../../src/graph/writes/strategies.ts'
import { control } from '../graph/emulator-helpers.ts'
import { errorOf, ORIGIN, type TestContext } from '../harness.ts'
import { connectTenant, syncAndWait } from '../inventory/helpers.ts'
import { backupAndWait } from '../backups/helpers.ts'
import {
  comparable,
  contents,
  execute,
  executeAndWait,
  plan,
  restoreContext,
  type Body,
  type ContentObject,
} from './helpers.ts'
import { waitForCompletion } from '../inventory/helpers.ts'
import { waitFor } from '../operations/helpers.ts'

let env: Awaited<ReturnType<typeof restoreContext>>
let ctx: TestContext

beforeAll(async () => {
  env = await restoreContext()
  ctx = env.ctx
})
afterAll(async () => env.close())
afterEach(async () => {
  await control(env.emulator, 'PUT', '/faults', { throttle_scale: 100 })
})

const FOUNDATIONS = new Set(['roleScopeTag', 'assignmentFilter', 'notificationMessageTemplate'])
const hasSecret = (o: ContentObject) => JSON.stringify(o.content).includes('****')

/** Deletes one object and renames another of every type (foundations only when nothing refers to them). */
async function breakTenant(entraTenantId: string, originals: ContentObject[]) {
  const deleted = new Set<string>()
  const changed = new Set<string>()
  const everything = JSON.stringify(originals.map((o) => o.content))
  const byType = new Map<string, ContentObject[]>()
  for (const o of originals) if (o.type !== 'group') byType.set(o.type, [...(byType.get(o.type) ?? []), o])
  for (const [type, list] of byType) {
    const entry = getPolicyType(type)
    if (entry.singleton) {
      // A tenant's one settings object is never deleted in Graph, only changed (the certificate and
      // Google Play connection are not writable: blocked whatever their state).
      if (type === 'deviceManagementSettings') {
        const settings = list[0]!
        const days = Number(settings.content.deviceComplianceCheckinThresholdDays)
        expect(
          (
            await control(env.emulator, 'PATCH', `/tenants/${entraTenantId}/items/${settings.id}`, {
              deviceComplianceCheckinThresholdDays: days === 30 ? 31 : 30,
            })
          ).status,
        ).toBe(200)
        changed.add(settings.id)
      }
      continue
    }
    const candidates = list.filter(
      (o) => !hasSecret(o) && (!FOUNDATIONS.has(type) || everything.split(`"${o.id}"`).length === 2),
    )
    const victim = candidates[0]
    if (victim) {
      expect((await control(env.emulator, 'DELETE', `/tenants/${entraTenantId}/items/${victim.id}`)).status).toBe(204)
      deleted.add(victim.id)
    }
    const other = list.find((o) => o.id !== victim?.id)
    if (other) {
      const patch: Body = { [entry.nameProperty]: `${other.display_name} (changed)` }
      if (entry.assignments !== null) patch.assignments = []
      expect((await control(env.emulator, 'PATCH', `/tenants/${entraTenantId}/items/${other.id}`, patch)).status).toBe(
        200,
      )
      changed.add(other.id)
    }
  }
  return { deleted, changed }
}

describe('restore into the same tenant', () => {
  it(
    'round trip for every catalog type: exactly the creates, updates and skips; the content equals the original; a fresh plan writes nothing',
    { timeout: 300_000 },
    async () => {
      const tenant = await connectTenant(ctx, env.emulator, { policies: 90 })
      await syncAndWait(ctx, tenant.tenantId, tenant.token)
      const { backup } = await backupAndWait(ctx, tenant.tenantId, tenant.token, { name: 'Before' })
      const originals = (await contents(env.emulator, tenant.entraTenantId)).filter((o) => o.type !== 'group')
      const { deleted, changed } = await breakTenant(tenant.entraTenantId, originals)
      await syncAndWait(ctx, tenant.tenantId, tenant.token)

      const p = await plan(ctx, tenant.tenantId, tenant.token, { backup_id: backup.id })
      expect(p.stale).toBe(false)
      const expected = (o: ContentObject) =>
        notWritableReason(getPolicyType(o.type), o.content)
          ? 'blocked'
          : deleted.has(o.id)
            ? 'create'
            : changed.has(o.id)
              ? 'update'
              : 'skip'
      const actions = Object.fromEntries(p.items.map((i) => [`${i.policy_type}/${i.source_id}`, i.action]))
      expect(actions).toEqual(Object.fromEntries(originals.map((o) => [`${o.type}/${o.id}`, expected(o)])))
      expect(p.counts.create).toBeGreaterThan(25)
      // Dependencies first.
      const firstPolicy = p.items.findIndex(
        (i) => !FOUNDATIONS.has(i.policy_type) && getPolicyType(i.policy_type).kind === 'policy',
      )
      expect(p.items.slice(firstPolicy).every((i) => !FOUNDATIONS.has(i.policy_type))).toBe(true)
      const renamed = p.items.find((i) => i.action === 'update' && i.policy_type === 'deviceConfiguration')!
      expect(renamed.changes?.map((c) => c.label)).toEqual(expect.arrayContaining([expect.stringMatching(/name/i)]))

      const run = await executeAndWait(ctx, tenant.tenantId, tenant.token, p.id)
      const failed = await ctx.db
        .select()
        .from(operationRunItems)
        .where(and(eq(operationRunItems.runId, run.id), eq(operationRunItems.status, 'failed')))
      expect(failed).toEqual([])
      expect(run.outcome).toBe('succeeded')

      const now = await contents(env.emulator, tenant.entraTenantId)
      const originalIds = new Set(originals.map((o) => o.id))
      // An assignment to a group the tenant no longer has is left out of what is written (Graph
      // refuses it), with a warning on the plan item: the generated tenant's deleted group.
      const emulated = env.emulator.tenant(tenant.entraTenantId)!
      const toDeletedGroup = (a: Body) => {
        const groupId = (a.target as Body | undefined)?.groupId
        return typeof groupId === 'string' && emulated.group(groupId) === 'deleted'
      }
      const written = (o: ContentObject) => deleted.has(o.id) || changed.has(o.id)
      let leftOut = 0
      for (const o of originals) {
        if (expected(o) === 'blocked') continue
        const current = deleted.has(o.id)
          ? now.find((n) => n.type === o.type && !originalIds.has(n.id) && n.display_name === o.display_name)
          : now.find((n) => n.id === o.id)
        expect(current, `${o.type} ${o.display_name}`).toBeDefined()
        const assignments = o.content.assignments as Body[] | undefined
        const orphans = written(o) ? (assignments ?? []).filter(toDeletedGroup).length : 0
        const want =
          orphans > 0 ? { ...o.content, assignments: assignments!.filter((a) => !toDeletedGroup(a)) } : o.content
        expect(comparable(current!.content), `${o.type} ${o.display_name}`).toEqual(comparable(want))
        if (orphans > 0) {
          leftOut++
          const item = p.items.find((i) => i.source_id === o.id)!
          expect(item.warnings, `${o.type} ${o.display_name}`).toContainEqual(
            expect.stringMatching(/^Assignment to group ".+" left out: the group no longer exists in the target$/),
          )
        }
      }
      expect(leftOut, 'restored objects that were assigned to the deleted group').toBeGreaterThan(0)
      expect(now.filter((n) => n.type !== 'group').length).toBe(
        originals.filter((o) => !(deleted.has(o.id) && expected(o) === 'blocked')).length,
      )

      // Restored objects are in the inventory, "restored" in the change history, with a version of the result.
      const restored = await ctx.db
        .select()
        .from(inventoryChanges)
        .where(and(eq(inventoryChanges.runId, run.id), eq(inventoryChanges.kind, 'restored')))
      expect(restored.length).toBe(p.counts.create! + p.counts.update!)
      const [item] = await ctx.db
        .select()
        .from(inventoryItems)
        .where(and(eq(inventoryItems.tenantId, tenant.tenantId), eq(inventoryItems.externalId, renamed.source_id)))
      expect(item!.displayName).toBe(renamed.display_name)
      expect(
        (await ctx.db.select().from(inventoryVersions).where(eq(inventoryVersions.itemId, item!.id))).length,
      ).toBeGreaterThan(1)

      // A fresh plan: nothing to write.
      const again = await plan(ctx, tenant.tenantId, tenant.token, { backup_id: backup.id })
      expect(again.counts.create).toBe(0)
      expect(again.counts.update).toBe(0)
      const second = await executeAndWait(ctx, tenant.tenantId, tenant.token, again.id)
      expect(await ctx.db.select().from(graphWrites).where(eq(graphWrites.runId, second.id))).toEqual([])
    },
  )

  it(
    'writes every object once when a fifth of the responses are lost; one notification',
    { timeout: 300_000 },
    async () => {
      const tenant = await connectTenant(ctx, env.emulator, { policies: 60 })
      await syncAndWait(ctx, tenant.tenantId, tenant.token)
      const { backup } = await backupAndWait(ctx, tenant.tenantId, tenant.token)
      const originals = (await contents(env.emulator, tenant.entraTenantId)).filter((o) => o.type !== 'group')
      const { deleted } = await breakTenant(tenant.entraTenantId, originals)
      await syncAndWait(ctx, tenant.tenantId, tenant.token)
      const p = await plan(ctx, tenant.tenantId, tenant.token, { backup_id: backup.id })
      await control(env.emulator, 'PUT', '/faults', { throttle_scale: 100, drop_response_rate: 0.2 })
      const run = await executeAndWait(ctx, tenant.tenantId, tenant.token, p.id)
      await control(env.emulator, 'PUT', '/faults', { throttle_scale: 100 })
      expect(run.outcome).toBe('succeeded')
      const now = await contents(env.emulator, tenant.entraTenantId)
      const originalIds = new Set(originals.map((o) => o.id))
      // No duplicate: each deleted object exists exactly once again.
      for (const o of originals.filter(
        (x) => deleted.has(x.id) && !notWritableReason(getPolicyType(x.type), x.content),
      )) {
        expect(
          now.filter((n) => n.type === o.type && !originalIds.has(n.id) && n.display_name === o.display_name).length,
          `${o.type} ${o.display_name}`,
        ).toBe(1)
      }
      const writes = await ctx.db.select().from(graphWrites).where(eq(graphWrites.runId, run.id))
      expect(writes.every((w) => w.state === 'confirmed')).toBe(true)
      expect(writes.some((w) => w.attempts > 1 || w.confirmedAt !== null)).toBe(true)
      expect(await ctx.db.select().from(notifications).where(eq(notifications.runId, run.id))).toHaveLength(1)
    },
  )

  it(
    'reports blocked items (a masked secret, a retired setting definition) and restores the rest',
    { timeout: 180_000 },
    async () => {
      const tenant = await connectTenant(ctx, env.emulator, { policies: 90 })
      await syncAndWait(ctx, tenant.tenantId, tenant.token)
      const { backup } = await backupAndWait(ctx, tenant.tenantId, tenant.token)
      const originals = await contents(env.emulator, tenant.entraTenantId)
      const secret = originals.find((o) => o.type === 'deviceConfiguration' && hasSecret(o))!
      const catalog = originals.find((o) => o.type === 'settingsCatalogPolicy')!
      const plain = originals.find((o) => o.type === 'deviceCompliancePolicy')!
      const definition = ((catalog.content.settings as Body[])[0]!.settingInstance as Body)
        .settingDefinitionId as string
      for (const o of [secret, catalog, plain])
        await control(env.emulator, 'DELETE', `/tenants/${tenant.entraTenantId}/items/${o.id}`)
      await control(env.emulator, 'PUT', `/tenants/${tenant.entraTenantId}/retired_setting_definitions`, [definition])
      await syncAndWait(ctx, tenant.tenantId, tenant.token)
      const p = await plan(ctx, tenant.tenantId, tenant.token, { backup_id: backup.id })
      const of = (o: ContentObject) => p.items.find((i) => i.source_id === o.id)!
      expect(of(secret)).toMatchObject({ action: 'blocked', reason: expect.stringContaining('masked secret') })
      expect(of(catalog)).toMatchObject({ action: 'blocked', reason: expect.stringContaining(definition) })
      expect(of(plain).action).toBe('create')
      const run = await executeAndWait(ctx, tenant.tenantId, tenant.token, p.id)
      expect(run.outcome).toBe('succeeded')
      const items = await ctx.db.select().from(operationRunItems).where(eq(operationRunItems.runId, run.id))
      expect(items.find((i) => i.targetId === secret.id)).toMatchObject({ status: 'skipped', code: 'blocked' })
      // The run's items list blocked objects apart from the plain skips (issue 24).
      const listed = async (status: string) => {
        const response = await ctx.request({
          method: 'GET',
          url: `/api/tenants/${tenant.tenantId}/operation-runs/${run.id}/items?status=${status}&limit=500`,
          token: tenant.token,
        })
        return (JSON.parse(response.body) as { data: { target: { id: string }; status: string }[] }).data
      }
      const blocked = (await listed('blocked')).map((i) => i.target.id)
      expect(blocked).toEqual(expect.arrayContaining([secret.id, catalog.id]))
      expect(blocked).toHaveLength(p.items.filter((i) => i.action === 'blocked').length)
      const skipped = await listed('skipped')
      expect(skipped.map((i) => i.target.id)).not.toContain(secret.id)
      expect((await listed('written')).every((i) => i.status === 'succeeded' || i.status === 'failed')).toBe(true)
      expect(items.find((i) => i.targetName === plain.display_name && i.action === 'create')).toMatchObject({
        status: 'succeeded',
      })
      const now = await contents(env.emulator, tenant.entraTenantId)
      expect(
        now.filter((n) => n.type === 'deviceCompliancePolicy' && n.display_name === plain.display_name),
      ).toHaveLength(1)
      expect(
        now.find((n) => n.display_name === secret.display_name && n.type === 'deviceConfiguration'),
      ).toBeUndefined()
    },
  )

  it("restores a single version from an item's timeline through a one-item plan", { timeout: 180_000 }, async () => {
    const tenant = await connectTenant(ctx, env.emulator, { policies: 30 })
    await syncAndWait(ctx, tenant.tenantId, tenant.token)
    const target = (await contents(env.emulator, tenant.entraTenantId)).find(
      (o) => o.type === 'deviceConfiguration' && !hasSecret(o),
    )!
    await control(env.emulator, 'PATCH', `/tenants/${tenant.entraTenantId}/items/${target.id}`, {
      displayName: 'Broken by someone',
      description: 'oops',
    })
    await syncAndWait(ctx, tenant.tenantId, tenant.token)
    const [item] = await ctx.db
      .select()
      .from(inventoryItems)
      .where(and(eq(inventoryItems.tenantId, tenant.tenantId), eq(inventoryItems.externalId, target.id)))
    const [first] = await ctx.db
      .select()
      .from(inventoryVersions)
      .where(and(eq(inventoryVersions.itemId, item!.id), eq(inventoryVersions.number, 1)))
    const p = await plan(ctx, tenant.tenantId, tenant.token, { version_id: first!.id })
    expect(p.items.map((i) => [i.source_id, i.action])).toEqual([[target.id, 'update']])
    const run = await executeAndWait(ctx, tenant.tenantId, tenant.token, p.id)
    expect(run.outcome).toBe('succeeded')
    const now = (await contents(env.emulator, tenant.entraTenantId)).find((o) => o.id === target.id)!
    expect(comparable(now.content)).toEqual(comparable(target.content))
    const changes = await ctx.db
      .select()
      .from(inventoryChanges)
      .where(and(eq(inventoryChanges.itemId, item!.id), eq(inventoryChanges.kind, 'restored')))
    expect(changes).toHaveLength(1)
  })

  it(
    'refuses a stale plan until it is refreshed, and cancels between objects, reporting what was written',
    { timeout: 180_000 },
    async () => {
      const tenant = await connectTenant(ctx, env.emulator, { policies: 60 })
      await syncAndWait(ctx, tenant.tenantId, tenant.token)
      const { backup } = await backupAndWait(ctx, tenant.tenantId, tenant.token)
      const originals = (await contents(env.emulator, tenant.entraTenantId)).filter((o) => o.type !== 'group')
      await breakTenant(tenant.entraTenantId, originals)
      const p = await plan(ctx, tenant.tenantId, tenant.token, { backup_id: backup.id })
      await syncAndWait(ctx, tenant.tenantId, tenant.token)
      const stale = await ctx.request({
        method: 'POST',
        url: `/api/tenants/${tenant.tenantId}/restore-plans/${p.id}/execute`,
        token: tenant.token,
        headers: { origin: ORIGIN },
      })
      expect(stale.statusCode).toBe(409)
      expect(errorOf(stale.body).code).toBe('plan_stale')
      const refreshed = await ctx.request({
        method: 'PATCH',
        url: `/api/tenants/${tenant.tenantId}/restore-plans/${p.id}`,
        token: tenant.token,
        headers: { origin: ORIGIN },
        payload: { refresh: true },
      })
      expect(refreshed.statusCode).toBe(200)
      expect((JSON.parse(refreshed.body) as { stale: boolean; counts: { create: number } }).stale).toBe(false)

      await control(env.emulator, 'PUT', '/faults', { throttle_scale: 100, latency_ms: 150 })
      const run = await execute(ctx, tenant.tenantId, tenant.token, p.id)
      // Cancelled once some objects are written, whatever the machine's speed (a fixed pause may end before the first write).
      await waitFor(
        async () =>
          (
            await ctx.db
              .select()
              .from(operationRunItems)
              .where(and(eq(operationRunItems.runId, run.id), eq(operationRunItems.status, 'succeeded')))
          ).length > 0,
        'the restore to write its first objects',
        120_000,
      )
      const cancel = await ctx.request({
        method: 'POST',
        url: `/api/tenants/${tenant.tenantId}/operation-runs/${run.id}/cancel`,
        token: tenant.token,
        headers: { origin: ORIGIN },
      })
      expect(cancel.statusCode).toBe(202)
      const done = await waitForCompletion(ctx, run.id, 120_000)
      expect(done.outcome).toBe('cancelled')
      const items = await ctx.db.select().from(operationRunItems).where(eq(operationRunItems.runId, run.id))
      const written = items.filter((i) => i.status === 'succeeded')
      const notReached = items.filter((i) => i.code === 'cancelled')
      expect(written.length).toBeGreaterThan(0)
      expect(notReached.length).toBeGreaterThan(0)
      // What the run reports as written is what its journal confirmed, no more.
      const writes = await ctx.db.select().from(graphWrites).where(eq(graphWrites.runId, run.id))
      expect(writes.every((w) => w.state === 'confirmed')).toBe(true)
    },
  )
})
