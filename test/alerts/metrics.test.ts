import parsePrometheusTextFormat from 'parse-prometheus-text-format'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GraphClient } from '../../src/graph/graph-client.ts'
import { BudgetRegistry } from '../../src/graph/throttle-budget.ts'
import { createMsalTokenProvider } from '../../src/graph/token-provider.ts'
import { startEmulator } from '../graph/emulator-helpers.ts'
import { createTestContext, type TestContext } from '../harness.ts'
import { connectTenant, syncAndWait } from '../inventory/helpers.ts'

const TOKEN = 'metrics-token-for-the-scraper-0123456789'
let ctx: TestContext
let emulator: Awaited<ReturnType<typeof startEmulator>>

beforeAll(async () => {
  emulator = await startEmulator({ port: 0, host: '127.0.0.1' })
  const graph = new GraphClient({
    tokens: createMsalTokenProvider(),
    budgets: new BudgetRegistry(),
    retry: { maxAttempts: 6, baseDelayMs: 20 },
  })
  ctx = await createTestContext({ emulatorUrl: emulator.url, graph, config: { metricsToken: TOKEN } })
})
afterAll(async () => Promise.all([ctx.close(), emulator.close()]))

async function scrape() {
  const response = await ctx.request({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } })
  expect(response.statusCode).toBe(200)
  expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/)
  const families = parsePrometheusTextFormat(response.body)
  const value = (name: string, labels: Record<string, string>) => {
    const family = families.find((f) => f.name === name)
    const sample = family?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))
    return sample ? Number(sample.value) : undefined
  }
  return { families, value, text: response.body }
}

describe('GET /metrics', () => {
  it('answers only the METRICS_TOKEN bearer', async () => {
    expect((await ctx.request({ method: 'GET', url: '/metrics' })).statusCode).toBe(401)
    const wrong = await ctx.request({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer nope' } })
    expect(wrong.statusCode).toBe(401)
  })

  it('parses as Prometheus text, and its counters move as a sync runs', async () => {
    const tenant = await connectTenant(ctx, emulator, { policies: 30 })
    const before = await scrape()
    const runsBefore =
      before.value('tenantatlas_runs_completed_total', { type: 'inventory.sync', outcome: 'succeeded' }) ?? 0
    expect(before.value('tenantatlas_graph_requests_total', { tenant_id: tenant.tenantId })).toBeUndefined()
    expect(
      before.value('tenantatlas_inventory_last_success_age_seconds', { tenant_id: tenant.tenantId }),
    ).toBeUndefined()
    expect((await syncAndWait(ctx, tenant.tenantId, tenant.token)).outcome).toBe('succeeded')
    const after = await scrape()
    expect(after.value('tenantatlas_runs_completed_total', { type: 'inventory.sync', outcome: 'succeeded' })).toBe(
      runsBefore + 1,
    )
    expect(after.value('tenantatlas_graph_requests_total', { tenant_id: tenant.tenantId })).toBeGreaterThan(10)
    expect(
      after.value('tenantatlas_inventory_last_success_age_seconds', { tenant_id: tenant.tenantId }),
    ).toBeGreaterThanOrEqual(0)
    const types = Object.fromEntries(after.families.map((f) => [f.name, f.type]))
    expect(types).toMatchObject({
      tenantatlas_runs_completed_total: 'COUNTER',
      tenantatlas_run_queue_depth: 'GAUGE',
      tenantatlas_run_queue_oldest_seconds: 'GAUGE',
      tenantatlas_graph_throttled_total: 'COUNTER',
      tenantatlas_graph_retries_total: 'COUNTER',
      tenantatlas_alert_deliveries_total: 'COUNTER',
      tenantatlas_http_request_duration_seconds: 'HISTOGRAM',
    })
    const latency = after.families.find((f) => f.name === 'tenantatlas_http_request_duration_seconds')!
    // The parser keeps one sample per histogram family; the route's series are checked in the text.
    expect(latency.metrics.length).toBeGreaterThan(0)
    expect(after.text).toMatch(
      /tenantatlas_http_request_duration_seconds_count\{[^}]*route="\/api\/tenants\/:tenantId\/inventory-sync"[^}]*\} [1-9]/,
    )
  })
})
