import { GraphClient } from '../src/graph/graph-client.ts'
import { POLICY_TYPES, type PolicyTypeEntry } from '../src/graph/policy-types.ts'
import { groupReadUrl, itemReads, listUrl } from '../src/graph/read-plan.ts'
import type { GraphTenantContext } from '../src/graph/tenant-context.ts'
import { BudgetRegistry } from '../src/graph/throttle-budget.ts'
import { createMsalTokenProvider } from '../src/graph/token-provider.ts'
import { control, type Emulator, hasWrk, rssMiB, spawnEmulator, stopEmulator, wrk, writeReport } from './lib.ts'

/**
 * The Graph layer against the emulator (issue 4's figures):
 * - a full read of a 10,000-object tenant at 50 ms latency under Intune's default limits:
 *   requests made vs the minimum the catalog's strategies need, wall time vs the floor
 *   max(requests ÷ allowed rate, longest dependent chain × latency), 429s received;
 * - a naive baseline that reads like the older PowerShell tools (sequential, one request per
 *   object for assignments and details, no $batch), run on a smaller tenant and extrapolated;
 * - the emulator's capacity in requests/s on one core (it is one Node process).
 */

const OBJECTS = Number(process.env.BENCH_GRAPH_OBJECTS ?? 10_000)
const BASELINE_OBJECTS = Number(process.env.BENCH_GRAPH_BASELINE_OBJECTS ?? 500)
const LATENCY_MS = 50
const ALLOWED_PER_S = 1000 / 20

type EmulatorStats = { requests: number; graph_requests: number; throttled: number; by_kind: Record<string, number> }

export async function newTenant(emulator: Emulator, objects: number, name: string): Promise<GraphTenantContext> {
  const secret = `bench-secret-${name}`
  const tenant = await control<{ tenant_id: string; client_id: string }>(emulator, 'POST', '/tenants', {
    seed: 'bench',
    policies: objects,
    client_id: `bench-${name}`,
    client_secret: secret,
  })
  return {
    tenantKey: `bench-${name}`,
    entraTenantId: tenant.tenant_id,
    clientId: tenant.client_id,
    clientSecret: secret,
    cloud: 'emulator',
    emulatorUrl: emulator.url,
  }
}

/** Our read: every type at once, each page's per-object reads in $batch, then the referenced groups. */
export async function readTenant(
  client: GraphClient,
  ctx: GraphTenantContext,
  catalog: readonly PolicyTypeEntry[] = POLICY_TYPES,
) {
  const groupIds = new Set<string>()
  const perType: Record<string, number> = {}
  let objects = 0
  let minimum = 0
  let chain = 0
  let naiveRequests = 0
  await Promise.all(
    catalog
      .filter((e) => e.listable)
      .map(async (entry) => {
        let pages = 0
        let longestDetail = 0
        for await (const page of client.pages(ctx, entry)) {
          pages++
          const reads = await client.readItems(ctx, entry, page.items)
          for (const read of reads) {
            if (read.errors.length > 0) throw read.errors[0]!
            objects++
            perType[entry.key] = (perType[entry.key] ?? 0) + 1
            const planned = itemReads(entry, read.item)
            // Sub-collections longer than a page need their further pages: part of the minimum too.
            let extra = 0
            for (const d of entry.details) {
              const values = read.details[d.name]
              const page = d.query?.includes('$top=') && d.maxTop ? d.maxTop : (d.pageSize ?? 100)
              if (d.via === 'subresource' && Array.isArray(values))
                extra += Math.max(0, Math.ceil(values.length / page) - 1)
            }
            minimum += planned.length + extra
            longestDetail = Math.max(longestDetail, extra)
            naiveRequests += naivePerItem(entry) + extra
            for (const a of (read.assignments ?? []) as { target: { groupId?: string } }[])
              if (a.target.groupId) groupIds.add(a.target.groupId)
          }
        }
        minimum += pages
        naiveRequests += pages
        // Pages follow each other; then the last page's $batch and its longest sub-collection.
        chain = Math.max(chain, pages + 1 + longestDetail)
      }),
  )
  const groups = await client.readGroups(ctx, [...groupIds])
  const orphans = groups.filter((g) => g.group === null && !g.error).length
  minimum += groupIds.size
  naiveRequests += groupIds.size
  perType.group = groups.length - orphans
  return { objects: objects + groups.length - orphans, perType, orphans, minimum, chain: chain + 1, naiveRequests }
}

/** How many requests the naive reader spends per object: one per read the catalog needs, none batched. */
function naivePerItem(entry: PolicyTypeEntry): number {
  const assignments = entry.assignments ? 1 : 0
  const content = (entry.listOmits?.length ?? 0) > 0 ? 1 : 0
  const details = entry.details.length
  return assignments + content + details
}

/**
 * The baseline: like the PowerShell tools, one type after the other, a plain list (no
 * $expand, no $top), then for every object one GET per assignment list, content and detail,
 * then one GET per referenced group — sequential, through the same client (so the same
 * retries) but with a budget that never holds it back.
 */
async function naiveRead(client: GraphClient, ctx: GraphTenantContext) {
  const groupIds = new Set<string>()
  for (const entry of POLICY_TYPES.filter((e) => e.listable)) {
    const list = listUrl(entry)
      .replace(/[?&]%24expand=assignments/, '')
      .replace(/%24top=\d+&?/, '')
    for await (const items of client.pagesOf(ctx, list)) {
      for (const item of items) {
        const base = `/${entry.apiVersion}/${entry.path}/${encodeURIComponent(item.id)}`
        const urls: string[] = []
        if (entry.assignments) urls.push(entry.itemCollections ? itemReads(entry, item)[0]!.url : `${base}/assignments`)
        if ((entry.listOmits?.length ?? 0) > 0) urls.push(base)
        for (const d of entry.details)
          urls.push(
            d.via === 'expand' ? `${base}?$expand=${d.name}` : `${base}/${d.name}${d.query ? `?${d.query}` : ''}`,
          )
        for (const url of urls) {
          for await (const values of client.pagesOf(ctx, url)) {
            for (const a of values as { target?: { groupId?: string } }[])
              if (a.target?.groupId) groupIds.add(a.target.groupId)
          }
        }
      }
    }
  }
  for (const id of groupIds) await client.get(ctx, groupReadUrl(id)).catch(() => undefined)
}

async function capacity(emulator: Emulator, ctx: GraphTenantContext) {
  await control(emulator, 'PUT', '/faults', { throttle_scale: 1000 })
  const token = await createMsalTokenProvider().getToken(ctx)
  const seconds = 5
  const small = `${emulator.url}/beta/deviceManagement/deviceCategories/${(await control<{ objects: { type: string; id: string }[] }>(emulator, 'GET', `/tenants/${ctx.entraTenantId}/inventory`)).objects.find((o) => o.type === 'deviceCategory')!.id}`
  const page = `${emulator.url}${listUrl(POLICY_TYPES.find((e) => e.key === 'deviceConfiguration')!)}`
  if (hasWrk()) {
    const options = { connections: 32, seconds, threads: 1, headers: [`Authorization: Bearer ${token}`] }
    return {
      tool: 'wrk',
      object_get: await wrk(small, options),
      list_page_100_with_assignments: await wrk(page, options),
    }
  }
  const loop = async (url: string) => {
    let done = 0
    const until = performance.now() + seconds * 1000
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (performance.now() < until) {
          await (await fetch(url, { headers: { authorization: `Bearer ${token}` } })).arrayBuffer()
          done++
        }
      }),
    )
    return { requests_per_s: Math.round(done / seconds) }
  }
  return { tool: 'fetch', object_get: await loop(small), list_page_100_with_assignments: await loop(page) }
}

export async function runGraphBench(): Promise<unknown> {
  const emulator = await spawnEmulator()
  try {
    const tokens = createMsalTokenProvider()
    // Full read, default Intune limits on both sides, 50 ms per request.
    const ctx = await newTenant(emulator, OBJECTS, 'full')
    const truth = (await control<{ objects: unknown[] }>(emulator, 'GET', `/tenants/${ctx.entraTenantId}/inventory`))
      .objects.length
    await control(emulator, 'PUT', '/faults', { latency_ms: LATENCY_MS })
    await control(emulator, 'DELETE', '/stats')
    const client = new GraphClient({ tokens, budgets: new BudgetRegistry() })
    await tokens.getToken(ctx)
    const started = performance.now()
    const read = await readTenant(client, ctx)
    const wallS = (performance.now() - started) / 1000
    const stats = await control<EmulatorStats>(emulator, 'GET', '/stats')
    const floorS = Math.max(read.minimum / ALLOWED_PER_S, (read.chain * LATENCY_MS) / 1000)
    const ours = {
      objects_read: read.objects,
      ground_truth_objects: truth,
      orphaned_group_references: read.orphans,
      graph_requests_made: client.counters.graphRequests,
      http_round_trips: client.counters.httpRequests,
      minimum_graph_requests: read.minimum,
      longest_dependent_chain: read.chain,
      wall_s: round(wallS),
      floor_s: round(floorS),
      wall_over_floor: round(wallS / floorS),
      throttled_429: stats.throttled,
      retries: client.counters.retries,
    }

    // Baseline on a smaller tenant of the same shape, fully read, then scaled by request count.
    const small = await newTenant(emulator, BASELINE_OBJECTS, 'baseline')
    const unlimited = new GraphClient({
      tokens,
      budgets: new BudgetRegistry({ reads: 1_000_000, writes: 1_000_000, windowMs: 20_000 }),
    })
    await tokens.getToken(small)
    const baselineStarted = performance.now()
    await naiveRead(unlimited, small)
    const baselineS = (performance.now() - baselineStarted) / 1000
    const perRequestMs = (baselineS * 1000) / unlimited.counters.graphRequests
    const baselineEstimateS = (read.naiveRequests * perRequestMs) / 1000
    const baseline = {
      measured_on_objects: BASELINE_OBJECTS,
      measured_requests: unlimited.counters.graphRequests,
      measured_s: round(baselineS),
      ms_per_request: round(perRequestMs),
      requests_for_full_tenant: read.naiveRequests,
      estimated_full_tenant_s: round(baselineEstimateS),
      throttled_429: unlimited.counters.throttled,
      ours_over_baseline: round(wallS / baselineEstimateS),
    }

    await control(emulator, 'PUT', '/faults', {})
    const emulatorCapacity = await capacity(emulator, ctx)
    const memory = await memoryOf100k(emulator)
    const report = {
      objects: OBJECTS,
      latency_ms: LATENCY_MS,
      limits: '1,000 requests per 20 s per app per tenant',
      ours,
      baseline,
      emulator_capacity_one_core: emulatorCapacity,
      emulator_memory_100k: memory,
    }
    print(report)
    return report
  } finally {
    await stopEmulator(emulator)
  }
}

const round = (n: number) => Math.round(n * 100) / 100

/** The emulator's resident memory before and after a 100,000-object tenant exists and has been read in full (ground truth). */
async function memoryOf100k(emulator: Emulator) {
  const pid = emulator.child.pid!
  const before = rssMiB(pid)
  const ctx = await newTenant(emulator, 100_000, 'memory')
  const created = rssMiB(pid)
  const started = performance.now()
  const objects = (await control<{ objects: unknown[] }>(emulator, 'GET', `/tenants/${ctx.entraTenantId}/inventory`))
    .objects.length
  const groundTruthS = round((performance.now() - started) / 1000)
  return {
    rss_before_mib: before,
    rss_with_tenant_mib: created,
    rss_after_full_read_mib: rssMiB(pid),
    ground_truth_objects: objects,
    ground_truth_s: groundTruthS,
  }
}

function print(report: {
  ours: Record<string, unknown>
  baseline: Record<string, unknown>
  emulator_capacity_one_core: {
    tool: string
    object_get: { requests_per_s: number }
    list_page_100_with_assignments: { requests_per_s: number }
  }
  emulator_memory_100k: Awaited<ReturnType<typeof memoryOf100k>>
}) {
  const o = report.ours
  const b = report.baseline
  const c = report.emulator_capacity_one_core
  console.log(`\nGraph: full read of an emulated tenant (${OBJECTS} objects, ${LATENCY_MS} ms latency, Intune limits)`)
  console.log(
    `  objects read / ground truth        ${String(o.objects_read)} / ${String(o.ground_truth_objects)} (+${String(o.orphaned_group_references)} orphaned group references)`,
  )
  console.log(
    `  Graph requests made / minimum       ${String(o.graph_requests_made)} / ${String(o.minimum_graph_requests)} (${String(o.http_round_trips)} HTTP round trips)`,
  )
  console.log(
    `  wall time / floor                   ${String(o.wall_s)} s / ${String(o.floor_s)} s (× ${String(o.wall_over_floor)})`,
  )
  console.log(`  429s received                       ${String(o.throttled_429)}`)
  console.log(
    `  naive baseline (PowerShell-style)   ${String(b.measured_s)} s for ${String(b.measured_on_objects)} objects (${String(b.measured_requests)} requests); estimated ${String(b.estimated_full_tenant_s)} s for the full tenant (${String(b.requests_for_full_tenant)} requests)`,
  )
  console.log(`  ours ÷ baseline                     ${String(b.ours_over_baseline)}`)
  console.log(
    `  emulator capacity, one core (${c.tool})  ${c.object_get.requests_per_s} req/s (object GET), ${c.list_page_100_with_assignments.requests_per_s} req/s (100-item page with assignments)`,
  )
  const m = report.emulator_memory_100k
  console.log(
    `  emulator RSS, 100,000-object tenant  ${m.rss_before_mib} MiB before, ${m.rss_with_tenant_mib} MiB created, ${m.rss_after_full_read_mib} MiB after reading all ${m.ground_truth_objects} objects (${m.ground_truth_s} s)`,
  )
}

if (import.meta.main) console.log(`\nreport: ${writeReport('graph', await runGraphBench())}`)
