import { and, eq, inArray } from 'drizzle-orm'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { bulkOperationItems, graphWrites, inventoryItems, type InventoryItemRow } from '../../src/db/schema.ts'
import { findPolicyType } from '../../src/graph/policy-types.ts'
import { truthWithContent } from '../bulk/emulator-truth.ts'
import { startBulk } from '../bulk/helpers.ts'
import { control } from '../graph/emulator-helpers.ts'
import type { TestContext } from '../harness.ts'
import { connectTenant, syncAndWait, waitForCompletion } from '../inventory/helpers.ts'
import { restoreContext } from '../restore/helpers.ts'

/**
 * Issue 21, item 2 for bulk: a bulk write's intent (item, action, step, content) outlives its
 * run (ADR 023). The same selection and action started again settles an earlier run's
 * unanswered sends before sending anything (with the audit log an hour late, by content), adopts
 * the copies an earlier duplicate made, and writes again only what Graph does not hold.
 * An earlier run's unanswered send is made here as a lost worker leaves it: its journal row put
 * back to `intended` (sent, never settled) and the inventory not mirrored.
 */

let env: Awaited<ReturnType<typeof restoreContext>>
let ctx: TestContext
let tenant: Awaited<ReturnType<typeof connectTenant>>

const HOUR = 3_600_000

beforeAll(async () => {
  env = await restoreContext()
  ctx = env.ctx
  tenant = await connectTenant(ctx, env.emulator, { policies: 40 })
  await syncAndWait(ctx, tenant.tenantId, tenant.token)
  await control(env.emulator, 'PUT', `/tenants/${tenant.entraTenantId}/faults`, { audit_delay_ms: HOUR })
})
afterAll(async () => env.close())
afterEach(async () => {
  await control(env.emulator, 'PUT', '/faults', { throttle_scale: 100 })
})

const used = new Set<string>()
let synced: InventoryItemRow[] | undefined
/** Policies of the first sync (not the copies the tests make), each used by one test. */
async function policies(n: number): Promise<InventoryItemRow[]> {
  synced ??= await ctx.db
    .select()
    .from(inventoryItems)
    .where(eq(inventoryItems.tenantId, tenant.tenantId))
    .orderBy(inventoryItems.policyType, inventoryItems.displayName)
  const rows = synced
  const fit = rows.filter((r) => {
    const entry = findPolicyType(r.policyType)
    return (
      !r.removedAt &&
      entry?.kind === 'policy' &&
      entry.assignments !== null &&
      r.policyType !== 'mobileApp' &&
      !JSON.stringify(r.payload).includes('****') &&
      !used.has(r.id)
    )
  })
  const out: InventoryItemRow[] = []
  const types = new Set<string>()
  // Different types first: each has its own write strategy.
  for (const r of fit) if (out.length < n && !types.has(r.policyType) && types.add(r.policyType)) out.push(r)
  for (const r of fit) if (out.length < n && !out.includes(r)) out.push(r)
  for (const r of out) used.add(r.id)
  return out
}

/** Audit events the app caused (ground truth, however late the log lists them), counted. */
const appWrites = () =>
  env.emulator
    .tenant(tenant.entraTenantId)!
    .audit.all()
    .filter((e) => (e.actor as { type?: string }).type === 'Application').length

/** A copy's writes: its create, and its assignments when the original has some. */
const writesOfACopy = (original: InventoryItemRow) => (original.assignments.length > 0 ? 2 : 1)

async function run(payload: Record<string, unknown>) {
  const done = await waitForCompletion(
    ctx,
    (await startBulk(ctx, tenant.tenantId, tenant.token, payload)).run.id,
    150_000,
  )
  const items = await ctx.db.select().from(bulkOperationItems).where(eq(bulkOperationItems.runId, done.id))
  expect(done.outcome, JSON.stringify([done.failures, items.map((i) => [i.state, i.result])])).toBe('succeeded')
  return { done, items }
}

/** As a worker lost after sending leaves it: the run's rows of these objects sent and never settled. */
async function unsettle(runId: string, where: (row: typeof graphWrites.$inferSelect) => boolean) {
  const rows = (await ctx.db.select().from(graphWrites).where(eq(graphWrites.runId, runId))).filter(where)
  expect(rows.length).toBeGreaterThan(0)
  await ctx.db
    .update(graphWrites)
    .set({ state: 'intended', confirmedAt: null })
    .where(
      inArray(
        graphWrites.id,
        rows.map((r) => r.id),
      ),
    )
  return rows
}

describe('bulk intents across runs', () => {
  it(
    'duplicate started again: an unanswered earlier create is settled (adopted, or sent once when it never landed), finished copies are adopted',
    { timeout: 300_000 },
    async () => {
      const originals = await policies(4)
      const payload = { action: 'duplicate', params: { name_suffix: ' (again)' }, item_ids: originals.map((o) => o.id) }
      const first = await run(payload)
      const copyOf = new Map(first.items.map((i) => [i.itemId, i.result?.new_id as string]))
      // Two of the first run's creates lose their answer and their worker; one of those never reached Graph.
      const [landed, lost] = originals
      const rows = await unsettle(
        first.done.id,
        (r) => r.operation === 'create' && [copyOf.get(landed!.id), copyOf.get(lost!.id)].includes(r.targetId!),
      )
      expect(rows).toHaveLength(2)
      await control(env.emulator, 'DELETE', `/tenants/${tenant.entraTenantId}/items/${copyOf.get(lost!.id)}`)

      const before = appWrites()
      const second = await run(payload)
      // One write: the copy that never landed. Everything else was settled or adopted without a send.
      expect(appWrites() - before).toBe(copyOf.size === 4 ? writesOfACopy(lost!) : -1)
      const how = new Map(second.items.map((i) => [i.itemId, i.result?.how]))
      expect(how.get(landed!.id)).toBe('reconciled')
      expect(how.get(lost!.id)).toBe('written')
      for (const o of originals.slice(2)) expect(how.get(o.id)).toBe('already')
      const truth = await truthWithContent(env.emulator, tenant.entraTenantId)
      for (const o of originals)
        expect(
          [...truth.values()].filter((t) => t.display_name === `${o.displayName} (again)`),
          o.displayName,
        ).toHaveLength(1)
      // The first run's rows say what happened to their sends, and gave their intents to the second run's rows.
      const settled = await ctx.db
        .select()
        .from(graphWrites)
        .where(
          inArray(
            graphWrites.id,
            rows.map((r) => r.id),
          ),
        )
      expect(
        settled.map((r) => [r.targetId === copyOf.get(lost!.id) ? 'lost' : 'landed', r.state, r.intent]).sort(),
      ).toEqual([
        ['landed', 'confirmed', null],
        ['lost', 'failed', null],
      ])
      const intents = (await ctx.db.select().from(graphWrites).where(eq(graphWrites.runId, second.done.id))).map(
        (r) => r.intent,
      )
      expect(intents.every((i) => i?.startsWith('bulk:'))).toBe(true)
      // The copies are in the inventory as the tenant holds them.
      const newIds = second.items.map((i) => i.result?.new_id as string)
      expect(new Set(newIds).size).toBe(4)
      const mirrored = await ctx.db
        .select()
        .from(inventoryItems)
        .where(and(eq(inventoryItems.tenantId, tenant.tenantId), inArray(inventoryItems.externalId, newIds)))
      expect(mirrored.filter((r) => r.removedAt === null)).toHaveLength(4)

      // Started a third time: every copy is there, nothing is written.
      const again = appWrites()
      const third = await run(payload)
      expect(appWrites() - again).toBe(0)
      expect(third.items.map((i) => i.result?.how)).toEqual(originals.map(() => 'already'))
      // Another content is another intent: another suffix makes new copies.
      const other = appWrites()
      await run({ ...payload, params: { name_suffix: ' (other)' } })
      expect(appWrites() - other).toBeGreaterThanOrEqual(4)
    },
  )

  it(
    'rename and delete started again: the earlier unanswered send is found applied by content, mirrored, not sent again',
    { timeout: 300_000 },
    async () => {
      const [renamed, deleted] = await policies(2)
      const rename = { action: 'rename', params: { prefix: 'Again - ' }, item_ids: [renamed!.id] }
      const first = await run(rename)
      await unsettle(first.done.id, () => true)
      // The lost worker never mirrored the new name.
      await ctx.db
        .update(inventoryItems)
        .set({ displayName: renamed!.displayName, payload: renamed!.payload, contentHash: renamed!.contentHash })
        .where(eq(inventoryItems.id, renamed!.id))
      const remove = { action: 'delete', params: { confirm_count: 1 }, item_ids: [deleted!.id] }
      const gone = await run(remove)
      await unsettle(gone.done.id, () => true)
      await ctx.db.update(inventoryItems).set({ removedAt: null }).where(eq(inventoryItems.id, deleted!.id))

      const before = appWrites()
      const second = await run(rename)
      const third = await run(remove)
      expect(appWrites() - before, 'nothing sent again').toBe(0)
      expect(second.items[0]!.state).toBe('succeeded')
      expect(second.items[0]!.result?.how).toBe('reconciled')
      expect(third.items[0]!.state).toBe('succeeded')
      expect(third.items[0]!.result?.how).toBe('reconciled')
      // The inventory says what the tenant holds: the new name, the deleted object removed.
      const [name] = await ctx.db.select().from(inventoryItems).where(eq(inventoryItems.id, renamed!.id))
      expect(name!.displayName).toBe(`Again - ${renamed!.displayName}`)
      const [removed] = await ctx.db.select().from(inventoryItems).where(eq(inventoryItems.id, deleted!.id))
      expect(removed!.removedAt).not.toBeNull()
      // The earlier rows are settled: confirmed (the sends had landed), their intents passed on.
      const earlier = await ctx.db
        .select()
        .from(graphWrites)
        .where(inArray(graphWrites.runId, [first.done.id, gone.done.id]))
      expect(earlier.map((r) => [r.state, r.intent])).toEqual([
        ['confirmed', null],
        ['confirmed', null],
      ])

      // Renamed back by someone in Intune (and synced), the same rename again is written again: Graph no longer holds it.
      await control(env.emulator, 'PATCH', `/tenants/${tenant.entraTenantId}/items/${renamed!.externalId}`, {
        displayName: renamed!.displayName,
      })
      await syncAndWait(ctx, tenant.tenantId, tenant.token)
      const back = appWrites()
      const fourth = await run(rename)
      expect(appWrites() - back).toBe(1)
      expect(fourth.items[0]!.result?.how).toBe('written')
      const truth = await truthWithContent(env.emulator, tenant.entraTenantId)
      expect(truth.get(renamed!.externalId)!.display_name).toBe(`Again - ${renamed!.displayName}`)
    },
  )
})
