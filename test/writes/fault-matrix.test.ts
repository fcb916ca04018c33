import { and, eq } from 'drizzle-orm'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { bulkOperationItems, operationRunItems, type InventoryItemRow } from '../../src/db/schema.ts'
import { targetKey, truthWithContent, type TruthObject } from '../bulk/emulator-truth.ts'
import { addScopeTag, leastAssignedGroup, startBulk } from '../bulk/helpers.ts'
import { control } from '../graph/emulator-helpers.ts'
import { ORIGIN, type TestContext } from '../harness.ts'
import { connectTenant, syncAndWait, waitForCompletion } from '../inventory/helpers.ts'
import { restoreContext } from '../restore/helpers.ts'
import { delta, matrixHelpers, touchedBesides } from './matrix.ts'

/**
 * The fault matrix (issue 21): every bulk action, and Undo's restore, with 30 % of Graph's answers
 * lost while Intune's audit log lags an hour (so every lost answer is settled by the content
 * check), then the same run asked for again. Each cell: every intended change exactly once in the
 * emulator's ground truth, nothing else touched, the inventory equal to the tenant for the run's
 * items, one notification. The SIGKILL column: sigkill-matrix.test.ts (the seven bulk actions and
 * Undo); restore's cells (create, update, assign, the settings PATCH): restore-matrix.test.ts.
 * Bulk intents across runs in detail: repeat.test.ts.
 */

let env: Awaited<ReturnType<typeof restoreContext>>
let ctx: TestContext
let tenant: Awaited<ReturnType<typeof connectTenant>>
let group: string
let tag: string

beforeAll(async () => {
  env = await restoreContext()
  ctx = env.ctx
  tenant = await connectTenant(ctx, env.emulator, { policies: 90 })
  tag = await addScopeTag(env.emulator, tenant.entraTenantId, 'Matrix tag')
  await syncAndWait(ctx, tenant.tenantId, tenant.token)
  group = await leastAssignedGroup(ctx, tenant.tenantId)
})
afterAll(async () => env.close())
afterEach(async () => {
  await control(env.emulator, 'PUT', '/faults', { throttle_scale: 100 })
  await control(env.emulator, 'PUT', `/tenants/${tenant.entraTenantId}/faults`, { audit_delay_ms: 0 })
})

const {
  policies: pick,
  underFaults,
  writesOf,
  expectInventoryIsTenant,
  oneNotification,
} = matrixHelpers(() => ({
  ctx,
  emulator: env.emulator,
  tenant,
}))
const policies = (n: number, skip: Set<string>) => pick(n, skip, group)

/** The same run asked for again once it finished: nothing is written a second time. */
async function startAgain(payload: Record<string, unknown>, ids: readonly string[]) {
  const before = await writesOf()
  const { run } = await startBulk(ctx, tenant.tenantId, tenant.token, payload)
  const done = await waitForCompletion(ctx, run.id, 120_000)
  expect(done.outcome, JSON.stringify(done.failures)).toBe('succeeded')
  const after = await writesOf()
  for (const id of ids) expect(delta(after, before, id), 'nothing written again').toBe(0)
  expect(touchedBesides(after, before, []), 'nothing written at all').toEqual([])
}

const used = new Set<string>()

describe('fault matrix: lost answers with the audit log an hour late, then the same run again', () => {
  const cells: [string, () => Record<string, unknown>, (p: InventoryItemRow, t: TruthObject) => void][] = [
    [
      'assign',
      () => ({ group_id: group, intent: 'include' }),
      (_p, t) => expect((t.content.assignments ?? []).filter((a) => targetKey(a).includes(group))).toHaveLength(1),
    ],
    ['add_scope_tag', () => ({ scope_tag_id: tag }), (_p, t) => expect(t.content.roleScopeTagIds).toContain(tag)],
    // find → replace, so the same rename again finds nothing left to change (a prefix would be added twice, rightly).
    [
      'rename',
      () => ({ find: ' ', replace: '_' }),
      (p, t) => expect(t.display_name).toBe(p.displayName.replaceAll(' ', '_')),
    ],
  ]
  for (const [action, params, check] of cells) {
    it(
      `${action}: every item changed once, the inventory equals the tenant, one notification; started again, nothing written`,
      { timeout: 180_000 },
      async () => {
        const picked = await policies(8, used)
        const ids = picked.map((p) => p.externalId)
        const before = await writesOf()
        const payload = { action, params: params(), item_ids: picked.map((p) => p.id) }
        const done = await underFaults(async () =>
          waitForCompletion(ctx, (await startBulk(ctx, tenant.tenantId, tenant.token, payload)).run.id, 150_000),
        )
        expect(
          done.outcome,
          JSON.stringify(
            await ctx.db
              .select()
              .from(operationRunItems)
              .where(and(eq(operationRunItems.runId, done.id), eq(operationRunItems.status, 'failed'))),
          ),
        ).toBe('succeeded')
        const after = await writesOf()
        const truth = await truthWithContent(env.emulator, tenant.entraTenantId)
        for (const p of picked) {
          expect(delta(after, before, p.externalId), `${p.policyType} written once`).toBe(1)
          check(p, truth.get(p.externalId)!)
        }
        // Nothing else touched: the app wrote only the run's objects.
        expect([...after.keys()].filter((id) => delta(after, before, id) !== 0 && !ids.includes(id))).toEqual([])
        await expectInventoryIsTenant(ids, truth)
        await oneNotification(done.id)
        await startAgain(payload, ids)
      },
    )
  }

  it(
    'unassign and remove_scope_tag (of a group and tag added first): every item changed once, the inventory equals the tenant, one notification',
    { timeout: 180_000 },
    async () => {
      const picked = await policies(6, used)
      const ids = picked.map((p) => p.externalId)
      const item_ids = picked.map((p) => p.id)
      for (const [action, params] of [
        ['assign', { group_id: group, intent: 'include' }],
        ['add_scope_tag', { scope_tag_id: tag }],
      ] as const) {
        expect(
          (
            await waitForCompletion(
              ctx,
              (await startBulk(ctx, tenant.tenantId, tenant.token, { action, params, item_ids })).run.id,
            )
          ).outcome,
        ).toBe('succeeded')
      }
      for (const [action, params] of [
        ['unassign', { group_id: group }],
        ['remove_scope_tag', { scope_tag_id: tag }],
      ] as const) {
        const before = await writesOf()
        const done = await underFaults(async () =>
          waitForCompletion(
            ctx,
            (await startBulk(ctx, tenant.tenantId, tenant.token, { action, params, item_ids })).run.id,
            150_000,
          ),
        )
        expect(done.outcome, action).toBe('succeeded')
        const after = await writesOf()
        for (const id of ids) expect(delta(after, before, id), `${action} written once`).toBe(1)
        expect([...after.keys()].filter((id) => delta(after, before, id) !== 0 && !ids.includes(id))).toEqual([])
        const truth = await truthWithContent(env.emulator, tenant.entraTenantId)
        for (const id of ids) {
          if (action === 'unassign')
            expect((truth.get(id)!.content.assignments ?? []).filter((a) => targetKey(a).includes(group))).toEqual([])
          else expect(truth.get(id)!.content.roleScopeTagIds).not.toContain(tag)
        }
        await expectInventoryIsTenant(ids, truth)
        await oneNotification(done.id)
        await startAgain({ action, params, item_ids }, ids)
      }
    },
  )

  it(
    'duplicate and delete, then Undo of the delete: each copy once, each deletion once, each re-creation once',
    { timeout: 240_000 },
    async () => {
      const originals = await policies(6, used)
      const before = await writesOf()
      const duplicated = await underFaults(async () =>
        waitForCompletion(
          ctx,
          (
            await startBulk(ctx, tenant.tenantId, tenant.token, {
              action: 'duplicate',
              params: { name_suffix: ' (mx)' },
              item_ids: originals.map((p) => p.id),
            })
          ).run.id,
          150_000,
        ),
      )
      expect(duplicated.outcome).toBe('succeeded')
      let truth = await truthWithContent(env.emulator, tenant.entraTenantId)
      const copies = [...truth.values()].filter((o) => o.display_name.endsWith(' (mx)'))
      for (const p of originals)
        expect(
          copies.filter((c) => c.display_name === `${p.displayName} (mx)`),
          p.displayName,
        ).toHaveLength(1)
      const newIds = (
        await ctx.db.select().from(bulkOperationItems).where(eq(bulkOperationItems.runId, duplicated.id))
      ).map((i) => i.result?.new_id as string)
      expect(newIds.sort()).toEqual(copies.map((c) => c.id).sort())
      await expectInventoryIsTenant(newIds, truth)
      await oneNotification(duplicated.id)
      // The same duplicate again: the same intents, whose copies Graph holds, are adopted; nothing is written.
      await startAgain(
        { action: 'duplicate', params: { name_suffix: ' (mx)' }, item_ids: originals.map((p) => p.id) },
        [...originals.map((p) => p.externalId), ...newIds],
      )
      expect(
        [...(await truthWithContent(env.emulator, tenant.entraTenantId)).values()].filter((o) =>
          o.display_name.endsWith(' (mx)'),
        ),
      ).toHaveLength(originals.length)

      const deleted = await underFaults(async () =>
        waitForCompletion(
          ctx,
          (
            await startBulk(ctx, tenant.tenantId, tenant.token, {
              action: 'delete',
              params: { confirm_count: originals.length },
              item_ids: originals.map((p) => p.id),
            })
          ).run.id,
          150_000,
        ),
      )
      expect(deleted.outcome).toBe('succeeded')
      truth = await truthWithContent(env.emulator, tenant.entraTenantId)
      for (const p of originals) expect(truth.has(p.externalId)).toBe(false)
      await expectInventoryIsTenant(
        originals.map((p) => p.externalId),
        truth,
      )
      await oneNotification(deleted.id)
      const afterDelete = await writesOf()
      for (const p of originals) expect(delta(afterDelete, before, p.externalId), 'deleted once').toBe(1)

      const undo = await ctx.request({
        method: 'POST',
        url: `/api/tenants/${tenant.tenantId}/bulk-operations/${deleted.id}/undo`,
        token: tenant.token,
        headers: { origin: ORIGIN },
      })
      expect(undo.statusCode, undo.body).toBe(201)
      const plan = JSON.parse(undo.body) as { id: string; items: { action: string }[] }
      expect(plan.items.map((i) => i.action)).toEqual(originals.map(() => 'create'))
      const restored = await underFaults(async () => {
        const response = await ctx.request({
          method: 'POST',
          url: `/api/tenants/${tenant.tenantId}/restore-plans/${plan.id}/execute`,
          token: tenant.token,
          headers: { origin: ORIGIN },
        })
        expect(response.statusCode, response.body).toBe(202)
        return waitForCompletion(ctx, (JSON.parse(response.body) as { run: { id: string } }).run.id, 150_000)
      })
      expect(restored.outcome).toBe('succeeded')
      truth = await truthWithContent(env.emulator, tenant.entraTenantId)
      for (const p of originals)
        expect(
          [...truth.values()].filter((o) => o.type === p.policyType && o.display_name === p.displayName),
          p.displayName,
        ).toHaveLength(1)
      await oneNotification(restored.id)
      // The same plan again: refused, naming the run; nothing written.
      const again = await ctx.request({
        method: 'POST',
        url: `/api/tenants/${tenant.tenantId}/restore-plans/${plan.id}/execute`,
        token: tenant.token,
        headers: { origin: ORIGIN },
      })
      expect(again.statusCode).toBe(409)
      expect(again.body).toContain(restored.id)
    },
  )
})
