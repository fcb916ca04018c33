import { eq } from 'drizzle-orm'
import { operationRuns } from '../../src/db/schema.ts'
import { startOperations } from '../../src/jobs/runtime.ts'
import { createLogger } from '../../src/lib/logger.ts'
import { createTestContext, type TestContext } from '../harness.ts'
import { testCatalog, testHandlers } from './fixtures.ts'

/** Polls until the probe returns something truthy, or fails naming what it waited for. */
export async function waitFor<T>(probe: () => Promise<T | undefined | null | false> | T | false, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

export const runRow = async (ctx: TestContext, id: string) => (await ctx.db.select().from(operationRuns).where(eq(operationRuns.id, id)))[0]!

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
