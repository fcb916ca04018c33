import { eq, inArray } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inventoryItems, notifications } from '../../src/db/schema.ts'
import { findPolicyType } from '../../src/graph/policy-types.ts'
import type { Operations } from '../../src/jobs/runtime.ts'
import { frozen, startBulk } from '../bulk/helpers.ts'
import { truthWithContent } from '../bulk/emulator-truth.ts'
import { errorOf, ORIGIN, type TestContext } from '../harness.ts'
import { connectTenant, control, inventoryContext, syncAndWait, waitForCompletion } from '../inventory/helpers.ts'
import { shippedWorker } from '../operations/helpers.ts'
import { killWorkerMidRun } from '../worker-crash.ts'

/**
 * Issue 21, item 3: a worker SIGKILLed during a bulk delete. The recovered run must leave the
 * inventory saying what the tenant holds (every deleted object marked removed), and its Undo
 * must re-create every object the run deleted.
 */
let env: Awaited<ReturnType<typeof inventoryContext>>
let ctx: TestContext
let worker: Operations | undefined

beforeAll(async () => {
  env = await inventoryContext({ worker: false })
  ctx = env.ctx
})
afterAll(async () => {
  await worker?.stop()
  await env.close()
})

describe('a bulk delete and a lost worker', () => {
  it(
    'SIGKILL mid-delete: the inventory marks every deleted object removed, Undo plans every one as a create',
    { timeout: 240_000 },
    async () => {
      const tenant = await connectTenant(ctx, env.emulator, { policies: 90 })
      worker = await shippedWorker(env)
      await syncAndWait(ctx, tenant.tenantId, tenant.token)
      await worker.stop()
      worker = undefined
      const rows = await ctx.db.select().from(inventoryItems).where(eq(inventoryItems.tenantId, tenant.tenantId))
      const picked = rows
        .filter(
          (r) =>
            findPolicyType(r.policyType)?.kind === 'policy' &&
            !r.removedAt &&
            r.policyType !== 'mobileApp' &&
            !JSON.stringify(r.payload).includes('****'),
        )
        .slice(0, 30)
      expect(picked.length).toBe(30)

      const crash = await killWorkerMidRun(env, {
        start: async () =>
          (
            await startBulk(ctx, tenant.tenantId, tenant.token, {
              action: 'delete',
              params: { confirm_count: picked.length },
              item_ids: picked.map((p) => p.id),
            })
          ).run.id,
        reached: async (id) => (await frozen(ctx, id)).filter((r) => r.state === 'succeeded').length,
        at: 5,
        what: 'the child to delete items',
      })
      worker = crash.worker
      const run = { id: crash.runId }
      try {
        expect(crash.killedAt).toBeLessThan(picked.length)
        const done = await waitForCompletion(ctx, run.id)
        expect(done, JSON.stringify(done.failures)).toMatchObject({ outcome: 'succeeded', attempt: 2 })
        expect(await ctx.db.select().from(notifications).where(eq(notifications.runId, run.id))).toHaveLength(1)

        // The inventory equals the tenant: every object the run deleted is gone in Graph and marked removed.
        const truth = await truthWithContent(env.emulator, tenant.entraTenantId)
        for (const p of picked) expect(truth.has(p.externalId), p.displayName).toBe(false)
        const after = await ctx.db
          .select()
          .from(inventoryItems)
          .where(
            inArray(
              inventoryItems.id,
              picked.map((p) => p.id),
            ),
          )
        expect(after.filter((r) => r.removedAt === null).map((r) => r.displayName)).toEqual([])

        // Undo plans from what the run did: every deleted object is re-created.
        const response = await ctx.request({
          method: 'POST',
          url: `/api/tenants/${tenant.tenantId}/bulk-operations/${run.id}/undo`,
          token: tenant.token,
          headers: { origin: ORIGIN },
        })
        expect(response.statusCode, response.statusCode === 201 ? '' : JSON.stringify(errorOf(response.body))).toBe(201)
        const undo = JSON.parse(response.body) as { items: { action: string; display_name: string }[] }
        expect(undo.items.filter((i) => i.action !== 'create')).toEqual([])
        expect(undo.items).toHaveLength(picked.length)
      } finally {
        await control(env.emulator, 'PUT', '/faults', {})
      }
    },
  )
})
