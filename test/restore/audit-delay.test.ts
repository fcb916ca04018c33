import { and, eq } from 'drizzle-orm'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { graphWrites, notifications, operationRunItems } from '../../src/db/schema.ts'
import { getPolicyType } from '../../src/graph/policy-types.ts'
import { notWritableReason } from '../../src/graph/writes/strategies.ts'
import type { Operations } from '../../src/jobs/runtime.ts'
import { backupAndWait } from '../backups/helpers.ts'
import { control } from '../graph/emulator-helpers.ts'
import type { TestContext } from '../harness.ts'
import { connectTenant, syncAndWait, waitForCompletion } from '../inventory/helpers.ts'
import { shippedWorker } from '../operations/helpers.ts'
import { killWorkerMidRun } from '../worker-crash.ts'
import { contents, execute, plan, restoreContext, type Body, type ContentObject } from './helpers.ts'

/**
 * Exactly once when Intune's audit log lags (ADR 019): with `audit_delay_ms` no write's audit
 * event is listed during the run, so a lost answer is reconciled from Graph's objects alone.
 */

let env: Awaited<ReturnType<typeof restoreContext>>
let ctx: TestContext
let worker: Operations | undefined

beforeAll(async () => {
  env = await restoreContext({ worker: false })
  ctx = env.ctx
})
afterAll(async () => {
  await worker?.stop()
  await env.close()
})
afterEach(async () => {
  await control(env.emulator, 'PUT', '/faults', { throttle_scale: 100 })
})

const startWorker = () => shippedWorker(env)

const HOUR = 3_600_000
const FOUNDATIONS = new Set(['roleScopeTag', 'assignmentFilter', 'notificationMessageTemplate'])
const hasSecret = (o: ContentObject) => JSON.stringify(o.content).includes('****')

/** Deletes one object of every type (singletons aside) and renames another (its assignments cleared): creates, updates, assigns. */
async function breakTenant(entraTenantId: string, originals: ContentObject[]) {
  const deleted: ContentObject[] = []
  const everything = JSON.stringify(originals.map((o) => o.content))
  const byType = new Map<string, ContentObject[]>()
  for (const o of originals) if (o.type !== 'group') byType.set(o.type, [...(byType.get(o.type) ?? []), o])
  for (const [type, list] of byType) {
    const entry = getPolicyType(type)
    // Singletons are left alone (Graph takes only GET and PATCH there).
    if (entry.singleton) continue
    const victim = list.find(
      (o) => !hasSecret(o) && (!FOUNDATIONS.has(type) || everything.split(`"${o.id}"`).length === 2),
    )
    if (victim) {
      expect((await control(env.emulator, 'DELETE', `/tenants/${entraTenantId}/items/${victim.id}`)).status).toBe(204)
      if (!notWritableReason(entry, victim.content)) deleted.push(victim)
    }
    const other = list.find((o) => o.id !== victim?.id)
    if (other) {
      const patch: Body = { [entry.nameProperty]: `${other.display_name} (changed)` }
      if (entry.assignments !== null) patch.assignments = []
      expect((await control(env.emulator, 'PATCH', `/tenants/${entraTenantId}/items/${other.id}`, patch)).status).toBe(
        200,
      )
    }
  }
  return deleted
}

/** The emulator's ground truth of the app's writes (every event, whatever the delay): one per journaled write, each created object once. */
function expectWrittenOnce(
  entraTenantId: string,
  writes: { operation: string; targetId: string | null }[],
  victims: ContentObject[],
  now: ContentObject[],
  originals: ContentObject[],
) {
  const events = env.emulator
    .tenant(entraTenantId)!
    .audit.all()
    .filter((e) => (e.actor as { type?: string }).type === 'Application')
  expect(events.length).toBe(writes.length)
  const creates = events.filter((e) => e.activityOperationType === 'Create')
  expect(creates.length).toBe(writes.filter((w) => w.operation === 'create').length)
  // Each journaled write of an object is in the log once: no write was applied twice.
  const perWrite = new Map<string, number>()
  for (const e of events) {
    const key = `${String(e.activity)}:${String((e.resources as { resourceId?: string }[])[0]?.resourceId)}`
    perWrite.set(key, (perWrite.get(key) ?? 0) + 1)
  }
  expect(
    [...perWrite.values()].every((n) => n === 1),
    JSON.stringify([...perWrite].filter(([, n]) => n > 1)),
  ).toBe(true)
  const originalIds = new Set(originals.map((o) => o.id))
  for (const v of victims)
    expect(
      now.filter((n) => n.type === v.type && !originalIds.has(n.id) && n.display_name === v.display_name).length,
      `${v.type} ${v.display_name}`,
    ).toBe(1)
}

describe('exactly once while the audit log lags', () => {
  it(
    'a whole backup restored with 30 % of the answers lost and no audit event visible: every object written once, no duplicate, one notification',
    { timeout: 300_000 },
    async () => {
      worker = await startWorker()
      const tenant = await connectTenant(ctx, env.emulator, { policies: 60 })
      await syncAndWait(ctx, tenant.tenantId, tenant.token)
      const { backup } = await backupAndWait(ctx, tenant.tenantId, tenant.token)
      const originals = (await contents(env.emulator, tenant.entraTenantId)).filter((o) => o.type !== 'group')
      const victims = await breakTenant(tenant.entraTenantId, originals)
      await syncAndWait(ctx, tenant.tenantId, tenant.token)
      const p = await plan(ctx, tenant.tenantId, tenant.token, { backup_id: backup.id })
      expect(p.counts.create).toBeGreaterThanOrEqual(victims.length)
      expect(p.counts.update).toBeGreaterThan(0)

      expect(
        (await control(env.emulator, 'PUT', `/tenants/${tenant.entraTenantId}/faults`, { audit_delay_ms: HOUR })).body,
      ).toEqual({ audit_delay_ms: HOUR })
      await control(env.emulator, 'PUT', '/faults', { throttle_scale: 100, drop_response_rate: 0.3 })
      try {
        const run = await execute(ctx, tenant.tenantId, tenant.token, p.id)
        const done = await waitForCompletion(ctx, run.id, 240_000)
        // Nothing of the run was listed by the audit log while it ran.
        expect(env.emulator.tenant(tenant.entraTenantId)!.audit.query(null, null)).toHaveLength(0)
        await control(env.emulator, 'PUT', '/faults', { throttle_scale: 100 })
        const items = await ctx.db.select().from(operationRunItems).where(eq(operationRunItems.runId, run.id))
        expect(items.filter((i) => i.status === 'failed')).toEqual([])
        expect(done.outcome).toBe('succeeded')
        const writes = await ctx.db.select().from(graphWrites).where(eq(graphWrites.runId, run.id))
        expect(writes.filter((w) => w.state !== 'confirmed')).toEqual([])
        // Lost answers happened and were settled without the audit log.
        expect(writes.some((w) => w.attempts > 1 || w.updatedAt.getTime() > w.createdAt.getTime())).toBe(true)
        expect(await ctx.db.select().from(notifications).where(eq(notifications.runId, run.id))).toHaveLength(1)
        expectWrittenOnce(
          tenant.entraTenantId,
          writes,
          victims,
          await contents(env.emulator, tenant.entraTenantId),
          originals,
        )
      } finally {
        await control(env.emulator, 'PUT', `/tenants/${tenant.entraTenantId}/faults`, { audit_delay_ms: 0 })
        await worker.stop()
        worker = undefined
      }
    },
  )

  it(
    'a worker SIGKILLed mid-restore with lost answers and no audit event visible: re-queued, every object written once, one notification',
    { timeout: 300_000 },
    async () => {
      worker = await startWorker()
      const tenant = await connectTenant(ctx, env.emulator, { policies: 60 })
      await syncAndWait(ctx, tenant.tenantId, tenant.token)
      const { backup } = await backupAndWait(ctx, tenant.tenantId, tenant.token)
      const originals = (await contents(env.emulator, tenant.entraTenantId)).filter(
        (o) => o.type !== 'group' && !hasSecret(o),
      )
      const victims = originals.filter(
        (o) =>
          [
            'deviceConfiguration',
            'deviceCompliancePolicy',
            'settingsCatalogPolicy',
            'groupPolicyConfiguration',
            'deviceManagementScript',
          ].includes(o.type) && !notWritableReason(getPolicyType(o.type), o.content),
      )
      for (const v of victims) await control(env.emulator, 'DELETE', `/tenants/${tenant.entraTenantId}/items/${v.id}`)
      await syncAndWait(ctx, tenant.tenantId, tenant.token)
      const p = await plan(ctx, tenant.tenantId, tenant.token, { backup_id: backup.id })
      expect(p.counts.create).toBe(victims.length)
      await worker.stop()
      worker = undefined

      await control(env.emulator, 'PUT', `/tenants/${tenant.entraTenantId}/faults`, { audit_delay_ms: HOUR })
      const faults = { throttle_scale: 100, latency_ms: 60, drop_response_rate: 0.3 }
      const crash = await killWorkerMidRun(env, {
        start: async () => (await execute(ctx, tenant.tenantId, tenant.token, p.id)).id,
        reached: async (id) =>
          (
            await ctx.db
              .select()
              .from(operationRunItems)
              .where(and(eq(operationRunItems.runId, id), eq(operationRunItems.status, 'succeeded')))
          ).length,
        at: 3,
        what: 'the child to restore a few objects',
        faults,
        recoveryFaults: faults,
      })
      worker = crash.worker
      const run = { id: crash.runId }
      try {
        const done = await waitForCompletion(ctx, run.id, 240_000)
        // Nothing of the run was listed by the audit log while it ran.
        expect(env.emulator.tenant(tenant.entraTenantId)!.audit.query(null, null)).toHaveLength(0)
        await control(env.emulator, 'PUT', '/faults', { throttle_scale: 100 })
        const items = await ctx.db.select().from(operationRunItems).where(eq(operationRunItems.runId, run.id))
        expect(items.filter((i) => i.status === 'failed')).toEqual([])
        expect(done.outcome).toBe('succeeded')
        const writes = await ctx.db.select().from(graphWrites).where(eq(graphWrites.runId, run.id))
        expect(writes.filter((w) => w.state !== 'confirmed')).toEqual([])
        // Lost answers happened and were settled without the audit log.
        expect(writes.some((w) => w.attempts > 1 || w.updatedAt.getTime() > w.createdAt.getTime())).toBe(true)
        expect(await ctx.db.select().from(notifications).where(eq(notifications.runId, run.id))).toHaveLength(1)
        expectWrittenOnce(
          tenant.entraTenantId,
          writes,
          victims,
          await contents(env.emulator, tenant.entraTenantId),
          originals,
        )
      } finally {
        await control(env.emulator, 'PUT', `/tenants/${tenant.entraTenantId}/faults`, { audit_delay_ms: 0 })
        await worker.stop()
        worker = undefined
      }
    },
  )

  it(
    'a worker SIGKILLed mid-restore with lost answers and no audit event visible: re-queued, every object written once, one notification',
    { timeout: 300_000 },
    async () => {
      worker = await startWorker()
      const tenant = await connectTenant(ctx, env.emulator, { policies: 60 })
      await syncAndWait(ctx, tenant.tenantId, tenant.token)
      const { backup } = await backupAndWait(ctx, tenant.tenantId, tenant.token)
      const originals = (await contents(env.emulator, tenant.entraTenantId)).filter(
        (o) => o.type !== 'group' && !hasSecret(o),
      )
      const victims = originals.filter(
        (o) =>
          [
            'deviceConfiguration',
            'deviceCompliancePolicy',
            'settingsCatalogPolicy',
            'groupPolicyConfiguration',
            'deviceManagementScript',
          ].includes(o.type) && !notWritableReason(getPolicyType(o.type), o.content),
      )
      for (const v of victims) await control(env.emulator, 'DELETE', `/tenants/${tenant.entraTenantId}/items/${v.id}`)
      await syncAndWait(ctx, tenant.tenantId, tenant.token)
      const p = await plan(ctx, tenant.tenantId, tenant.token, { backup_id: backup.id })
      expect(p.counts.create).toBe(victims.length)
      await worker.stop()
      worker = undefined

      await control(env.emulator, 'PUT', `/tenants/${tenant.entraTenantId}/faults`, { audit_delay_ms: HOUR })
      const faults = { throttle_scale: 100, latency_ms: 60, drop_response_rate: 0.3 }
      const crash = await killWorkerMidRun(env, {
        start: async () => (await execute(ctx, tenant.tenantId, tenant.token, p.id)).id,
        reached: async (id) =>
          (
            await ctx.db
              .select()
              .from(operationRunItems)
              .where(and(eq(operationRunItems.runId, id), eq(operationRunItems.status, 'succeeded')))
          ).length,
        at: 3,
        what: 'the child to restore a few objects',
        faults,
        recoveryFaults: faults,
      })
      worker = crash.worker
      const run = { id: crash.runId }
      try {
        const done = await waitForCompletion(ctx, run.id, 240_000)
        expect(env.emulator.tenant(tenant.entraTenantId)!.audit.query(null, null)).toHaveLength(0)
        await control(env.emulator, 'PUT', '/faults', { throttle_scale: 100 })
        expect(done).toMatchObject({ outcome: 'succeeded', attempt: 2 })
        expect(await ctx.db.select().from(notifications).where(eq(notifications.runId, run.id))).toHaveLength(1)
        const writes = await ctx.db.select().from(graphWrites).where(eq(graphWrites.runId, run.id))
        expect(writes.every((w) => w.state === 'confirmed')).toBe(true)
        expect(writes.filter((w) => w.operation === 'create')).toHaveLength(victims.length)
        const items = await ctx.db.select().from(operationRunItems).where(eq(operationRunItems.runId, run.id))
        expect(items.filter((i) => i.action === 'create' && i.status === 'succeeded')).toHaveLength(victims.length)
        expectWrittenOnce(
          tenant.entraTenantId,
          writes,
          victims,
          await contents(env.emulator, tenant.entraTenantId),
          originals,
        )
      } finally {
        await control(env.emulator, 'PUT', `/tenants/${tenant.entraTenantId}/faults`, { audit_delay_ms: 0 })
      }
    },
  )
})
