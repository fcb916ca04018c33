import { and, eq, isNull } from 'drizzle-orm'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { inventoryItems, notifications, operationRunItems } from '../../src/db/schema.ts'
import { backupAndWait } from '../backups/helpers.ts'
import { startBulk } from '../bulk/helpers.ts'
import { control } from '../graph/emulator-helpers.ts'
import { errorOf, ORIGIN, type TestContext } from '../harness.ts'
import { connectTenant, syncAndWait, waitForCompletion } from '../inventory/helpers.ts'
import {
  contents,
  execute,
  executeAndWait,
  plan,
  restoreContext,
  type Body,
  type PlanBody,
} from '../restore/helpers.ts'

/**
 * Issue 21, items 1, 2, 4 and 5 as a careful tester found them: each of these failed before the
 * one tenant-object pipeline (ADR 023).
 */

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

const HOUR = 3_600_000
const add = async (entraTenantId: string, body: Body) =>
  (await control<{ id: string }>(env.emulator, 'POST', `/tenants/${entraTenantId}/items`, body)).body.id
const groupsOf = (tenantId: string) =>
  ctx.db
    .select()
    .from(inventoryItems)
    .where(
      and(
        eq(inventoryItems.tenantId, tenantId),
        eq(inventoryItems.policyType, 'group'),
        isNull(inventoryItems.removedAt),
      ),
    )

describe('issue 21: writes that must happen exactly once', () => {
  it(
    '1. bulk duplicate with 30 % of the answers lost and the audit log an hour late: one copy of each original',
    { timeout: 300_000 },
    async () => {
      const tenant = await connectTenant(ctx, env.emulator, { policies: 120 })
      await syncAndWait(ctx, tenant.tenantId, tenant.token)
      const configs = (
        await ctx.db
          .select()
          .from(inventoryItems)
          .where(
            and(
              eq(inventoryItems.tenantId, tenant.tenantId),
              eq(inventoryItems.policyType, 'deviceConfiguration'),
              isNull(inventoryItems.removedAt),
            ),
          )
      ).filter((r) => !JSON.stringify(r.payload).includes('****'))
      const picked = configs.slice(0, 20)
      expect(picked.length).toBeGreaterThanOrEqual(10)
      await control(env.emulator, 'PUT', `/tenants/${tenant.entraTenantId}/faults`, { audit_delay_ms: HOUR })
      await control(env.emulator, 'PUT', '/faults', { throttle_scale: 100, drop_response_rate: 0.3 })
      try {
        const { run } = await startBulk(ctx, tenant.tenantId, tenant.token, {
          action: 'duplicate',
          params: { name_suffix: ' (copy)' },
          item_ids: picked.map((p) => p.id),
        })
        const done = await waitForCompletion(ctx, run.id, 240_000)
        await control(env.emulator, 'PUT', '/faults', { throttle_scale: 100 })
        const failed = await ctx.db
          .select()
          .from(operationRunItems)
          .where(and(eq(operationRunItems.runId, run.id), eq(operationRunItems.status, 'failed')))
        expect(failed).toEqual([])
        expect(done.outcome).toBe('succeeded')
        const truth = await contents(env.emulator, tenant.entraTenantId)
        for (const p of picked)
          expect(
            truth.filter((o) => o.display_name === `${p.displayName} (copy)`),
            p.displayName,
          ).toHaveLength(1)
        expect(await ctx.db.select().from(notifications).where(eq(notifications.runId, run.id))).toHaveLength(1)
      } finally {
        await control(env.emulator, 'PUT', `/tenants/${tenant.entraTenantId}/faults`, { audit_delay_ms: 0 })
      }
    },
  )

  it(
    '2. a restore plan executes once: a second execute answers 409 naming the run and writes nothing',
    { timeout: 240_000 },
    async () => {
      const tenant = await connectTenant(ctx, env.emulator, { policies: 30 })
      await syncAndWait(ctx, tenant.tenantId, tenant.token)
      const { backup } = await backupAndWait(ctx, tenant.tenantId, tenant.token)
      const victims = (await contents(env.emulator, tenant.entraTenantId))
        .filter((o) => o.type === 'deviceConfiguration' && !JSON.stringify(o.content).includes('****'))
        .slice(0, 3)
      expect(victims).toHaveLength(3)
      for (const v of victims) await control(env.emulator, 'DELETE', `/tenants/${tenant.entraTenantId}/items/${v.id}`)
      await syncAndWait(ctx, tenant.tenantId, tenant.token)
      const p = await plan(ctx, tenant.tenantId, tenant.token, { backup_id: backup.id })
      expect(p.counts.create).toBe(3)
      const first = await executeAndWait(ctx, tenant.tenantId, tenant.token, p.id)
      expect(first.outcome).toBe('succeeded')
      const count = (await contents(env.emulator, tenant.entraTenantId)).length
      const again = await ctx.request({
        method: 'POST',
        url: `/api/tenants/${tenant.tenantId}/restore-plans/${p.id}/execute`,
        token: tenant.token,
        headers: { origin: ORIGIN },
      })
      expect(again.statusCode, again.body).toBe(409)
      expect(errorOf(again.body)).toMatchObject({ code: 'plan_executed', details: { run_id: first.id } })
      expect(errorOf(again.body).message).toContain(first.id)
      expect((await contents(env.emulator, tenant.entraTenantId)).length).toBe(count)
    },
  )

  it(
    '4 and 5. across tenants: a same-name object of another @odata.type is a create; foreign and malformed group ids are 422',
    { timeout: 240_000 },
    async () => {
      const a = await connectTenant(ctx, env.emulator, { policies: 20, seed: 'issue21-a' })
      const b = await connectTenant(ctx, env.emulator, { policies: 20, seed: 'issue21-b' })
      await ctx.factories.member(b.tenantId, a.owner, 'owner')
      await syncAndWait(ctx, a.tenantId, a.token)
      await syncAndWait(ctx, b.tenantId, b.token)
      const aGroup = (await groupsOf(a.tenantId))[0]!
      const bGroup = (await groupsOf(b.tenantId))[0]!
      expect(aGroup.externalId).not.toBe(bGroup.externalId)
      const name = 'Compliance - Executives 004'
      const mac = await add(a.entraTenantId, {
        type: 'deviceConfiguration',
        '@odata.type': '#microsoft.graph.macOSGeneralDeviceConfiguration',
        displayName: name,
        description: 'mac',
        passwordRequired: true,
        roleScopeTagIds: ['0'],
      })
      const win = await add(b.entraTenantId, {
        type: 'deviceConfiguration',
        '@odata.type': '#microsoft.graph.windows10GeneralConfiguration',
        displayName: name,
        description: 'windows',
        passwordRequired: false,
        roleScopeTagIds: ['0'],
      })
      const target = {
        '@odata.type': '#microsoft.graph.groupAssignmentTarget',
        groupId: aGroup.externalId,
        deviceAndAppManagementAssignmentFilterId: null,
        deviceAndAppManagementAssignmentFilterType: 'none',
      }
      await control(env.emulator, 'PATCH', `/tenants/${a.entraTenantId}/items/${mac}`, {
        assignments: [{ id: `${mac}_${aGroup.externalId}`, target }],
      })
      await syncAndWait(ctx, a.tenantId, a.token)
      await syncAndWait(ctx, b.tenantId, b.token)
      const [item] = await ctx.db
        .select()
        .from(inventoryItems)
        .where(and(eq(inventoryItems.tenantId, a.tenantId), eq(inventoryItems.externalId, mac)))
      const { backup } = await backupAndWait(ctx, a.tenantId, a.token)
      const p = await plan(ctx, b.tenantId, a.token, { backup_id: backup.id, item_ids: [item!.id] })
      const planned = p.items.find((i) => i.source_id === mac)!
      expect(planned).toMatchObject({ action: 'create', target_id: null })
      expect(planned.reason).toContain('#microsoft.graph.windows10GeneralConfiguration')

      // Mapping the group: a malformed id and another tenant's group are refused, naming the field and the id.
      const patch = (body: Body) =>
        ctx.request({
          method: 'PATCH',
          url: `/api/tenants/${b.tenantId}/restore-plans/${p.id}`,
          token: a.token,
          headers: { origin: ORIGIN },
          payload: body,
        })
      for (const bad of ['../../x?$top=1', aGroup.externalId]) {
        const response = await patch({ mapping: [{ kind: 'group', source_id: aGroup.externalId, target_id: bad }] })
        expect(response.statusCode, response.body).toBe(422)
        expect(JSON.stringify(errorOf(response.body).details)).toContain('mapping')
        expect(JSON.stringify(errorOf(response.body))).toContain(bad)
      }
      const good = await patch({
        mapping: [{ kind: 'group', source_id: aGroup.externalId, target_id: bGroup.externalId }],
      })
      expect(good.statusCode, good.body).toBe(200)
      expect((JSON.parse(good.body) as PlanBody).mapping.find((m) => m.source_id === aGroup.externalId)).toMatchObject({
        target_id: bGroup.externalId,
      })

      const run = await execute(ctx, b.tenantId, a.token, p.id)
      const done = await waitForCompletion(ctx, run.id, 180_000)
      expect(
        done.outcome,
        JSON.stringify(await ctx.db.select().from(operationRunItems).where(eq(operationRunItems.runId, run.id))),
      ).toBe('succeeded')
      const named = (await contents(env.emulator, b.entraTenantId)).filter((o) => o.display_name === name)
      expect(named.map((o) => o.content['@odata.type']).sort()).toEqual([
        '#microsoft.graph.macOSGeneralDeviceConfiguration',
        '#microsoft.graph.windows10GeneralConfiguration',
      ])
      expect(named.find((o) => o.id === win)!.content.description).toBe('windows')

      // Bulk assign with another tenant's group (or its filter) is refused before anything is planned.
      const bPolicy = (
        await ctx.db
          .select()
          .from(inventoryItems)
          .where(and(eq(inventoryItems.tenantId, b.tenantId), eq(inventoryItems.externalId, win)))
      )[0]!
      for (const params of [
        { group_id: aGroup.externalId, intent: 'include' },
        { group_id: bGroup.externalId, intent: 'include', filter_id: 'f0f0f0f0-0000-4000-8000-000000000000' },
      ]) {
        const response = await ctx.request({
          method: 'POST',
          url: `/api/tenants/${b.tenantId}/bulk-operations`,
          token: b.token,
          headers: { origin: ORIGIN },
          payload: { action: 'assign', params, item_ids: [bPolicy.id], dry_run: true },
        })
        expect(response.statusCode, response.body).toBe(422)
        const error = JSON.stringify(errorOf(response.body))
        expect(error).toContain(params.filter_id ? 'params.filter_id' : 'params.group_id')
        expect(error).toContain(params.filter_id ?? params.group_id)
      }
      const ok = await ctx.request({
        method: 'POST',
        url: `/api/tenants/${b.tenantId}/bulk-operations`,
        token: b.token,
        headers: { origin: ORIGIN },
        payload: {
          action: 'assign',
          params: { group_id: bGroup.externalId, intent: 'include' },
          item_ids: [bPolicy.id],
          dry_run: true,
        },
      })
      expect(ok.statusCode, ok.body).toBe(200)
    },
  )
})
