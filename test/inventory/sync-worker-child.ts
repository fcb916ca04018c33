/**
 * A worker in its own process running the shipped inventory sync, for the crash test: it reads
 * the emulator the test names, with the test's secret key, and is killed mid-sync.
 */
import { openPostgres } from '../../src/db/engine.ts'
import { startOperations } from '../../src/jobs/runtime.ts'
import { SecretBox } from '../../src/lib/crypto.ts'
import { createLogger } from '../../src/lib/logger.ts'

const handle = openPostgres(process.env.TA_TEST_DATABASE_URL!, 4)
await startOperations({
  handle,
  logger: createLogger('silent'),
  worker: true,
  shipped: {
    secrets: new SecretBox(Buffer.from(process.env.TA_TEST_APP_KEY!, 'base64')),
    emulatorUrl: process.env.TA_TEST_EMULATOR_URL,
  },
  timings: { heartbeatMs: 200, pollingIntervalSeconds: 0.5, reaperIntervalMs: 60_000 },
})
process.stdout.write('ready\n')
