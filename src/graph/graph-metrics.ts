/**
 * What every Graph client of this process sent, per tenant (our tenant id): Graph requests ($batch
 * members one by one), 429s and retries. Read by `GET /metrics` (ADR 030); process-local, as a
 * Prometheus counter is.
 */
export type TenantGraphCounts = { requests: number; throttled: number; retries: number }

export const graphCountsByTenant = new Map<string, TenantGraphCounts>()

export function countGraph(tenantKey: string, add: Partial<TenantGraphCounts>): void {
  let counts = graphCountsByTenant.get(tenantKey)
  if (!counts) graphCountsByTenant.set(tenantKey, (counts = { requests: 0, throttled: 0, retries: 0 }))
  counts.requests += add.requests ?? 0
  counts.throttled += add.throttled ?? 0
  counts.retries += add.retries ?? 0
}
