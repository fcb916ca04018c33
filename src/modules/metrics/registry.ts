import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { Database } from '../../db/engine.ts'
import { graphCountsByTenant } from '../../graph/graph-metrics.ts'
import { alertDeliveryCounts } from '../alerts/metrics.ts'
import { runQueue, runsByOutcome } from '../operations/metrics.ts'
import { latestRunsByTenant } from '../operations/tenant-summaries.ts'
import { listAllTenants } from '../tenants/repository.ts'

/**
 * A gauge another module adds (e.g. open findings per severity, once drift exists): its samples are
 * read from the database at every scrape. Call `addGaugeSource` before the registry is created.
 */
export type GaugeSource = {
  name: string
  help: string
  labelNames: readonly string[]
  collect: (db: Database) => Promise<{ labels: Record<string, string>; value: number }[]>
}
const sources: GaugeSource[] = []
export const addGaugeSource = (source: GaugeSource) => void sources.push(source)

/**
 * The operator's metrics (ADR 030), one registry per app: what the database knows is read at each
 * scrape (every process sees the same runs, queue and deliveries); Graph counts and HTTP latency are
 * this process's own.
 */
export function createMetricsRegistry(db: Database) {
  const registry = new Registry()
  registry.setDefaultLabels({})
  new Counter({
    name: 'tenantatlas_runs_completed_total',
    help: 'Completed operation runs by type and outcome (runs within retention)',
    labelNames: ['type', 'outcome'],
    registers: [registry],
    async collect() {
      this.reset()
      for (const row of await runsByOutcome(db)) this.inc({ type: row.type, outcome: row.outcome }, row.n)
    },
  })
  const depth = new Gauge({
    name: 'tenantatlas_run_queue_depth',
    help: 'Queued operation runs by type',
    labelNames: ['type'],
    registers: [registry],
  })
  new Gauge({
    name: 'tenantatlas_run_queue_oldest_seconds',
    help: 'How long the oldest queued run of each type has waited',
    labelNames: ['type'],
    registers: [registry],
    async collect() {
      this.reset()
      depth.reset()
      for (const row of await runQueue(db)) {
        this.set({ type: row.type }, row.oldest)
        depth.set({ type: row.type }, row.depth)
      }
    },
  })
  new Gauge({
    name: 'tenantatlas_inventory_last_success_age_seconds',
    help: "Seconds since each tenant's last successful inventory sync (absent: never)",
    labelNames: ['tenant_id', 'tenant'],
    registers: [registry],
    async collect() {
      this.reset()
      const tenants = await listAllTenants(db)
      const runs = await latestRunsByTenant(
        db,
        tenants.map((t) => t.id),
        'inventory.sync',
      )
      for (const tenant of tenants) {
        const at = runs.get(tenant.id)?.lastSuccessAt
        if (at) this.set({ tenant_id: tenant.id, tenant: tenant.name }, (Date.now() - at.getTime()) / 1000)
      }
    },
  })
  const graph = (name: string, help: string, pick: 'requests' | 'throttled' | 'retries') =>
    new Counter({
      name,
      help,
      labelNames: ['tenant_id'],
      registers: [registry],
      collect() {
        this.reset()
        for (const [tenant, counts] of graphCountsByTenant) this.inc({ tenant_id: tenant }, counts[pick])
      },
    })
  graph(
    'tenantatlas_graph_requests_total',
    'Microsoft Graph requests sent by this process ($batch members one by one)',
    'requests',
  )
  graph('tenantatlas_graph_throttled_total', 'Microsoft Graph answers 429 (throttled) to this process', 'throttled')
  graph('tenantatlas_graph_retries_total', 'Microsoft Graph requests this process sent again', 'retries')
  new Counter({
    name: 'tenantatlas_alert_deliveries_total',
    help: 'Alert deliveries by channel kind and status (failed: given up)',
    labelNames: ['kind', 'status'],
    registers: [registry],
    async collect() {
      this.reset()
      for (const row of await alertDeliveryCounts(db)) this.inc({ kind: row.kind, status: row.status }, row.n)
    },
  })
  for (const source of sources)
    new Gauge({
      name: source.name,
      help: source.help,
      labelNames: [...source.labelNames],
      registers: [registry],
      async collect() {
        this.reset()
        for (const sample of await source.collect(db)) this.set(sample.labels, sample.value)
      },
    })
  const http = new Histogram({
    name: 'tenantatlas_http_request_duration_seconds',
    help: 'HTTP request latency by method, route and status',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  })
  return { registry, http }
}

export type Metrics = ReturnType<typeof createMetricsRegistry>
