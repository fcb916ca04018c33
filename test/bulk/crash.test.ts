import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inventoryItems, notifications, type InventoryItemRow } from '../../src/db/schema.ts'
import { findPolicyType } from '../../src/graph/policy-types.ts'
import type { Operations } from '../../src/jobs/runtime.ts'
import type { TestContext } from '../harness.ts'
import { connectTenant, control, inventoryContext, syncAndWait, waitForCompletion } from '../inventory/helpers.ts'
import { shippedWorker } from '../operations/helpers.ts'
import { killWorkerMidRun } from '../worker-crash.ts'
import { appWritesByObject, stillAssignable, targetKey, truthWithContent } from './emulator-truth.ts'
import { assignedTo, frozen, leastAssignedGroup, startBulk } from './helpers.ts'

/** A worker process SIGKILLed in the middle of a bulk run: the run resumes elsewhere and writes no item twice. */
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

const startWorker = () => shippedWorker(env)

describe('bulk runs and lost workers', () => {
  it(
    'a worker SIGKILLed mid-run: re-queued, finished elsewhere, every item written once, one notification',
    { timeout: 240_000 },
    async () => {
      const tenant = await connectTenant(ctx, env.emulator, { policies: 120 })
      worker = await startWorker()
      await syncAndWait(ctx, tenant.tenantId, tenant.token)
      await worker.stop()
      worker = undefined
      const GROUP = await leastAssignedGroup(ctx, tenant.tenantId)
      const rows = await ctx.db.select().from(inventoryItems).where(eq(inventoryItems.tenantId, tenant.tenantId))
      const picked: InventoryItemRow[] = rows
        .filter(
          (r) =>
            findPolicyType(r.policyType)?.kind === 'policy' &&
            findPolicyType(r.policyType)?.assignments !== null &&
            !assignedTo(r, GROUP),
        )
        .slice(0, 40)
      const before = await truthWithContent(env.emulator, tenant.entraTenantId)
      const writesBefore = await appWritesByObject(env.emulator, tenant, tenant.secret)

      const crash = await killWorkerMidRun(env, {
        start: async () =>
          (
            await startBulk(ctx, tenant.tenantId, tenant.token, {
              action: 'assign',
              params: { group_id: GROUP, intent: 'include' },
              item_ids: picked.map((p) => p.id),
            })
          ).run.id,
        reached: async (id) => (await frozen(ctx, id)).filter((r) => r.state === 'succeeded').length,
        at: 5,
        what: 'the child to write items',
      })
      worker = crash.worker
      const run = { id: crash.runId }
      try {
        expect(crash.killedAt).toBeLessThan(picked.length)
        const done = await waitForCompletion(ctx, run.id)
        expect(done, JSON.stringify(done.failures)).toMatchObject({ outcome: 'succeeded', attempt: 2 })
        expect(done.summaryCounts).toMatchObject({ total: 40, processed: 40, succeeded: 40 })
        expect(await ctx.db.select().from(notifications).where(eq(notifications.runId, run.id))).toHaveLength(1)
        const writesAfter = await appWritesByObject(env.emulator, tenant, tenant.secret)
        const after = await truthWithContent(env.emulator, tenant.entraTenantId)
        for (const p of picked) {
          expect(
            (writesAfter.get(p.externalId)?.length ?? 0) - (writesBefore.get(p.externalId)?.length ?? 0),
            `${p.policyType} written once`,
          ).toBe(1)
          const now = (after.get(p.externalId)!.content.assignments ?? []).map(targetKey)
          expect(now.filter((t) => t.includes(GROUP))).toHaveLength(1)
          // An assignment to the tenant's deleted group is left out of the re-sent set (Graph refuses it).
          expect(now.filter((t) => !t.includes(GROUP)).sort()).toEqual(
            stillAssignable(env.emulator, tenant.entraTenantId, before.get(p.externalId)!.content.assignments)
              .map(targetKey)
              .sort(),
          )
        }
      } finally {
        await control(env.emulator, 'PUT', '/faults', {})
      }
    },
  )
})
