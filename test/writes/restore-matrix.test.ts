import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { graphWrites, inventoryItems, type OperationRunRow } from '../../src/db/schema.ts'
import { getPolicyType } from '../../src/graph/policy-types.ts'
import { notWritableReason } from '../../src/graph/writes/strategies.ts'
import type { Operations } from '../../src/jobs/runtime.ts'
import { backupAndWait } from '../backups/helpers.ts'
import { targetKey, truthWithContent } from '../bulk/emulator-truth.ts'
import { control } from '../graph/emulator-helpers.ts'
import { errorOf, ORIGIN, type TestContext } from '../harness.ts'
import { connectTenant, syncAndWait, waitForCompletion } from '../inventory/helpers.ts'
import { shippedWorker } from '../operations/helpers.ts'
import { contents, execute, plan, restoreContext, type ContentObject } from '../restore/helpers.ts'
import { killWorkerMidRun, randomPoint } from '../worker-crash.ts'
import { matrixHelpers } from './matrix.ts'

/**
 * The fault matrix's restore cells (issue 21): a restore that creates (objects deleted since the
 * backup), updates (a renamed object), assigns (an object whose assignments were removed) and
 * PATCHes the tenant settings singleton, × {30 % of the answers lost with the audit log an hour
 * late; the worker SIGKILLed at a random write, then recovered}, each followed by the same plan
 * executed again (409 naming the run, nothing written). Each cell: every journaled write applied
 * exactly once in the emulator's ground truth, nothing else touched, the inventory equal to the
 * tenant for the restored objects, one notification. Delete through Undo: fault-matrix.test.ts
 * (lost answers, executed again) and sigkill-matrix.test.ts (SIGKILL).
 */

let env: Awaited<ReturnType<typeof restoreContext>>
let ctx: TestContext
let tenant: Awaited<ReturnType<typeof connectTenant>>
let worker: Operations | undefined
let backupId: string
let originals: ContentObject[]

const { expectInventoryIsTenant, oneNotification, underFaults } = matrixHelpers(() => ({
  ctx,
  emulator: env.emulator,
  tenant,
}))

beforeAll(async () => {
  env = await restoreContext({ worker: false })
  ctx = env.ctx
  tenant = await connectTenant(ctx, env.emulator, { policies: 60 })
  worker = await shippedWorker(env)
  await syncAndWait(ctx, tenant.tenantId, tenant.token)
  backupId = (await backupAndWait(ctx, tenant.tenantId, tenant.token)).backup.id
  originals = await contents(env.emulator, tenant.entraTenantId)
})
afterAll(async () => {
  await worker?.stop()
  await env.close()
})

const CREATABLE = ['deviceConfiguration', 'deviceCompliancePolicy', 'settingsCatalogPolicy', 'deviceManagementScript']
const SETTINGS = 'deviceManagementSettings'
const used = new Set<string>()
const fit = (o: ContentObject) =>
  !used.has(o.id) && !JSON.stringify(o.content).includes('****') && !notWritableReason(getPolicyType(o.type), o.content)

type Broken = { victims: ContentObject[]; renamed: ContentObject; unassigned: ContentObject; days: number }

/** Changes the tenant since the backup: two objects deleted, one renamed, one's assignments removed, the settings changed. */
async function breakTenant(): Promise<Broken> {
  const path = (id: string) => `/tenants/${tenant.entraTenantId}/items/${id}`
  const victims = CREATABLE.map((type) => originals.find((o) => o.type === type && fit(o)))
    .filter((o) => o !== undefined)
    .slice(0, 2)
  for (const v of victims) used.add(v.id)
  const policies = originals.filter((o) => getPolicyType(o.type).kind === 'policy' && fit(o))
  const renamed = policies.find((o) => CREATABLE.includes(o.type))!
  used.add(renamed.id)
  const unassigned = policies.find(
    (o) => o.id !== renamed.id && ((o.content.assignments as unknown[]) ?? []).length > 0,
  )!
  used.add(unassigned.id)
  for (const v of victims) expect((await control(env.emulator, 'DELETE', path(v.id))).status).toBe(204)
  const name = getPolicyType(renamed.type).nameProperty
  expect(
    (await control(env.emulator, 'PATCH', path(renamed.id), { [name]: `${renamed.display_name} (changed)` })).status,
  ).toBe(200)
  expect((await control(env.emulator, 'PATCH', path(unassigned.id), { assignments: [] })).status).toBe(200)
  const settings = originals.find((o) => o.type === SETTINGS)!
  const days = Number(settings.content.deviceComplianceCheckinThresholdDays)
  const other = days === 30 ? 31 : 30
  expect(
    (await control(env.emulator, 'PATCH', path(settings.id), { deviceComplianceCheckinThresholdDays: other })).status,
  ).toBe(200)
  await syncAndWait(ctx, tenant.tenantId, tenant.token)
  return { victims, renamed, unassigned, days }
}

const appEvents = () =>
  env.emulator
    .tenant(tenant.entraTenantId)!
    .audit.all()
    .filter((e) => (e.actor as { type?: string }).type === 'Application')
const resourceOf = (e: { resources?: unknown }) =>
  String((e.resources as { resourceId?: string }[] | undefined)?.[0]?.resourceId)

/** The plan, the run, then every check of a cell and the same plan executed again. */
async function cell(run: (planId: string) => Promise<OperationRunRow>) {
  const broken = await breakTenant()
  const p = await plan(ctx, tenant.tenantId, tenant.token, { backup_id: backupId })
  expect(p.counts.create, 'the deleted objects are creates').toBe(broken.victims.length)
  expect(
    p.items
      .filter((i) => i.action === 'update')
      .map((i) => i.policy_type)
      .sort(),
    'the renamed, the unassigned and the settings are updates',
  ).toEqual([broken.renamed.type, broken.unassigned.type, SETTINGS].sort())
  const before = appEvents().length
  const done = await run(p.id)
  expect(done.outcome, JSON.stringify(done.failures)).toBe('succeeded')

  // Exactly once: every event of the ground truth is one journaled write of the run, none twice. A
  // write killed before its send whose content Graph already holds (a PATCH the content check
  // finds applied, say) is settled without a send: at most one event per journaled write.
  const writes = await ctx.db.select().from(graphWrites).where(eq(graphWrites.runId, done.id))
  expect(writes.filter((w) => w.state !== 'confirmed')).toEqual([])
  const events = appEvents().slice(before)
  expect(events.length, 'at most one event per journaled write').toBeLessThanOrEqual(writes.length)
  // Every event names an object the run's journal wrote (the settings singleton's event may name it otherwise).
  const written = new Set(writes.map((w) => w.targetId))
  expect(
    events.filter((e) => !written.has(resourceOf(e))).length,
    'every event is a journaled write of the run',
  ).toBeLessThanOrEqual(writes.filter((w) => w.policyType === SETTINGS).length)
  const perWrite = new Map<string, number>()
  for (const e of events)
    perWrite.set(
      `${String(e.activity)}:${resourceOf(e)}`,
      (perWrite.get(`${String(e.activity)}:${resourceOf(e)}`) ?? 0) + 1,
    )
  expect(
    [...perWrite].filter(([, n]) => n > 1),
    'no write applied twice',
  ).toEqual([])

  // Every intended change made, nothing else touched.
  const truth = await truthWithContent(env.emulator, tenant.entraTenantId)
  const created = broken.victims.map((v) => {
    const now = [...truth.values()].filter((o) => o.type === v.type && o.display_name === v.display_name)
    expect(now, `${v.type} ${v.display_name} re-created once`).toHaveLength(1)
    return now[0]!.id
  })
  expect(truth.get(broken.renamed.id)!.display_name).toBe(broken.renamed.display_name)
  expect((truth.get(broken.unassigned.id)!.content.assignments ?? []).map(targetKey).sort()).toEqual(
    ((broken.unassigned.content.assignments as Record<string, unknown>[]) ?? []).map(targetKey).sort(),
  )
  const settings = [...truth.values()].find((o) => o.type === SETTINGS)!
  expect(settings.content.deviceComplianceCheckinThresholdDays).toBe(broken.days)
  const expected = new Set([...created, broken.renamed.id, broken.unassigned.id])
  expect(
    writes.filter((w) => w.policyType !== SETTINGS && !expected.has(w.targetId!)).map((w) => w.path),
    "only the plan's objects written",
  ).toEqual([])
  expect(writes.filter((w) => w.policyType === SETTINGS)).toHaveLength(1)

  // The inventory says what the tenant holds for the restored objects, the settings included.
  await expectInventoryIsTenant([...expected], truth)
  const [stored] = await ctx.db
    .select()
    .from(inventoryItems)
    .where(eq(inventoryItems.tenantId, tenant.tenantId))
    .then((rows) => rows.filter((r) => r.policyType === SETTINGS))
  expect(stored!.payload.deviceComplianceCheckinThresholdDays).toBe(broken.days)
  await oneNotification(done.id)

  // The same plan again: refused, naming the run; nothing written.
  const again = await ctx.request({
    method: 'POST',
    url: `/api/tenants/${tenant.tenantId}/restore-plans/${p.id}/execute`,
    token: tenant.token,
    headers: { origin: ORIGIN },
  })
  expect(again.statusCode).toBe(409)
  expect(errorOf(again.body)).toMatchObject({ code: 'plan_executed', details: { run_id: done.id } })
  expect(appEvents().length).toBe(before + events.length)
}

describe('fault matrix: restore (create, update, assign, the settings PATCH)', () => {
  it(
    'with 30 % of the answers lost and the audit log an hour late, then the same plan again',
    { timeout: 300_000 },
    async () => {
      await cell(async (planId) =>
        underFaults(async () => {
          try {
            return await waitForCompletion(ctx, (await execute(ctx, tenant.tenantId, tenant.token, planId)).id, 180_000)
          } finally {
            await control(env.emulator, 'PUT', `/tenants/${tenant.entraTenantId}/faults`, { audit_delay_ms: 0 })
          }
        }),
      )
    },
  )

  it(
    'with the worker SIGKILLed at a random write, then recovered, then the same plan again',
    { timeout: 300_000 },
    async () => {
      await cell(async (planId) => {
        await worker?.stop()
        worker = undefined
        const crash = await killWorkerMidRun(env, {
          start: async () => (await execute(ctx, tenant.tenantId, tenant.token, planId)).id,
          reached: async (id) =>
            (await ctx.db.select({ id: graphWrites.id }).from(graphWrites).where(eq(graphWrites.runId, id))).length,
          at: randomPoint(5),
          what: 'the child to journal restore writes',
          faults: { throttle_scale: 100, latency_ms: 250 },
          recoveryFaults: { throttle_scale: 100 },
        })
        worker = crash.worker
        const done = await waitForCompletion(ctx, crash.runId, 180_000)
        expect(done.attempt).toBe(2)
        return done
      })
    },
  )
})
