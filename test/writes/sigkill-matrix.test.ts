import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bulkOperationItems, graphWrites, type InventoryItemRow, type OperationRunRow } from '../../src/db/schema.ts'
import { getPolicyType } from '../../src/graph/policy-types.ts'
import { notWritableReason } from '../../src/graph/writes/strategies.ts'
import type { Operations } from '../../src/jobs/runtime.ts'
import { unsupportedReason } from '../../src/modules/bulk/actions.ts'
import { targetKey, truthWithContent } from '../bulk/emulator-truth.ts'
import { addScopeTag, leastAssignedGroup, startBulk } from '../bulk/helpers.ts'
import { errorOf, ORIGIN, type TestContext } from '../harness.ts'
import { connectTenant, syncAndWait, waitForCompletion } from '../inventory/helpers.ts'
import { shippedWorker } from '../operations/helpers.ts'
import { execute, restoreContext } from '../restore/helpers.ts'
import { killWorkerMidRun, randomPoint } from '../worker-crash.ts'
import { delta, matrixHelpers, touchedBesides } from './matrix.ts'

/**
 * The fault matrix's SIGKILL column (issue 21): each of the seven bulk actions, and Undo, run on a
 * worker in its own process that is SIGKILLed at a random point of the run's writes (after the
 * k-th journal row, k random), then recovered by the reaper and a worker here. Each cell: every
 * intended change exactly once in the emulator's ground truth, nothing else touched, the
 * inventory equal to the tenant for the run's objects, one notification. Restore's cells:
 * restore-matrix.test.ts.
 */

let env: Awaited<ReturnType<typeof restoreContext>>
let ctx: TestContext
let tenant: Awaited<ReturnType<typeof connectTenant>>
let worker: Operations | undefined
let group: string
let tag: string

const { policies, writesOf, expectInventoryIsTenant, oneNotification } = matrixHelpers(() => ({
  ctx,
  emulator: env.emulator,
  tenant,
}))

beforeAll(async () => {
  env = await restoreContext({ worker: false })
  ctx = env.ctx
  tenant = await connectTenant(ctx, env.emulator, { policies: 60 })
  tag = await addScopeTag(env.emulator, tenant.entraTenantId, 'Kill tag')
  worker = await shippedWorker(env)
  await syncAndWait(ctx, tenant.tenantId, tenant.token)
  group = await leastAssignedGroup(ctx, tenant.tenantId)
})
afterAll(async () => {
  await worker?.stop()
  await env.close()
})

const N = 4
/** Slow enough that the kill lands before the run ends, whichever write it follows. */
const SLOW = { throttle_scale: 100, latency_ms: 250 }
const journalRows = async (runId: string) =>
  (await ctx.db.select({ id: graphWrites.id }).from(graphWrites).where(eq(graphWrites.runId, runId))).length

/** Starts the run on a child worker, SIGKILLs it after a random journal row, and waits for the recovered run. */
async function killed(start: () => Promise<string>, what: string, writes: number): Promise<OperationRunRow> {
  await worker?.stop()
  worker = undefined
  const crash = await killWorkerMidRun(env, {
    start,
    reached: journalRows,
    at: randomPoint(writes),
    what,
    faults: SLOW,
    recoveryFaults: { throttle_scale: 100 },
  })
  worker = crash.worker
  const done = await waitForCompletion(ctx, crash.runId, 180_000)
  expect(done, `${what}: ${JSON.stringify(done.failures)} (killed after journal row ${crash.killedAt})`).toMatchObject({
    outcome: 'succeeded',
    attempt: 2,
  })
  return done
}

const bulk = (action: string, params: Record<string, unknown>, picked: readonly InventoryItemRow[]) => () =>
  startBulk(ctx, tenant.tenantId, tenant.token, { action, params, item_ids: picked.map((p) => p.id) }).then(
    (r) => r.run.id,
  )

const used = new Set<string>()
const picks = new Map<string, InventoryItemRow[]>()

describe('fault matrix: SIGKILL of the worker at a random write, then recovery', () => {
  // [action, params, the cell whose items it acts on (unassign and remove what assign and add_scope_tag added)]
  const cells: [string, () => Record<string, unknown>, string | null][] = [
    ['assign', () => ({ group_id: group, intent: 'include' }), null],
    ['add_scope_tag', () => ({ scope_tag_id: tag }), null],
    ['rename', () => ({ find: ' ', replace: '_' }), null],
    ['unassign', () => ({ group_id: group }), 'assign'],
    ['remove_scope_tag', () => ({ scope_tag_id: tag }), 'add_scope_tag'],
  ]
  for (const [action, params, on] of cells) {
    it(
      `${action}: every item changed once, the inventory equals the tenant, one notification`,
      { timeout: 300_000 },
      async () => {
        const picked = on ? picks.get(on)! : await policies(N, used, group)
        expect(picked).toHaveLength(N)
        picks.set(action, picked)
        const ids = picked.map((p) => p.externalId)
        const before = await writesOf()
        const done = await killed(bulk(action, params(), picked), `bulk ${action}`, N)
        const after = await writesOf()
        const truth = await truthWithContent(env.emulator, tenant.entraTenantId)
        for (const p of picked) {
          expect(delta(after, before, p.externalId), `${p.policyType} ${p.displayName} written once`).toBe(1)
          const now = truth.get(p.externalId)!
          const targets = (now.content.assignments ?? []).map(targetKey).filter((t) => t.includes(group))
          if (action === 'assign') expect(targets).toHaveLength(1)
          if (action === 'unassign') expect(targets).toEqual([])
          if (action === 'add_scope_tag') expect(now.content.roleScopeTagIds).toContain(tag)
          if (action === 'remove_scope_tag') expect(now.content.roleScopeTagIds ?? []).not.toContain(tag)
          if (action === 'rename') expect(now.display_name).toBe(p.displayName.replaceAll(' ', '_'))
        }
        expect(touchedBesides(after, before, ids), 'nothing else touched').toEqual([])
        await expectInventoryIsTenant(ids, truth)
        await oneNotification(done.id)
      },
    )
  }

  let originals: InventoryItemRow[] = []
  let deleted: OperationRunRow

  it(
    'duplicate: one copy of each original, originals untouched, copies in the inventory',
    { timeout: 300_000 },
    async () => {
      // Objects bulk duplicate copies (an endpoint security template, say, is skipped as unsupported).
      originals = (await policies(N + 6, used, group))
        .filter(
          (p) =>
            !notWritableReason(getPolicyType(p.policyType), p.payload) &&
            !unsupportedReason('duplicate', getPolicyType(p.policyType)),
        )
        .slice(0, N)
      expect(originals).toHaveLength(N)
      const before = await writesOf()
      const done = await killed(bulk('duplicate', { name_suffix: ' (kill)' }, originals), 'bulk duplicate', N)
      const after = await writesOf()
      const truth = await truthWithContent(env.emulator, tenant.entraTenantId)
      for (const p of originals) {
        expect(
          [...truth.values()].filter((o) => o.display_name === `${p.displayName} (kill)`),
          p.displayName,
        ).toHaveLength(1)
        expect(delta(after, before, p.externalId), 'the original untouched').toBe(0)
      }
      const copies = (await ctx.db.select().from(bulkOperationItems).where(eq(bulkOperationItems.runId, done.id))).map(
        (i) => i.result?.new_id as string,
      )
      expect(new Set(copies).size).toBe(N)
      expect(touchedBesides(after, before, copies), 'nothing but the copies written').toEqual([])
      await expectInventoryIsTenant(copies, truth)
      await oneNotification(done.id)
    },
  )

  it('delete: each original deleted once, marked removed', { timeout: 300_000 }, async () => {
    const ids = originals.map((p) => p.externalId)
    const before = await writesOf()
    deleted = await killed(bulk('delete', { confirm_count: N }, originals), 'bulk delete', N)
    const after = await writesOf()
    const truth = await truthWithContent(env.emulator, tenant.entraTenantId)
    for (const p of originals) {
      expect(truth.has(p.externalId), p.displayName).toBe(false)
      expect(delta(after, before, p.externalId), 'deleted once').toBe(1)
    }
    expect(touchedBesides(after, before, ids)).toEqual([])
    await expectInventoryIsTenant(ids, truth)
    await oneNotification(deleted.id)
  })

  it('Undo of the delete: each original re-created once, in the inventory', { timeout: 300_000 }, async () => {
    const undo = await ctx.request({
      method: 'POST',
      url: `/api/tenants/${tenant.tenantId}/bulk-operations/${deleted.id}/undo`,
      token: tenant.token,
      headers: { origin: ORIGIN },
    })
    expect(undo.statusCode, undo.body).toBe(201)
    const plan = JSON.parse(undo.body) as { id: string; items: { action: string }[] }
    expect(plan.items.map((i) => i.action)).toEqual(originals.map(() => 'create'))
    const before = await writesOf()
    const done = await killed(
      async () => (await execute(ctx, tenant.tenantId, tenant.token, plan.id)).id,
      'the Undo restore',
      N,
    )
    const after = await writesOf()
    const truth = await truthWithContent(env.emulator, tenant.entraTenantId)
    const recreated = originals.map((p) => {
      const same = [...truth.values()].filter((o) => o.type === p.policyType && o.display_name === p.displayName)
      expect(same, p.displayName).toHaveLength(1)
      return same[0]!.id
    })
    // Each re-created object written by this run only (its create, and its assignments): nothing else.
    expect(touchedBesides(after, before, recreated)).toEqual([])
    await expectInventoryIsTenant(recreated, truth)
    await oneNotification(done.id)
    // The Undo's plan again: refused, naming the recovered run.
    const again = await ctx.request({
      method: 'POST',
      url: `/api/tenants/${tenant.tenantId}/restore-plans/${plan.id}/execute`,
      token: tenant.token,
      headers: { origin: ORIGIN },
    })
    expect(again.statusCode).toBe(409)
    expect(errorOf(again.body)).toMatchObject({ code: 'plan_executed', details: { run_id: done.id } })
  })
})
