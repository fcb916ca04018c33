import { and, count, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inventoryItems, notifications, operationRuns } from '../../src/db/schema.ts'
import type { Operations } from '../../src/jobs/runtime.ts'
import { ORIGIN, type TestContext } from '../harness.ts'
import { runRow, shippedWorker, spawnChildWorker, waitFor } from '../operations/helpers.ts'
import {
  connectTenant,
  control,
  inventoryContext,
  startSync,
  storedByType,
  truthByType,
  waitForCompletion,
} from './helpers.ts'

/**
 * The run semantics of inventory syncs: dedupe, one per tenant at a time, cancellation, and a
 * worker process killed mid-sync. This process starts runs; workers are started per test.
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

const startWorker = () => shippedWorker(env)

const slowGraph = (latencyMs: number) => control(env.emulator, 'PUT', '/faults', { latency_ms: latencyMs })

describe('inventory sync runs', () => {
  it('turns 50 parallel identical starts into one run', async () => {
    const tenant = await connectTenant(ctx, env.emulator, { policies: 20 })
    const responses = await Promise.all(
      Array.from({ length: 50 }, () =>
        ctx.request({
          method: 'POST',
          url: `/api/tenants/${tenant.tenantId}/inventory-sync`,
          token: tenant.token,
          headers: { origin: ORIGIN },
        }),
      ),
    )
    expect(responses.map((r) => r.statusCode)).toEqual(Array(50).fill(202))
    const bodies = responses.map((r) => JSON.parse(r.body) as { run: { id: string }; deduplicated: boolean })
    expect(new Set(bodies.map((b) => b.run.id)).size).toBe(1)
    expect(bodies.filter((b) => !b.deduplicated)).toHaveLength(1)
    const [row] = await ctx.db
      .select({ n: count() })
      .from(operationRuns)
      .where(eq(operationRuns.tenantId, tenant.tenantId))
    expect(row!.n).toBe(1)
  })

  it('runs one sync per tenant at a time: a different selection waits queued, then runs', async () => {
    const tenant = await connectTenant(ctx, env.emulator, { policies: 60 })
    await slowGraph(30)
    worker = await startWorker()
    try {
      const full = await startSync(ctx, tenant.tenantId, tenant.token)
      await waitFor(async () => (await runRow(ctx, full.run.id)).status === 'running', 'the full sync to run')
      const partial = await startSync(ctx, tenant.tenantId, tenant.token, {
        policy_types: ['deviceConfiguration'],
        include_foundations: false,
        include_dependencies: false,
      })
      expect(partial.deduplicated).toBe(false)
      // While the first runs, the second stays queued: never two running at once.
      let overlapped = false
      for (;;) {
        const rows = await ctx.db.select().from(operationRuns).where(eq(operationRuns.tenantId, tenant.tenantId))
        if (rows.filter((r) => r.status === 'running').length > 1) overlapped = true
        const first = rows.find((r) => r.id === full.run.id)!
        if (first.status === 'completed') break
        expect(rows.find((r) => r.id === partial.run.id)!.status).toBe('queued')
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      expect(overlapped).toBe(false)
      const second = await waitForCompletion(ctx, partial.run.id)
      expect(second.outcome).toBe('succeeded')
      expect(second.startedAt!.getTime()).toBeGreaterThanOrEqual(
        (await runRow(ctx, full.run.id)).completedAt!.getTime(),
      )
    } finally {
      await control(env.emulator, 'PUT', '/faults', {})
      await worker.stop()
      worker = undefined
    }
  })

  it('stops between pages when cancelled, and removes nothing', async () => {
    const tenant = await connectTenant(ctx, env.emulator, { policies: 200 })
    worker = await startWorker()
    try {
      const first = await waitForCompletion(ctx, (await startSync(ctx, tenant.tenantId, tenant.token)).run.id)
      expect(first.outcome).toBe('succeeded')
      const before = await storedByType(ctx, tenant.tenantId)
      await slowGraph(150)
      const { run } = await startSync(ctx, tenant.tenantId, tenant.token)
      await waitFor(
        async () => ((await runRow(ctx, run.id)).summaryCounts.unchanged ?? 0) > 0,
        'the sync to be under way',
      )
      const cancel = await ctx.request({
        method: 'POST',
        url: `/api/tenants/${tenant.tenantId}/operation-runs/${run.id}/cancel`,
        token: tenant.token,
        headers: { origin: ORIGIN },
      })
      expect(cancel.statusCode).toBe(202)
      const done = await waitForCompletion(ctx, run.id)
      expect(done.outcome).toBe('cancelled')
      expect(done.summaryCounts.processed ?? 0).toBeLessThan(done.summaryCounts.total!)
      expect(await storedByType(ctx, tenant.tenantId)).toEqual(before)
    } finally {
      await control(env.emulator, 'PUT', '/faults', {})
      await worker.stop()
      worker = undefined
    }
  })

  it(
    're-queues a sync whose worker process was killed, completes it elsewhere: one notification, no duplicate items',
    { timeout: 180_000 },
    async () => {
      const tenant = await connectTenant(ctx, env.emulator, { policies: 300 })
      await slowGraph(60)
      const { child, output } = await spawnChildWorker(ctx, 'test/inventory/sync-worker-child.ts', {
        TA_TEST_APP_KEY: ctx.secretKey.toString('base64'),
        TA_TEST_EMULATOR_URL: env.emulator.url,
      })
      try {
        const { run } = await startSync(ctx, tenant.tenantId, tenant.token)
        await waitFor(
          async () => ((await runRow(ctx, run.id)).summaryCounts.created ?? 0) > 0,
          'the child to write items',
          120_000,
        ).catch((e: unknown) => {
          throw new Error(`${String(e)}; the child worker said: ${output()}`)
        })
        child.kill('SIGKILL')
        await new Promise((resolve) => child.once('exit', resolve))
        await waitFor(async () => (await ctx.engine.reap()).requeued === 1, 'the reaper to re-queue the sync')
        expect(await runRow(ctx, run.id)).toMatchObject({ status: 'queued', attempt: 2 })
        await control(env.emulator, 'PUT', '/faults', {})
        worker = await startWorker()
        const done = await waitForCompletion(ctx, run.id)
        expect(done).toMatchObject({ outcome: 'succeeded', attempt: 2 })
        expect(await ctx.db.select().from(notifications).where(eq(notifications.runId, run.id))).toHaveLength(1)
        const truth = await truthByType(env.emulator, tenant.entraTenantId)
        expect(await storedByType(ctx, tenant.tenantId)).toEqual(truth)
        const [rows] = await ctx.db
          .select({ n: count() })
          .from(inventoryItems)
          .where(and(eq(inventoryItems.tenantId, tenant.tenantId)))
        expect(rows!.n).toBe(Object.values(truth).flat().length)
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL')
        await control(env.emulator, 'PUT', '/faults', {})
      }
    },
  )
})
