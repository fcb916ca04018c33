import type { ChildProcess } from 'node:child_process'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { notifications } from '../../src/db/schema.ts'
import type { Operations } from '../../src/jobs/runtime.ts'
import type { TestContext } from '../harness.ts'
import { gate } from './fixtures.ts'
import { extraWorker, runRow as runRowOf, spawnChildWorker, startOnlyContext, waitFor } from './helpers.ts'

let ctx: TestContext
let tenantId: string
let userId: string

beforeAll(async () => {
  // This process only starts runs and reaps; the worker that crashes is a child process.
  ;({ ctx, userId, tenantId } = await startOnlyContext())
})
afterAll(() => ctx.close())

async function spawnWorker(): Promise<{ child: ChildProcess; started: Promise<string> }> {
  const worker = await spawnChildWorker(ctx, 'test/operations/worker-child.ts')
  // The run the child began on its first attempt, from its `started <run id> 1` line.
  const started = new Promise<string>((resolve) => {
    const check = () => {
      const match = /started (\S+) 1/.exec(worker.output())
      if (!match) return
      worker.child.stdout!.off('data', check)
      resolve(match[1]!)
    }
    worker.child.stdout!.on('data', check)
    check()
  })
  return { child: worker.child, started }
}

const kill = async (child: ChildProcess) => {
  child.removeAllListeners('exit')
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGKILL')
  await exited
}

const runRow = (id: string) => runRowOf(ctx, id)

describe('a worker killed with SIGKILL mid-run', () => {
  let rescuer: Operations | undefined
  afterAll(async () => rescuer?.stop())

  // test.serial is limited to one per tenant: the dead worker's job must not keep holding the tenant's slot.
  it('re-queues an idempotent run, which completes on another worker with one notification', async () => {
    const worker = await spawnWorker()
    const { run } = await ctx.engine.startRun({
      tenantId,
      type: 'test.serial',
      context: { gate: 'crash-1' },
      initiatorUserId: userId,
      actor: { kind: 'user', userId, ip: null },
    })
    expect(await worker.started).toBe(run.id)
    expect((await runRow(run.id)).status).toBe('running')
    await kill(worker.child)

    // The heartbeat goes stale (1.5 s in tests); any worker's reaper then hands the run on.
    await waitFor(async () => (await ctx.engine.reap()).requeued === 1, 'the reaper to re-queue the run')
    expect(await runRow(run.id)).toMatchObject({ status: 'queued', attempt: 2 })
    gate('crash-1').release()
    rescuer = await extraWorker(ctx)
    await waitFor(async () => (await runRow(run.id)).status === 'completed', 'the run to complete')
    expect(await runRow(run.id)).toMatchObject({ outcome: 'succeeded', attempt: 2 })
    expect(await ctx.db.select().from(notifications).where(eq(notifications.runId, run.id))).toHaveLength(1)
    await rescuer.stop() // the next test's run must go to the child worker
    rescuer = undefined
  })

  it('ends a non-idempotent run worker_lost, with one notification', async () => {
    const worker = await spawnWorker()
    const { run } = await ctx.engine.startRun({
      tenantId,
      type: 'test.once',
      context: { gate: 'crash-2' },
      initiatorUserId: userId,
      actor: { kind: 'user', userId, ip: null },
    })
    expect(await worker.started).toBe(run.id)
    await kill(worker.child)
    await waitFor(async () => (await ctx.engine.reap()).failed === 1, 'the reaper to fail the run')
    const done = await runRow(run.id)
    expect(done).toMatchObject({ status: 'completed', outcome: 'failed' })
    expect(done.failures.map((f) => f.code)).toEqual(['worker_lost'])
    const sent = await ctx.db.select().from(notifications).where(eq(notifications.runId, run.id))
    expect(sent).toHaveLength(1)
    expect(sent[0]!.title).toBe('One-shot run failed')
  })
})
