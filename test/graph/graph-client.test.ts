import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import type { EmulatorServer } from '../../src/emulator/server.ts'
import { GraphError } from '../../src/graph/errors.ts'
import { GraphClient, type GraphObject } from '../../src/graph/graph-client.ts'
import { probePermissions } from '../../src/graph/permission-probe.ts'
import { getPolicyType, GRAPH_PERMISSIONS, POLICY_TYPES } from '../../src/graph/policy-types.ts'
import type { GraphTenantContext } from '../../src/graph/tenant-context.ts'
import { BudgetRegistry, ThrottleMonitor } from '../../src/graph/throttle-budget.ts'
import { createMsalTokenProvider } from '../../src/graph/token-provider.ts'
import { control, createTenant, inventory, startEmulator } from './emulator-helpers.ts'

let emulator: EmulatorServer
const tokens = createMsalTokenProvider()
const FAST_RETRY = { baseDelayMs: 20, maxDelayMs: 200, maxAttempts: 6 }

beforeAll(async () => {
  emulator = await startEmulator()
})
afterAll(async () => {
  await emulator.close()
})
afterEach(async () => {
  await control(emulator, 'PUT', '/faults', {})
  await control(emulator, 'DELETE', '/throttle')
})

// Tests that are not about the budget get a large one, so they run at the emulator's speed.
const newClient = (options: ConstructorParameters<typeof GraphClient>[0] = {}) =>
  new GraphClient({
    tokens,
    retry: FAST_RETRY,
    budgets: new BudgetRegistry({ reads: 100_000, writes: 10_000, windowMs: 20_000 }),
    ...options,
  })

async function stats() {
  return (
    await control<{
      throttled: number
      tokens_issued: number
      graph_requests: number
      by_kind: Record<string, number>
    }>(emulator, 'GET', '/stats')
  ).body
}

async function collect(client: GraphClient, ctx: GraphTenantContext, key: string) {
  const items: GraphObject[] = []
  let pages = 0
  let skipped = 0
  for await (const page of client.pages(ctx, getPolicyType(key))) {
    items.push(...page.items)
    skipped += page.skipped
    pages++
  }
  return { items, pages, skipped }
}

/** A full inventory read the way the sync will do it: every listable type, per-item reads, then groups. */
async function readEverything(client: GraphClient, ctx: GraphTenantContext) {
  const found: { type: string; id: string }[] = []
  const groupIds = new Set<string>()
  await Promise.all(
    POLICY_TYPES.filter((e) => e.listable).map(async (entry) => {
      for await (const page of client.pages(ctx, entry)) {
        const reads = await client.readItems(ctx, entry, page.items)
        for (const read of reads) {
          expect(read.errors).toEqual([])
          found.push({ type: entry.key, id: read.item.id })
          for (const a of (read.assignments ?? []) as { target: { groupId?: string } }[])
            if (a.target.groupId) groupIds.add(a.target.groupId)
        }
      }
    }),
  )
  const groups = await client.readGroups(ctx, [...groupIds])
  for (const g of groups) if (g.group) found.push({ type: 'group', id: g.id })
  return { found, orphans: groups.filter((g) => !g.group && !g.error).length }
}

describe('paging', () => {
  it('reads every settings catalog policy through 25-item pages and follows /settings past 25', async () => {
    const { tenant, ctx } = await createTenant(emulator, { policies: 500 })
    const client = newClient()
    const { items, pages } = await collect(client, ctx, 'settingsCatalogPolicy')
    expect(items).toHaveLength(tenant.counts.settingsCatalogPolicy!)
    expect(pages).toBe(Math.ceil(items.length / 25))
    const reads = await client.readItems(ctx, getPolicyType('settingsCatalogPolicy'), items)
    const counts = reads.map((r) => (r.details.settings as unknown[]).length)
    expect(Math.max(...counts)).toBeGreaterThan(25)
    for (const r of reads) {
      expect(r.errors).toEqual([])
      expect(new Set((r.details.settings as { id: string }[]).map((s) => s.id)).size).toBe(
        (r.details.settings as unknown[]).length,
      )
    }
  })

  it('skips the built-ins the catalog skips and reads content the list omits', async () => {
    const { tenant, ctx } = await createTenant(emulator, { policies: 300 })
    const client = newClient()
    const tags = await collect(client, ctx, 'roleScopeTag')
    expect(tags.skipped).toBe(1)
    expect(tags.items).toHaveLength(tenant.counts.roleScopeTag! - 1)
    const scripts = await collect(client, ctx, 'deviceManagementScript')
    expect(scripts.items.every((s) => s.scriptContent === null)).toBe(true)
    const reads = await client.readItems(ctx, getPolicyType('deviceManagementScript'), scripts.items)
    expect(reads.every((r) => typeof r.object?.scriptContent === 'string' && Array.isArray(r.assignments))).toBe(true)
  })

  it('reads the types IntuneCD reads that the catalog lacked, each exactly as the ground truth says', async () => {
    const { tenant, ctx } = await createTenant(emulator, { policies: 3000 })
    const client = newClient()
    const truth = await inventory(emulator, tenant.tenant_id)
    for (const key of [
      'conditionalAccessPolicy',
      'depOnboardingSetting',
      'vppToken',
      'complianceManagementPartner',
      'deviceManagementPartner',
      'remoteAssistancePartner',
    ]) {
      const { items } = await collect(client, ctx, key)
      expect(items.length, key).toBeGreaterThan(0)
      expect(items.map((i) => i.id).sort(), key).toEqual(
        truth
          .filter((o) => o.type === key)
          .map((o) => o.id)
          .sort(),
      )
      const reads = await client.readItems(ctx, getPolicyType(key), items)
      expect(
        reads.flatMap((r) => r.errors),
        key,
      ).toEqual([])
    }
    const dep = await collect(client, ctx, 'depOnboardingSetting')
    const [read] = await client.readItems(ctx, getPolicyType('depOnboardingSetting'), dep.items.slice(0, 1))
    expect((read!.details.enrollmentProfiles as unknown[]).length).toBeGreaterThan(0)
    // Legacy compliance policies bring their rules on the list: no request per policy.
    const before = client.counters.graphRequests
    const legacy = await collect(client, ctx, 'deviceCompliancePolicy')
    const rules = await client.readItems(ctx, getPolicyType('deviceCompliancePolicy'), legacy.items)
    expect(client.counters.graphRequests - before).toBe(legacy.pages)
    for (const r of rules)
      expect(r.details.scheduledActionsForRule).toEqual([
        expect.objectContaining({ scheduledActionConfigurations: expect.any(Array) }),
      ])
    // Compliance policies (settings catalog) bring their actions for noncompliance.
    const compliance = await collect(client, ctx, 'compliancePolicy')
    const [policy] = await client.readItems(ctx, getPolicyType('compliancePolicy'), compliance.items.slice(0, 1))
    expect(policy!.details.scheduledActionsForRule).toEqual([
      expect.objectContaining({ scheduledActionConfigurations: expect.any(Array) }),
    ])
  })

  it('reads each singleton with one GET as one object of the ground truth, none once Graph answers 404', async () => {
    const { tenant, ctx } = await createTenant(emulator, { policies: 200 })
    const client = newClient()
    const truth = await inventory(emulator, tenant.tenant_id)
    const singletons = POLICY_TYPES.filter((e) => e.singleton)
    expect(singletons.map((e) => e.key).sort()).toEqual([
      'androidManagedStoreAccountEnterpriseSettings',
      'applePushNotificationCertificate',
      'deviceManagementSettings',
    ])
    for (const entry of singletons) {
      const before = client.counters.graphRequests
      const { items, pages } = await collect(client, ctx, entry.key)
      expect(client.counters.graphRequests - before, entry.key).toBe(1)
      expect(pages).toBe(1)
      expect(items.map((i) => i.id)).toEqual(truth.filter((o) => o.type === entry.key).map((o) => o.id))
      expect(items[0]!['@odata.context']).toBeUndefined()
      const reads = await client.readItems(ctx, entry, items)
      expect(reads).toEqual([{ item: items[0], assignments: null, details: {}, errors: [] }])
      expect(
        (await control(emulator, 'DELETE', `/tenants/${tenant.tenant_id}/items/${entry.singleton!.id}`)).status,
      ).toBe(204)
      expect((await collect(client, ctx, entry.key)).items).toEqual([])
    }
    // A tenant without them still grants the permission: the probe is not fooled by the 404.
    const probe = await probePermissions(client, ctx, singletons)
    expect(probe.map((p) => p.status)).toEqual(['granted', 'granted', 'granted'])
    const { ctx: denied } = await createTenant(emulator, {
      permissions: GRAPH_PERMISSIONS.filter((p) => p !== 'DeviceManagementServiceConfig.Read.All'),
    })
    const error = await collect(client, denied, 'applePushNotificationCertificate').catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'missing_permission', permission: 'DeviceManagementServiceConfig.Read.All' })
    expect((await probePermissions(client, denied, singletons)).map((p) => p.status)).toEqual([
      'missing',
      'granted',
      'granted',
    ])
  })

  it('mirrors a targeted managed app configuration once, under its own type, although managedAppPolicies lists it too', async () => {
    const { tenant, ctx } = await createTenant(emulator, { policies: 600 })
    const client = newClient()
    const protection = await collect(client, ctx, 'managedAppPolicy')
    const configs = await collect(client, ctx, 'targetedManagedAppConfiguration')
    expect(protection.skipped).toBe(tenant.counts.targetedManagedAppConfiguration)
    expect(protection.items).toHaveLength(tenant.counts.managedAppPolicy!)
    expect(configs.items).toHaveLength(tenant.counts.targetedManagedAppConfiguration!)
    const ids = new Set(protection.items.map((i) => i.id))
    expect(configs.items.filter((c) => ids.has(c.id))).toEqual([])
  })

  it('skips Conditional Access policies without Policy.Read.All, naming the permission', async () => {
    const { ctx, tenant } = await createTenant(emulator, {
      permissions: GRAPH_PERMISSIONS.filter((p) => p !== 'Policy.Read.All'),
    })
    const client = newClient()
    const error = await collect(client, ctx, 'conditionalAccessPolicy').catch((e: unknown) => e)
    expect(error).toMatchObject({
      code: 'missing_permission',
      permission: 'Policy.Read.All',
      message: expect.stringContaining('Policy.Read.All'),
    })
    expect((await collect(client, ctx, 'vppToken')).items).toHaveLength(tenant.counts.vppToken!)
  })

  it('reads a whole tenant exactly as the ground truth says, orphaned groups apart', async () => {
    const { tenant, ctx } = await createTenant(emulator, { policies: 400 })
    const { found, orphans } = await readEverything(newClient(), ctx)
    const truth = await inventory(emulator, tenant.tenant_id)
    const key = (o: { type: string; id: string }) => `${o.type}:${o.id}`
    expect(new Set(found.map(key))).toEqual(new Set(truth.map(key)))
    expect(found).toHaveLength(truth.length)
    expect(orphans).toBeGreaterThan(0)
  })
})

describe('throttling and retries', () => {
  it('retries 429 members of a $batch and returns mixed 200/404 results in order', async () => {
    const { ctx } = await createTenant(emulator, { policies: 60 })
    await control(emulator, 'PUT', '/faults', { throttle_scale: 0.01, throttle_window_ms: 300 })
    await control(emulator, 'DELETE', '/stats')
    const client = newClient()
    const urls = Array.from({ length: 30 }, (_, i) =>
      i % 10 === 3
        ? `/beta/deviceManagement/deviceCategories/00000000-0000-4000-8000-00000000000${i % 10}`
        : '/beta/deviceManagement/deviceCategories?$top=1',
    )
    const results = await client.batch(ctx, urls)
    expect(results.map((r) => r.status)).toEqual(urls.map((u) => (u.includes('?') ? 200 : 404)))
    expect(results.filter((r) => r.error).every((r) => r.error!.code === 'not_found')).toBe(true)
    expect((await stats()).throttled).toBeGreaterThan(0)
    expect(client.counters.throttled).toBe((await stats()).throttled)
  })

  it('backs off with jitter when a 429 comes without Retry-After', async () => {
    const { ctx } = await createTenant(emulator)
    await control(emulator, 'PUT', '/faults', {
      throttle_scale: 0.002,
      throttle_window_ms: 150,
      omit_retry_after: true,
    })
    const client = newClient({ retry: { baseDelayMs: 60, maxDelayMs: 500, maxAttempts: 8 } })
    const bodies = await Promise.all(
      Array.from({ length: 6 }, () => client.get<{ value: unknown[] }>(ctx, '/beta/deviceManagement/deviceCategories')),
    )
    expect(bodies.every((b) => Array.isArray(b.value))).toBe(true)
    // Every 429 was waited out and retried (the wait itself is the bench's figure, not the test's).
    expect(client.counters.throttled).toBeGreaterThan(0)
    expect(client.counters.retries).toBeGreaterThanOrEqual(client.counters.throttled)
  })

  it('gives up with throttled_exhausted after the bounded attempts', async () => {
    const { ctx } = await createTenant(emulator)
    await control(emulator, 'PUT', '/faults', {
      throttle_scale: 0.001,
      throttle_window_ms: 60_000,
      omit_retry_after: true,
    })
    const client = newClient({ retry: { baseDelayMs: 5, maxDelayMs: 10, maxAttempts: 3 } })
    await client.get(ctx, '/beta/deviceManagement/deviceCategories')
    const error = await client.get(ctx, '/beta/deviceManagement/deviceCategories').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(GraphError)
    expect(error).toMatchObject({ code: 'throttled_exhausted', status: 429 })
    expect(client.counters.httpRequests).toBe(4)
  })

  it('retries 503s and fails with graph_unavailable when Graph stays down, and on timeouts', async () => {
    const { ctx } = await createTenant(emulator)
    await control(emulator, 'PUT', '/faults', { error_rate: 1 })
    const client = newClient({ retry: { baseDelayMs: 5, maxDelayMs: 10, maxAttempts: 3 } })
    await expect(client.get(ctx, '/beta/deviceManagement/deviceCategories')).rejects.toMatchObject({
      code: 'graph_unavailable',
      status: 503,
    })
    expect(client.counters.httpRequests).toBe(3)
    await control(emulator, 'PUT', '/faults', { latency_ms: 300 })
    const slow = newClient({ timeoutMs: 100, retry: { baseDelayMs: 5, maxDelayMs: 10, maxAttempts: 2 } })
    await tokens.getToken(ctx)
    await expect(slow.get(ctx, '/beta/deviceManagement/deviceCategories')).rejects.toMatchObject({
      code: 'graph_unavailable',
      message: expect.stringContaining('no answer within 100 ms'),
    })
    // The abandoned requests still finish on the emulator: let them, so the next test's statistics start clean.
    await new Promise((resolve) => setTimeout(resolve, 400))
  })

  it('backs off only the throttled requests after stray 429s without Retry-After, and the whole tenant when Graph says so', async () => {
    const { ctx, tenant } = await createTenant(emulator, { policies: 300 })
    // Stray 429s without Retry-After, and 503s: each delays its own request; the tenant keeps going.
    await control(emulator, 'PUT', '/faults', { throttle_rate: 0.05, error_rate: 0.05, omit_retry_after: true })
    const budgets = new BudgetRegistry({ reads: 100_000, writes: 10_000, windowMs: 20_000 }, { initial: 8, max: 32 })
    const stray = newClient({ budgets })
    const read = await readEverything(stray, ctx)
    expect(read.found.length).toBe((await inventory(emulator, tenant.tenant_id)).length)
    expect(stray.counters.throttled).toBeGreaterThan(0)
    const budget = budgets.for(ctx.tenantKey)
    expect(budget.tenantPauses).toBe(0)
    expect(budget.concurrency.limit).toBeGreaterThanOrEqual(8)

    // 429s with Retry-After (the app's budget for the tenant is spent): the tenant waits.
    await control(emulator, 'PUT', '/faults', { throttle_scale: 0.01, throttle_window_ms: 300 })
    const spent = new BudgetRegistry({ reads: 100_000, writes: 10_000, windowMs: 20_000 })
    const limited = newClient({ budgets: spent })
    await limited.batch(
      ctx,
      Array.from({ length: 40 }, () => '/beta/deviceManagement/deviceCategories?$top=1'),
    )
    expect(limited.counters.throttled).toBeGreaterThan(0)
    expect(spent.for(ctx.tenantKey).tenantPauses).toBeGreaterThan(0)

    // Widespread 429s without Retry-After are the tenant's too.
    await control(emulator, 'PUT', '/faults', { throttle_rate: 0.6, omit_retry_after: true })
    const crowded = new BudgetRegistry({ reads: 100_000, writes: 10_000, windowMs: 20_000 })
    const many = newClient({ budgets: crowded, retry: { baseDelayMs: 5, maxDelayMs: 20, maxAttempts: 30 } })
    // 80 requests at 60 % 429s: far more than the half window (50 answers) the monitor judges on.
    await Promise.all(Array.from({ length: 80 }, () => many.get(ctx, '/beta/deviceManagement/deviceCategories?$top=1')))
    expect(crowded.for(ctx.tenantKey).tenantPauses).toBeGreaterThan(0)
  })

  it('measures the share of 429s over the latest answers', () => {
    const monitor = new ThrottleMonitor(10, 0.2)
    expect(monitor.widespread).toBe(false)
    monitor.record(true)
    monitor.record(true)
    // Too few answers to judge.
    expect(monitor.widespread).toBe(false)
    for (let i = 0; i < 8; i++) monitor.record(false)
    for (let i = 0; i < 10; i++) monitor.record(i === 0)
    expect(monitor.ratio).toBeCloseTo(0.1)
    expect(monitor.widespread).toBe(false)
    for (let i = 0; i < 3; i++) monitor.record(true)
    // The window holds the last 10: the first 429 slid out, three came in.
    expect(monitor.ratio).toBeCloseTo(0.3)
    expect(monitor.widespread).toBe(true)
    for (let i = 0; i < 10; i++) monitor.record(false)
    expect(monitor.ratio).toBe(0)
  })

  it('keeps the 429 count near zero when many readers share one tenant budget', async () => {
    const { ctx } = await createTenant(emulator, { policies: 400 })
    // 60 reads per app per second on the emulator; the same limit on our budget.
    await control(emulator, 'PUT', '/faults', { throttle_scale: 0.06, throttle_window_ms: 1000, latency_ms: 5 })
    await control(emulator, 'DELETE', '/stats')
    const budgets = new BudgetRegistry({ reads: 60, writes: 10, windowMs: 1000 })
    // Three independent clients (as three syncs would be) share the process-wide budget of the tenant.
    const clients = [newClient({ budgets }), newClient({ budgets }), newClient({ budgets })]
    const urls = Array.from({ length: 60 }, () => '/beta/deviceManagement/deviceCategories?$top=1')
    await Promise.all(
      clients.flatMap((client) => [
        client.batch(ctx, urls),
        ...Array.from({ length: 10 }, () => client.get(ctx, '/beta/deviceManagement/assignmentFilters')),
      ]),
    )
    const { throttled, graph_requests } = await stats()
    // Every 429 is answered and then retried: 210 requests plus the throttled ones.
    expect(graph_requests).toBe(210 + throttled)
    // 210 requests against 60 a second with a 20-request burst: only pacing keeps the 429s this rare.
    expect(throttled).toBeLessThanOrEqual(2)
  })
})

describe('errors and identity', () => {
  it('maps 403 to missing_permission naming the permission, and the probe reports it per type', async () => {
    const { ctx } = await createTenant(emulator, {
      permissions: ['DeviceManagementConfiguration.Read.All', 'Group.Read.All'],
    })
    const client = newClient()
    const error = await collect(client, ctx, 'mobileApp').catch((e: unknown) => e)
    expect(error).toMatchObject({
      code: 'missing_permission',
      permission: 'DeviceManagementApps.Read.All',
      message: expect.stringContaining('DeviceManagementApps.Read.All'),
    })
    const probe = await probePermissions(client, ctx)
    expect(probe).toHaveLength(POLICY_TYPES.length)
    const byKey = Object.fromEntries(probe.map((p) => [p.key, p]))
    expect(byKey.mobileApp).toMatchObject({ status: 'missing', permission: 'DeviceManagementApps.Read.All' })
    expect(byKey.roleDefinition).toMatchObject({ status: 'missing', permission: 'DeviceManagementRBAC.Read.All' })
    expect(byKey.settingsCatalogPolicy).toMatchObject({ status: 'granted' })
    expect(byKey.group).toMatchObject({ status: 'granted', permission: 'Group.Read.All' })
  })

  it('maps a wrong secret to invalid_credentials without the secret in the message', async () => {
    const { ctx } = await createTenant(emulator)
    const client = newClient()
    const wrong = { ...ctx, clientSecret: 'definitely-not-the-secret' }
    const error = await client.get(wrong, '/beta/deviceManagement/deviceCategories').catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'invalid_credentials', message: expect.stringContaining('AADSTS7000215') })
    expect(String((error as Error).message)).not.toContain('definitely-not-the-secret')
    await expect(probePermissions(client, wrong)).rejects.toMatchObject({ code: 'invalid_credentials' })
    await expect(
      client.get({ ...ctx, clientId: 'unknown-app' }, '/beta/deviceManagement/deviceCategories'),
    ).rejects.toMatchObject({ code: 'app_not_found' })
    await expect(
      client.get(
        { ...ctx, entraTenantId: '00000000-0000-4000-8000-0000000000aa' },
        '/beta/deviceManagement/deviceCategories',
      ),
    ).rejects.toMatchObject({ code: 'tenant_not_found' })
  })

  it('caches the token and fetches a new one before it expires', async () => {
    // MSAL renews five minutes before expiry (in whole seconds): a 301 s token is due after 1–2 s.
    const { ctx } = await createTenant(emulator, { token_lifetime_s: 301 })
    const provider = createMsalTokenProvider()
    const client = newClient({ tokens: provider })
    await control(emulator, 'DELETE', '/stats')
    await Promise.all(Array.from({ length: 10 }, () => client.get(ctx, '/beta/deviceManagement/deviceCategories')))
    const first = await provider.getToken(ctx)
    expect((await stats()).tokens_issued).toBe(1)
    // MSAL reads the clock for expiry: move the clock (only Date; timers and sockets stay real), never sleep.
    vi.useFakeTimers({ toFake: ['Date'] })
    try {
      vi.setSystemTime(Date.now() + 2_100)
      await client.get(ctx, '/beta/deviceManagement/deviceCategories')
      expect((await stats()).tokens_issued).toBe(2)
      expect(await provider.getToken(ctx)).not.toBe(first)
    } finally {
      vi.useRealTimers()
    }
  })

  it('refuses to follow a link to another host', async () => {
    const { ctx } = await createTenant(emulator)
    await expect(newClient().get(ctx, 'https://attacker.example/beta/x')).rejects.toMatchObject({ code: 'bad_request' })
  })
})
