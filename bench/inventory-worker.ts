/**
 * The inventory benchmark's worker: the shipped operations worker in its own process (so its
 * peak RSS is its own), on PostgreSQL (BENCH_DATABASE) or the embedded cluster of a data directory
 * (BENCH_DATA_DIR). BENCH_BUDGET_SCALE raises the Graph client's per-tenant budget for the
 * large tenant. Prints `ready`, then `peak_rss_kib N` when asked on stdin.
 */
import { createInterface } from 'node:readline'
import { openDatabase } from '../src/db/engine.ts'
import { runMigrations } from '../src/db/migrate.ts'
import { GraphClient } from '../src/graph/graph-client.ts'
import { BudgetRegistry, INTUNE_BUDGET } from '../src/graph/throttle-budget.ts'
import { createMsalTokenProvider } from '../src/graph/token-provider.ts'
import { startOperations } from '../src/jobs/runtime.ts'
import { shippedHandlers } from '../src/operation-types.ts'
import { createInventorySyncHandler } from '../src/modules/inventory/sync.ts'
import { SecretBox } from '../src/lib/crypto.ts'
import { createLogger } from '../src/lib/logger.ts'

const env = process.env
const handle = await openDatabase({
  databaseUrl: env.BENCH_DATABASE || undefined,
  dataDir: env.BENCH_DATA_DIR ?? './data',
  role: 'worker',
})
await runMigrations(handle)
const scale = Number(env.BENCH_BUDGET_SCALE ?? 1)
const tokens = createMsalTokenProvider()
const budgets = new BudgetRegistry({
  ...INTUNE_BUDGET,
  reads: INTUNE_BUDGET.reads * scale,
  writes: INTUNE_BUDGET.writes * scale,
})
const deps = {
  secrets: new SecretBox(Buffer.from(env.BENCH_APP_KEY!, 'base64')),
  emulatorUrl: env.BENCH_EMULATOR_URL,
  graph: new GraphClient({ tokens, budgets }),
  tokens,
}
const operations = await startOperations({
  handle,
  logger: createLogger('warn'),
  worker: true,
  // Every shipped type needs a handler; the inventory sync's with the bench's unit concurrency.
  handlers: {
    ...shippedHandlers(deps),
    'inventory.sync': createInventorySyncHandler({
      ...deps,
      unitConcurrency: env.BENCH_UNIT_CONCURRENCY ? Number(env.BENCH_UNIT_CONCURRENCY) : undefined,
    }),
  },
})
process.stdout.write('ready\n')
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'rss') process.stdout.write(`peak_rss_kib ${process.resourceUsage().maxRSS}\n`)
  if (line === 'stop') break
}
await operations.stop()
await handle.close()
