/**
 * `serve` as `npm start` runs it (web + worker in one process, the embedded cluster of DATA_DIR),
 * with the Graph client's per-tenant budget raised BENCH_BUDGET_SCALE× so that the large syncs of
 * the embedded benchmark finish in minutes (the emulator's limits are raised alike).
 */
import { GraphClient } from '../src/graph/graph-client.ts'
import { BudgetRegistry, INTUNE_BUDGET } from '../src/graph/throttle-budget.ts'
import { createMsalTokenProvider } from '../src/graph/token-provider.ts'
import { loadConfig } from '../src/lib/config.ts'
import { serve } from '../src/main.ts'

const scale = Number(process.env.BENCH_BUDGET_SCALE ?? 1)
const graph = new GraphClient({
  tokens: createMsalTokenProvider(),
  budgets: new BudgetRegistry({
    ...INTUNE_BUDGET,
    reads: INTUNE_BUDGET.reads * scale,
    writes: INTUNE_BUDGET.writes * scale,
  }),
})
const running = await serve(loadConfig(), { port: 0, worker: true, graph }, (text) => process.stdout.write(text))
const stop = () => void running.stop().then(() => process.exit(0))
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
