import { eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { notifications, operationRuns } from '../../src/db/schema.ts'
import { applyRetention } from '../../src/modules/operations/retention.ts'
import type { TestContext } from '../harness.ts'
import { gate, journal } from './fixtures.ts'
import { extraWorker, runRow as runRowOf, startOnlyContext, waitFor } from './helpers.ts'

let ctx: TestContext
let tenantId: string
let userId: string

beforeAll(async () => {
  ;({ ctx, userId, tenantId } = await startOnlyContext())
})
afterAll(() => ctx.close())

const runRow = (id: string) => runRowOf(ctx, id)
const worker = () => extraWorker(ctx)
const start = (context: Record<string, unknown>, type: 'test.block' | 'test.once' = 'test.block') =>
  ctx.engine.startRun({ tenantId, type, context, initiatorUserId: userId, actor: { kind: 'user', userId, ip: null } })

describe('graceful shutdown', () => {
  it('hands an in-flight run back at once; it completes on the next worker', async () => {
    const first = await worker()
    const { run } = await start({ gate: 'handback' })
    await waitFor(async () => (await runRow(run.id)).status === 'running', 'the run to start')
    await first.stop() // SIGTERM does this
    expect(await runRow(run.id)).toMatchObject({ status: 'queued', attempt: 2 })
    gate('handback').release()
    const second = await worker()
    await waitFor(async () => (await runRow(run.id)).status === 'completed', 'the run to complete')
    expect(await runRow(run.id)).toMatchObject({ outcome: 'succeeded', attempt: 2 })
    expect(journal.filter((j) => j.runId === run.id && j.event === 'wrote').map((j) => j.attempt)).toEqual([2])
    expect(await ctx.db.select().from(notifications).where(eq(notifications.runId, run.id))).toHaveLength(1)
    await second.stop()
  })

  it('does not count a hand-back as one of the attempts (issue 12, item 15)', async () => {
    // test.block allows 2 attempts: two SIGTERMs in a row used to end the run `worker_lost`.
    const { run } = await start({ gate: 'handback-twice' })
    for (const attempt of [1, 2]) {
      const operations = await worker()
      await waitFor(async () => {
        const row = await runRow(run.id)
        return row.status === 'running' && row.attempt === attempt
      }, `attempt ${attempt} to run`)
      await operations.stop()
      expect(await runRow(run.id)).toMatchObject({
        status: 'queued',
        attempt: attempt + 1,
        handbacks: attempt,
        outcome: null,
      })
    }
    gate('handback-twice').release()
    const last = await worker()
    await waitFor(async () => (await runRow(run.id)).status === 'completed', 'the run to complete')
    expect(await runRow(run.id)).toMatchObject({ outcome: 'succeeded', attempt: 3, handbacks: 2 })
    await last.stop()
  })
})

{
  describe('PostgreSQL connection loss', () => {
    it('survives every connection being killed mid-run: the run completes, never stays running', async () => {
      const operations = await worker()
      const { run } = await start({ gate: 'connection-loss' })
      await waitFor(async () => (await runRow(run.id)).status === 'running', 'the run to start')
      const killed = await ctx.handle.pool.query<{ n: number }>(
        'SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
      )
      expect(killed.rows[0]!.n).toBeGreaterThan(0)
      await new Promise((resolve) => setTimeout(resolve, 300))
      gate('connection-loss').release()
      await waitFor(
        async () => (await runRow(run.id).catch(() => ({ status: 'unknown' }))).status === 'completed',
        'the run to complete',
      )
      expect(await runRow(run.id)).toMatchObject({ outcome: 'succeeded' })
      await operations.stop()
    })
  })
}

describe('retention', () => {
  it('deletes completed runs past the policy and notifications read long ago, and keeps the rest', async () => {
    const operations = await worker()
    const ids: string[] = []
    for (const name of ['old', 'recent', 'unread']) {
      const { run } = await ctx.engine.startRun({
        tenantId,
        type: 'test.noop',
        context: { retention: name },
        initiatorUserId: userId,
        actor: { kind: 'user', userId, ip: null },
      })
      ids.push(run.id)
      await waitFor(async () => (await runRow(run.id)).status === 'completed', 'the run to complete')
    }
    await operations.stop()
    const [old, recent, unread] = ids as [string, string, string]
    const [oldNote] = await ctx.db.select().from(notifications).where(eq(notifications.runId, old))
    await ctx.db
      .update(operationRuns)
      .set({ completedAt: sql`now() - interval '200 days'` })
      .where(eq(operationRuns.id, old))
    await ctx.db
      .update(notifications)
      .set({ readAt: sql`now() - interval '40 days'` })
      .where(eq(notifications.runId, recent))
    const removed = await applyRetention(ctx.db, { runDays: 180, readNotificationDays: 30 })
    expect(removed).toEqual({ runs: 1, notifications: 1 })
    expect(await ctx.db.select().from(operationRuns).where(eq(operationRuns.id, old))).toHaveLength(0)
    expect(await ctx.db.select().from(operationRuns).where(eq(operationRuns.id, recent))).toHaveLength(1)
    expect(await ctx.db.select().from(notifications).where(eq(notifications.runId, recent))).toHaveLength(0)
    expect(await ctx.db.select().from(notifications).where(eq(notifications.runId, unread))).toHaveLength(1)
    // The old run's notification is unread: it stays, without its run.
    const [kept] = await ctx.db.select().from(notifications).where(eq(notifications.id, oldNote!.id))
    expect(kept).toMatchObject({ runId: null, readAt: null })
  })
})
