import { startEmulator, type EmulatorServer } from '../../src/emulator/server.ts'
import { GraphClient } from '../../src/graph/graph-client.ts'
import { BudgetRegistry } from '../../src/graph/throttle-budget.ts'
import { createMsalTokenProvider } from '../../src/graph/token-provider.ts'
import { normaliseValue } from '../../src/modules/inventory/normalise.ts'
import { control } from '../graph/emulator-helpers.ts'
import { createTestContext, ORIGIN, type TestContext } from '../harness.ts'
import { waitForCompletion } from '../inventory/helpers.ts'

export type Body = Record<string, unknown>
export type ContentObject = { type: string; id: string; display_name: string; content: Body }

export type PlanBody = {
  id: string
  backup_id: string
  source_tenant_id: string
  target_tenant_id: string
  stale: boolean
  counts: Record<string, number>
  items: {
    id: string
    policy_type: string
    display_name: string
    action: string
    reason: string | null
    warnings: string[]
    excluded: boolean
    source_id: string
    target_id: string | null
    changes: { label: string }[] | null
  }[]
  mapping: {
    kind: string
    source_id: string
    source_name: string
    target_id: string | null
    target_name: string | null
    proposed_by: string | null
  }[]
}

/** The app with a worker, on an emulator whose write limits do not slow the tests down (the bench measures those). */
export async function restoreContext(options: { emulator?: EmulatorServer; worker?: boolean } = {}) {
  const own = options.emulator === undefined
  const emulator = options.emulator ?? (await startEmulator({ port: 0, host: '127.0.0.1' }))
  const graph = new GraphClient({
    tokens: createMsalTokenProvider(),
    budgets: new BudgetRegistry({ reads: 100_000, writes: 10_000, windowMs: 20_000 }),
    retry: { maxAttempts: 8, baseDelayMs: 20 },
  })
  const ctx = await createTestContext({ emulatorUrl: emulator.url, graph, worker: options.worker })
  await control(emulator, 'PUT', '/faults', { throttle_scale: 100 })
  return { ctx, emulator, graph, close: async () => Promise.all([ctx.close(), own ? emulator.close() : undefined]) }
}

export async function contents(emulator: EmulatorServer, entraTenantId: string): Promise<ContentObject[]> {
  return (
    await control<{ objects: ContentObject[] }>(emulator, 'GET', `/tenants/${entraTenantId}/inventory?include=content`)
  ).body.objects
}

export async function createPlan(ctx: TestContext, tenantId: string, token: string, body: Body) {
  return ctx.request({
    method: 'POST',
    url: `/api/tenants/${tenantId}/restore-plans`,
    token,
    headers: { origin: ORIGIN },
    payload: body,
  })
}

export async function plan(ctx: TestContext, tenantId: string, token: string, body: Body): Promise<PlanBody> {
  const response = await createPlan(ctx, tenantId, token, body)
  if (response.statusCode !== 201) throw new Error(`plan not created: ${response.statusCode} ${response.body}`)
  return JSON.parse(response.body) as PlanBody
}

export async function execute(ctx: TestContext, tenantId: string, token: string, planId: string) {
  const response = await ctx.request({
    method: 'POST',
    url: `/api/tenants/${tenantId}/restore-plans/${planId}/execute`,
    token,
    headers: { origin: ORIGIN },
  })
  if (response.statusCode !== 202) throw new Error(`restore not started: ${response.statusCode} ${response.body}`)
  return (JSON.parse(response.body) as { run: { id: string } }).run
}

export async function executeAndWait(ctx: TestContext, tenantId: string, token: string, planId: string) {
  const run = await execute(ctx, tenantId, token, planId)
  return waitForCompletion(ctx, run.id, 180_000)
}

/** Server-set and service-computed values (counts, flags Graph derives), and ids: what a re-created object may not share. */
const IGNORED = new Set([
  'id',
  'createdDateTime',
  'lastModifiedDateTime',
  'modifiedDateTime',
  'version',
  'settingCount',
  'isAssigned',
  'deployedAppCount',
  'creationSource',
  'referencingConfigurationPolicyCount',
])

/** An object's content as compared with its restored copy. */
export function comparable(value: unknown): unknown {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip)
    if (typeof v !== 'object' || v === null) return v
    return Object.fromEntries(
      Object.entries(v)
        .filter(([k]) => !IGNORED.has(k))
        .map(([k, x]) => [k, strip(x)]),
    )
  }
  return normaliseValue(strip(value))
}
