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
import { createInventorySyncHandler } from '../src/modules/inventory/sync.ts'
import { createBackupHandler } from '../src/modules/backups/create-backup.ts'
import { createPruneHandler } from '../src/modules/backups/prune.ts'
import { SecretBox } from '../src/lib/crypto.ts'
import { createLogger } from '../src/lib/logger.ts'

const env = process.env
const handle = await openDatabase({ databaseUrl: env.BENCH_DATABASE || undefined, dataDir: env.BENCH_DATA_DIR ?? './data', role: 'worker' })
await runMigrations(handle)
const scale = Number(env.BENCH_BUDGET_SCALE ?? 1)
const tokens = createMsalTokenProvider()
const budgets = new BudgetRegistry({ ...INTUNE_BUDGET, reads: INTUNE_BUDGET.reads * scale, writes: INTUNE_BUDGET.writes * scale })
const secrets = new SecretBox(Buffer.from(env.BENCH_APP_KEY!, 'base64'))
const graph = new GraphClient({ tokens, budgets })
const operations = await startOperations({
  handle,
  logger: createLogger('warn'),
  worker: true,
  handlers: {
    'inventory.sync': createInventorySyncHandler({
      secrets,
      emulatorUrl: env.BENCH_EMULATOR_URL,
      graph,
      tokens,
      unitConcurrency: env.BENCH_UNIT_CONCURRENCY ? Number(env.BENCH_UNIT_CONCURRENCY) : undefined,
    }),
    // One Graph client (one budget per tenant) for both, as in the shipped worker.
    'backup.create': createBackupHandler({ secrets, emulatorUrl: env.BENCH_EMULATOR_URL, graph, tokens }),
    'backup.prune': createPruneHandler(),
  },
})
process.stdout.write('ready\n')
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'rss') process.stdout.write(`peak_rss_kib ${process.resourceUsage().maxRSS}\n`)
  if (line === 'stop') break
}
await operations.stop()
await handle.close()
