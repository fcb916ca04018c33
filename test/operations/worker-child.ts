/**
 * A worker in its own process, for the crash tests: it runs the test catalog against the
 * database the test names, says which run it started on stdout, and blocks until killed.
 */
import { openPostgres } from '../../src/db/engine.ts'
import { startOperations } from '../../src/jobs/runtime.ts'
import { createLogger } from '../../src/lib/logger.ts'
import { testCatalog, testHandlers } from './fixtures.ts'
import type { RunExecution } from '../../src/modules/operations/run-execution.ts'

const handle = openPostgres(process.env.TA_TEST_DATABASE_URL!, 4)
const blockForever = async (run: RunExecution) => {
  process.stdout.write(`started ${run.run.id} ${run.attempt}\n`)
  await new Promise(() => {})
}
await startOperations({
  handle,
  logger: createLogger('silent'),
  worker: true,
  catalog: testCatalog,
  handlers: { ...testHandlers, 'test.block': blockForever, 'test.once': blockForever, 'test.serial': blockForever },
  timings: { heartbeatMs: 200, pollingIntervalSeconds: 0.5, reaperIntervalMs: 60_000 },
})
process.stdout.write('ready\n')
