import { and, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { graphWrites, notifications, operationRunItems } from '../../src/db/schema.ts'
import { getPolicyType } from '../../src/graph/policy-types.ts'
import { notWritableReason } from '../../src/graph/writes/strategies.ts'
import type { Operations } from '../../src/jobs/runtime.ts'
import { backupAndWait } from '../backups/helpers.ts'
import { control } from '../graph/emulator-helpers.ts'
import type { TestContext } from '../harness.ts'
import { connectTenant, syncAndWait, waitForCompletion } from '../inventory/helpers.ts'
import { shippedWorker } from '../operations/helpers.ts'
import { killWorkerMidRun } from '../worker-crash.ts'
import { contents, execute, plan, restoreContext } from './helpers.ts'

let env: Awaited<ReturnType<typeof restoreContext>>
let ctx: TestContext
let worker: Operations | undefined

beforeAll(async () => {
  env = await restoreContext({ worker: false })
  ctx = env.ctx
})
afterAll(async () => {
  await worker?.stop()
  await env.close()
})

const startWorker = () => shippedWorker(env)

describe('restore and a lost worker', () => {
  it(
    'a worker killed mid-restore (SIGKILL) with lost responses: re-queued, every object written once, no duplicate, one notification',
    { timeout: 240_000 },
    async () => {
      worker = await startWorker()
      const tenant = await connectTenant(ctx, env.emulator, { policies: 60 })
      await syncAndWait(ctx, tenant.tenantId, tenant.token)
      const { backup } = await backupAndWait(ctx, tenant.tenantId, tenant.token)
      const originals = (await contents(env.emulator, tenant.entraTenantId)).filter(
        (o) => o.type !== 'group' && !JSON.stringify(o.content).includes('****'),
      )
      // Every object of a few types deleted: a restore with many creates.
      const victims = originals.filter(
        (o) =>
          [
            'deviceConfiguration',
            'deviceCompliancePolicy',
            'settingsCatalogPolicy',
            'groupPolicyConfiguration',
            'deviceManagementScript',
          ].includes(o.type) && !notWritableReason(getPolicyType(o.type), o.content),
      )
      for (const v of victims) await control(env.emulator, 'DELETE', `/tenants/${tenant.entraTenantId}/items/${v.id}`)
      await syncAndWait(ctx, tenant.tenantId, tenant.token)
      const p = await plan(ctx, tenant.tenantId, tenant.token, { backup_id: backup.id })
      expect(p.counts.create).toBe(victims.length)
      await worker.stop()
      worker = undefined

      const faults = { throttle_scale: 100, latency_ms: 60, drop_response_rate: 0.2 }
      const crash = await killWorkerMidRun(env, {
        start: async () => (await execute(ctx, tenant.tenantId, tenant.token, p.id)).id,
        reached: async (id) =>
          (
            await ctx.db
              .select()
              .from(operationRunItems)
              .where(and(eq(operationRunItems.runId, id), eq(operationRunItems.status, 'succeeded')))
          ).length,
        at: 3,
        what: 'the child to restore a few objects',
        faults,
        recoveryFaults: faults,
      })
      worker = crash.worker
      const run = { id: crash.runId }
      try {
        const writesBefore = await ctx.db.select().from(graphWrites).where(eq(graphWrites.runId, run.id))
        expect(writesBefore.length).toBeGreaterThan(0)
        const done = await waitForCompletion(ctx, run.id, 180_000)
        expect(done).toMatchObject({ outcome: 'succeeded', attempt: 2 })
        expect(await ctx.db.select().from(notifications).where(eq(notifications.runId, run.id))).toHaveLength(1)
        const now = await contents(env.emulator, tenant.entraTenantId)
        const originalIds = new Set(originals.map((o) => o.id))
        for (const v of victims)
          expect(
            now.filter((n) => n.type === v.type && !originalIds.has(n.id) && n.display_name === v.display_name).length,
            `${v.type} ${v.display_name}`,
          ).toBe(1)
        const writes = await ctx.db.select().from(graphWrites).where(eq(graphWrites.runId, run.id))
        expect(writes.every((w) => w.state === 'confirmed')).toBe(true)
        expect(writes.filter((w) => w.operation === 'create')).toHaveLength(victims.length)
        const items = await ctx.db.select().from(operationRunItems).where(eq(operationRunItems.runId, run.id))
        expect(items.filter((i) => i.action === 'create' && i.status === 'succeeded')).toHaveLength(victims.length)
      } finally {
        await control(env.emulator, 'PUT', '/faults', { throttle_scale: 100 })
      }
    },
  )
})
