import { type ChildProcess, spawn } from 'node:child_process'
import path from 'node:path'
import { eq } from 'drizzle-orm'
import { operationRuns } from '../../src/db/schema.ts'
import { startOperations } from '../../src/jobs/runtime.ts'
import { createLogger } from '../../src/lib/logger.ts'
import type { GraphClient } from '../../src/graph/graph-client.ts'
import { createTestContext, type TestContext } from '../harness.ts'
import { testCatalog, testHandlers } from './fixtures.ts'

/** Polls until the probe returns something truthy, or fails naming what it waited for. */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | null | false> | T | false,
  what: string,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

export const runRow = async (ctx: TestContext, id: string) =>
  (await ctx.db.select().from(operationRuns).where(eq(operationRuns.id, id)))[0]!

/**
 * A worker in this process with the shipped handlers (sync, backups, restore, bulk) against the
 * emulator: the one that finishes a run after the crash tests kill their child worker.
 */
export const shippedWorker = (env: { ctx: TestContext; emulator: { url: string }; graph: GraphClient }) =>
  startOperations({
    handle: env.ctx.handle,
    logger: createLogger('silent'),
    worker: true,
    shipped: { secrets: env.ctx.secrets, emulatorUrl: env.emulator.url, graph: env.graph },
    timings: { heartbeatMs: 200, pollingIntervalSeconds: 0.5, reaperIntervalMs: 60_000 },
  })

/** A second worker in this process, on the test's database (the "other machine" of the crash tests). */
export const extraWorker = (ctx: TestContext) =>
  startOperations({
    handle: ctx.handle,
    logger: createLogger('silent'),
    worker: true,
    catalog: testCatalog,
    handlers: testHandlers,
    timings: { heartbeatMs: 200, pollingIntervalSeconds: 0.5, reaperIntervalMs: 60_000 },
  })

/** A test context whose process starts runs but executes none, with one owner in one tenant. */
export async function startOnlyContext() {
  const ctx = await createTestContext({ catalog: testCatalog, handlers: testHandlers, worker: false })
  const user = await ctx.factories.user()
  const tenantId = (await ctx.factories.tenant()).id
  await ctx.factories.member(tenantId, user, 'owner')
  return { ctx, userId: user.id, tenantId }
}

/**
 * A test's worker script in its own process, on the test's database; resolves once the script prints `ready`. `output()` is everything it said.
 */
export function spawnChildWorker(
  ctx: TestContext,
  script: string,
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; output: () => string }> {
  const vars: NodeJS.ProcessEnv = { ...process.env, ...env }
  vars.TA_TEST_DATABASE_URL = ctx.handle.connectionString
  const child = spawn(process.execPath, [path.resolve(script)], { env: vars, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stderr.on('data', (d: Buffer) => (output += d.toString()))
  return new Promise((resolve, reject) => {
    const early = (code: number | null) => reject(new Error(`${script} exited ${code}: ${output}`))
    child.once('exit', early)
    const onData = (d: Buffer) => {
      output += d.toString()
      if (!output.includes('ready')) return
      child.stdout.off('data', onData)
      child.stdout.on('data', (more: Buffer) => (output += more.toString()))
      child.off('exit', early)
      child.once('exit', (code, signal) => (output += ` [exited ${code} ${signal}]`))
      resolve({ child, output: () => output })
    }
    child.stdout.on('data', onData)
  })
}
