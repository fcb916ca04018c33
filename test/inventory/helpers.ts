import { randomUUID } from 'node:crypto'
import { and, eq, sql } from 'drizzle-orm'
import { inventoryItems, operationRuns, type OperationRunRow } from '../../src/db/schema.ts'
import type { EmulatorServer } from '../../src/emulator/server.ts'
import { GraphClient } from '../../src/graph/graph-client.ts'
import { BudgetRegistry } from '../../src/graph/throttle-budget.ts'
import { createMsalTokenProvider } from '../../src/graph/token-provider.ts'
import { addTenant } from '../../src/modules/tenants/add-tenant.ts'
import { control, createTenant, inventory, startEmulator } from '../graph/emulator-helpers.ts'
import { createTestContext, ORIGIN, type TestContext } from '../harness.ts'
import { waitFor } from '../operations/helpers.ts'

/**
 * End to end: the app on a fresh database, its worker reading an emulator over HTTP. The
 * Graph client retries quickly and often (the emulator's faults are random, not rate-based).
 */
export async function inventoryContext(
  options: { retry?: { maxAttempts: number; baseDelayMs: number }; emulator?: EmulatorServer; worker?: boolean } = {},
) {
  const own = options.emulator === undefined
  const emulator = options.emulator ?? (await startEmulator({ port: 0, host: '127.0.0.1' }))
  const graph = new GraphClient({
    tokens: createMsalTokenProvider(),
    budgets: new BudgetRegistry(),
    retry: options.retry ?? { maxAttempts: 6, baseDelayMs: 20 },
  })
  const ctx = await createTestContext({ emulatorUrl: emulator.url, graph, worker: options.worker })
  return { ctx, emulator, graph, close: async () => Promise.all([ctx.close(), own ? emulator.close() : undefined]) }
}

/** An emulated tenant connected to the app, with an owner who has an API token. */
export async function connectTenant(ctx: TestContext, emulator: EmulatorServer, body: Record<string, unknown> = {}) {
  const { tenant: emulated, secret } = await createTenant(emulator, { policies: 120, client_id: randomUUID(), ...body })
  const tenant = await addTenant(
    ctx.db,
    ctx.secrets,
    { kind: 'system' },
    {
      name: `Emulated ${emulated.tenant_id.slice(0, 8)}`,
      entra_tenant_id: emulated.tenant_id,
      client_id: emulated.client_id,
      client_secret: secret,
      cloud: 'emulator',
    },
  )
  const { user, token } = await ctx.factories.userWithToken()
  await ctx.factories.member(tenant.id, user, 'owner')
  return { tenantId: tenant.id, entraTenantId: emulated.tenant_id, owner: user, token, emulated, secret }
}

export async function startSync(ctx: TestContext, tenantId: string, token: string, selection?: unknown) {
  const response = await ctx.request({
    method: 'POST',
    url: `/api/tenants/${tenantId}/inventory-sync`,
    token,
    headers: { origin: ORIGIN },
    ...(selection === undefined ? {} : { payload: selection as Record<string, unknown> }),
  })
  if (response.statusCode !== 202) throw new Error(`sync not started: ${response.statusCode} ${response.body}`)
  return JSON.parse(response.body) as {
    run: { id: string; status: string; summary_counts: Record<string, number> }
    deduplicated: boolean
  }
}

export async function waitForCompletion(ctx: TestContext, runId: string, timeoutMs = 90_000): Promise<OperationRunRow> {
  return waitFor(
    async () => {
      const [run] = await ctx.db.select().from(operationRuns).where(eq(operationRuns.id, runId))
      return run?.status === 'completed' ? run : undefined
    },
    `run ${runId} to complete`,
    timeoutMs,
  )
}

export async function syncAndWait(ctx: TestContext, tenantId: string, token: string, selection?: unknown) {
  const { run } = await startSync(ctx, tenantId, token, selection)
  return waitForCompletion(ctx, run.id)
}

/** The stored, present items as `type → sorted ids` (the shape the ground truth is compared in). */
export async function storedByType(ctx: TestContext, tenantId: string) {
  const rows = await ctx.db
    .select({ type: inventoryItems.policyType, id: inventoryItems.externalId, name: inventoryItems.displayName })
    .from(inventoryItems)
    .where(and(eq(inventoryItems.tenantId, tenantId), sql`${inventoryItems.removedAt} IS NULL`))
  return groupByType(rows)
}

export async function truthByType(emulator: EmulatorServer, entraTenantId: string) {
  return groupByType(
    (await inventory(emulator, entraTenantId)).map((o) => ({ type: o.type, id: o.id, name: o.display_name })),
  )
}

function groupByType(rows: readonly { type: string; id: string; name: string }[]) {
  const out: Record<string, string[]> = {}
  for (const r of rows) (out[r.type] ??= []).push(`${r.id} ${r.name}`)
  for (const list of Object.values(out)) list.sort()
  return out
}

/** Every stored row's (id, version, xmin): equal before and after means not one row was written. */
export async function rowVersions(ctx: TestContext, tenantId: string) {
  const { rows } = await ctx.db.execute<{ id: string; version: number; xmin: string }>(
    sql`SELECT id, version, xmin::text AS xmin FROM inventory_items WHERE tenant_id = ${tenantId} ORDER BY id`,
  )
  return rows
}

export { control }
