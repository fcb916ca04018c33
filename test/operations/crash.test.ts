import { type ChildProcess, spawn } from 'node:child_process'
import path from 'node:path'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { notifications } from '../../src/db/schema.ts'
import type { Operations } from '../../src/jobs/runtime.ts'
import type { TestContext } from '../harness.ts'
import { gate } from './fixtures.ts'
import { extraWorker, runRow as runRowOf, startOnlyContext, waitFor } from './helpers.ts'

let ctx: TestContext
let tenantId: string
let userId: string

beforeAll(async () => {
  // This process only starts runs and reaps; the worker that crashes is a child process.
  ;({ ctx, userId, tenantId } = await startOnlyContext())
})
afterAll(() => ctx.close())

function spawnWorker(): Promise<{ child: ChildProcess; started: Promise<string> }> {
  const env = { ...process.env }
  if (ctx.handle.connectionString) env.TA_TEST_DATABASE_URL = ctx.handle.connectionString
  else env.TA_TEST_SOCKET_DIR = ctx.handle.socketDir
  const child = spawn(process.execPath, [path.resolve('test/operations/worker-child.ts')], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  let onStarted: (runId: string) => void
  const started = new Promise<string>((resolve) => (onStarted = resolve))
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString()
      if (output.includes('ready')) resolve({ child, started })
      const match = /started (\S+) 1/.exec(output)
      if (match) onStarted(match[1]!)
    })
    child.stderr.on('data', (d: Buffer) => (output += d.toString()))
    child.once('exit', (code) => reject(new Error(`worker exited ${code}: ${output}`)))
  })
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
    const { run } = await ctx.engine.startRun({ tenantId, type: 'test.serial', context: { gate: 'crash-1' }, initiatorUserId: userId, actor: { kind: 'user', userId, ip: null } })
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
    const { run } = await ctx.engine.startRun({ tenantId, type: 'test.once', context: { gate: 'crash-2' }, initiatorUserId: userId, actor: { kind: 'user', userId, ip: null } })
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
