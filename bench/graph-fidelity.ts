import { GraphClient } from '../src/graph/graph-client.ts'
import { POLICY_TYPES, type PolicyTypeEntry } from '../src/graph/policy-types.ts'
import { BudgetRegistry } from '../src/graph/throttle-budget.ts'
import { createMsalTokenProvider } from '../src/graph/token-provider.ts'
import { newTenant, readTenant } from './graph.ts'
import { control, spawnEmulator, stopEmulator, writeReport } from './lib.ts'

/**
 * Issue 17's Graph figures:
 * - `settings-top`: Graph requests of a full read of a 10,000-object tenant with and without
 *   `$top=1000` on `/settings` (before: pages of 25);
 * - `faults`: a full read of a 2,000-object tenant at 50 ms latency and Intune's default limits,
 *   clean and with 5 % 503s plus 5 % 429s without Retry-After.
 */

const round = (n: number) => Math.round(n * 100) / 100
const UNLIMITED = { reads: 10_000_000, writes: 10_000_000, windowMs: 20_000 }

/** The catalog as it was before `$top` on `/settings`: 25 a page. */
const withoutSettingsTop = (catalog: readonly PolicyTypeEntry[]) =>
  catalog.map((e) => ({
    ...e,
    details: e.details.map((d) => (d.name === 'settings' ? { ...d, query: undefined, maxTop: undefined } : d)),
  }))

export async function runSettingsTopBench() {
  const objects = Number(process.env.BENCH_GRAPH_OBJECTS ?? 10_000)
  const emulator = await spawnEmulator()
  try {
    const ctx = await newTenant(emulator, objects, 'settings-top')
    await control(emulator, 'PUT', '/faults', { throttle_scale: 1000 })
    const tokens = createMsalTokenProvider()
    const count = async (catalog: readonly PolicyTypeEntry[]) => {
      const client = new GraphClient({ tokens, budgets: new BudgetRegistry(UNLIMITED) })
      const read = await readTenant(client, ctx, catalog)
      return {
        objects_read: read.objects,
        graph_requests: client.counters.graphRequests,
        http_round_trips: client.counters.httpRequests,
      }
    }
    const before = await count(withoutSettingsTop(POLICY_TYPES))
    const after = await count(POLICY_TYPES)
    const report = {
      objects,
      before_pages_of_25: before,
      after_top_1000: after,
      requests_saved: before.graph_requests - after.graph_requests,
      share_saved: round((before.graph_requests - after.graph_requests) / before.graph_requests),
    }
    console.log(
      `\nGraph requests of a full read of ${objects} objects: ${before.graph_requests} with /settings in pages of 25, ${after.graph_requests} with $top=1000 (${report.requests_saved} fewer, ${Math.round(report.share_saved * 100)} %); objects read ${before.objects_read} / ${after.objects_read}`,
    )
    return report
  } finally {
    await stopEmulator(emulator)
  }
}

export async function runFaultsBench() {
  const objects = Number(process.env.BENCH_FAULTS_OBJECTS ?? 2_000)
  const latency = 50
  const emulator = await spawnEmulator()
  try {
    const tokens = createMsalTokenProvider()
    const run = async (name: string, faults: Record<string, unknown>) => {
      const ctx = await newTenant(emulator, objects, name)
      await control(emulator, 'PUT', '/faults', { latency_ms: latency, ...faults })
      await control(emulator, 'DELETE', '/stats')
      const budgets = new BudgetRegistry()
      const client = new GraphClient({ tokens, budgets })
      await tokens.getToken(ctx)
      const started = performance.now()
      const read = await readTenant(client, ctx)
      const wall = (performance.now() - started) / 1000
      const stats = await control<{ throttled: number; by_status?: Record<string, number> }>(emulator, 'GET', '/stats')
      return {
        objects_read: read.objects,
        wall_s: round(wall),
        graph_requests: client.counters.graphRequests,
        retries: client.counters.retries,
        throttled_429: stats.throttled,
        tenant_pauses: budgets.for(ctx.tenantKey).tenantPauses,
      }
    }
    const clean = await run('clean', {})
    const faulty = await run('faulty', { error_rate: 0.05, throttle_rate: 0.05, omit_retry_after: true })
    await control(emulator, 'PUT', '/faults', {})
    const report = {
      objects,
      latency_ms: latency,
      limits: 'Intune defaults (1,000 requests per 20 s per app per tenant)',
      clean,
      faulty,
      faulty_over_clean: round(faulty.wall_s / clean.wall_s),
    }
    console.log(`\nFull read of ${objects} objects, ${latency} ms latency, default limits`)
    console.log(
      `  clean                                ${clean.wall_s} s, ${clean.graph_requests} requests, ${clean.throttled_429} 429s`,
    )
    console.log(
      `  5 % 503 + 5 % 429 (no Retry-After)   ${faulty.wall_s} s, ${faulty.graph_requests} requests, ${faulty.retries} retries, ${faulty.throttled_429} 429s, tenant paused ${faulty.tenant_pauses}×`,
    )
    console.log(`  faulty ÷ clean                       ${report.faulty_over_clean}   target ≤ 1.5`)
    return report
  } finally {
    await stopEmulator(emulator)
  }
}

if (import.meta.main) {
  const which = process.argv[2]
  if (which !== 'faults') console.log(`report: ${writeReport('settings-top', await runSettingsTopBench())}`)
  if (which !== 'settings-top') console.log(`report: ${writeReport('faults', await runFaultsBench())}`)
}
