import { and, eq } from 'drizzle-orm'
import { bulkNoopHandlers } from '../bulk/noop-handlers.ts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auditEvents, notifications, operationRuns, schedules } from '../../src/db/schema.ts'
import { createLogger } from '../../src/lib/logger.ts'
import { createCatalog } from '../../src/modules/operations/catalog.ts'
import { finishRun } from '../../src/modules/operations/finish-run.ts'
import { createSchedule } from '../../src/modules/schedules/save-schedule.ts'
import { Scheduler } from '../../src/modules/schedules/scheduler.ts'
import { shippedCatalog } from '../../src/operation-types.ts'
import { createTestContext, errorOf, type TestContext } from '../harness.ts'
import { testCatalog, testHandlers } from '../operations/fixtures.ts'

// The shipped types too (inventory.sync's input is validated for real); no worker: runs stay queued until the test finishes them.
const catalog = createCatalog({ ...testCatalog.specs, ...shippedCatalog.specs })
const handlers = {
  ...testHandlers,
  'inventory.sync': async () => {},
  'backup.create': async () => {},
  'backup.prune': async () => {},
  'restore.execute': async () => {},
  'compare.run': async () => {},
  'docs.export': async () => {},
  'drift.evaluate': async () => {},
  ...bulkNoopHandlers,
}

let ctx: TestContext
let tenantId: string
const tokens = {} as Record<'owner' | 'manager' | 'operator' | 'foreigner', string>
let ownerId: string

beforeAll(async () => {
  ctx = await createTestContext({ catalog, handlers, worker: false })
  tenantId = (await ctx.factories.tenant()).id
  for (const role of ['owner', 'manager', 'operator'] as const) {
    const member = await ctx.factories.userWithToken()
    await ctx.factories.member(tenantId, member.user, role)
    tokens[role] = member.token
    if (role === 'owner') ownerId = member.user.id
  }
  const foreigner = await ctx.factories.userWithToken()
  await ctx.factories.member((await ctx.factories.tenant()).id, foreigner.user, 'owner')
  tokens.foreigner = foreigner.token
})
afterAll(() => ctx.close())

type Schedule = {
  id: string
  name: string
  operation_type: string
  input: Record<string, unknown>
  cron: string
  timezone: string
  enabled: boolean
  next_run_at: string | null
  last_run: { id: string } | null
}
const api = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, payload?: unknown, token = tokens.owner) =>
  ctx.request({ method, url: `/api/tenants/${tenantId}/schedules${path}`, payload: payload as never, token })

describe('schedules API', () => {
  it('creates, lists, changes and deletes a schedule, each audited', async () => {
    const created = await api('POST', '', {
      name: 'Nightly sync',
      operation_type: 'inventory.sync',
      input: { selection: { policy_types: ['deviceConfiguration'] } },
      cron: '0 2 * * *',
      timezone: 'Europe/Berlin',
    })
    expect(created.statusCode, created.body).toBe(201)
    const schedule = JSON.parse(created.body) as Schedule
    expect(schedule).toMatchObject({
      name: 'Nightly sync',
      operation_type: 'inventory.sync',
      cron: '0 2 * * *',
      timezone: 'Europe/Berlin',
      enabled: true,
      last_run: null,
    })
    // Stored canonical, as a run's context: what it starts is what a manual sync of that selection
    // starts; scheduled syncs are quick unless the schedule says full.
    expect(schedule.input).toEqual({
      selection: {
        policy_types: ['deviceConfiguration'],
        categories: [],
        include_foundations: true,
        include_dependencies: true,
        mode: 'quick',
      },
    })
    // 02:00 in Berlin is 00:00 or 01:00 UTC, depending on the season.
    expect(new Date(schedule.next_run_at!).getUTCMinutes()).toBe(0)
    expect([0, 1]).toContain(new Date(schedule.next_run_at!).getUTCHours())

    const list = JSON.parse((await api('GET', '', undefined, tokens.operator)).body) as { data: Schedule[] }
    expect(list.data.map((s) => s.id)).toContain(schedule.id)

    const paused = await api('PATCH', `/${schedule.id}`, { enabled: false }, tokens.manager)
    expect(paused.statusCode, paused.body).toBe(200)
    expect(JSON.parse(paused.body)).toMatchObject({ enabled: false, next_run_at: null })
    const resumed = JSON.parse(
      (await api('PATCH', `/${schedule.id}`, { enabled: true, cron: '30 3 * * *', timezone: 'UTC' })).body,
    ) as Schedule
    expect(resumed.next_run_at).toMatch(/T03:30:00\.000Z$/)

    expect((await api('DELETE', `/${schedule.id}`)).statusCode).toBe(204)
    expect((await api('DELETE', `/${schedule.id}`)).statusCode).toBe(404)
    const actions = await ctx.db
      .select({ action: auditEvents.action })
      .from(auditEvents)
      .where(and(eq(auditEvents.tenantId, tenantId), eq(auditEvents.subjectId, schedule.id)))
      .orderBy(auditEvents.createdAt, auditEvents.id)
    expect(actions.map((a) => a.action)).toEqual([
      'schedule.created',
      'schedule.updated',
      'schedule.updated',
      'schedule.deleted',
    ])
  })

  it('answers 422 naming an invalid cron expression, time zone, type or input', async () => {
    const base = { name: 'Bad', operation_type: 'test.noop', input: {}, cron: '*/5 * * * *', timezone: 'UTC' }
    const fieldsOf = async (body: unknown) => {
      const response = await api('POST', '', body)
      expect(response.statusCode, response.body).toBe(422)
      return (errorOf(response.body).details as { fields: { field: string; message: string }[] }).fields
    }
    expect(await fieldsOf({ ...base, cron: '61 * * * *' })).toEqual([
      { field: 'cron', message: expect.stringContaining('"61 * * * *" is not a valid cron expression') as unknown },
    ])
    expect(await fieldsOf({ ...base, cron: '* * *' })).toEqual([
      { field: 'cron', message: expect.stringContaining('five fields') as unknown },
    ])
    expect(await fieldsOf({ ...base, timezone: 'Mars/Olympus' })).toEqual([
      { field: 'timezone', message: '"Mars/Olympus" is not an IANA time zone (e.g. "Europe/Berlin", "UTC")' },
    ])
    expect((await fieldsOf({ ...base, operation_type: 'test.once' }))[0]!.field).toBe('operation_type')
    expect(
      (
        await fieldsOf({ ...base, operation_type: 'inventory.sync', input: { selection: { policy_types: ['nope'] } } })
      )[0]!.field,
    ).toBe('input.selection.policy_types')
  })

  it('refuses a second schedule of the same name (409), other roles (403) and foreign tenants (404)', async () => {
    const body = { name: 'Twice', operation_type: 'test.noop', cron: '0 * * * *' }
    expect((await api('POST', '', body)).statusCode).toBe(201)
    expect((await api('POST', '', body)).statusCode).toBe(409)
    expect((await api('POST', '', { ...body, name: 'Operator' }, tokens.operator)).statusCode).toBe(403)
    expect((await api('GET', '', undefined, tokens.foreigner)).statusCode).toBe(404)
  })
})

describe('Run now', () => {
  it("starts the schedule's type with its stored input as the caller, and leaves the schedule's slot alone", async () => {
    const created = await api('POST', '', {
      name: 'Run-now sync',
      operation_type: 'inventory.sync',
      input: { selection: { mode: 'full' } },
      cron: '0 3 * * *',
      timezone: 'Europe/Berlin',
    })
    expect(created.statusCode, created.body).toBe(201)
    const schedule = JSON.parse(created.body) as Schedule
    const started = await api('POST', `/${schedule.id}/run`)
    expect(started.statusCode, started.body).toBe(202)
    const { run } = JSON.parse(started.body) as {
      run: { id: string; type: string; initiator: { id: string } | null; schedule: unknown }
    }
    expect(run.type).toBe('inventory.sync')
    expect(run.initiator?.id).toBe(ownerId)
    const [row] = await ctx.db.select().from(operationRuns).where(eq(operationRuns.id, run.id))
    expect((row!.context as { selection: { mode: string } }).selection.mode).toBe('full')
    const after = (JSON.parse((await api('GET', '')).body) as { data: Schedule[] }).data.find(
      (s) => s.id === schedule.id,
    )!
    expect(after.next_run_at).toBe(schedule.next_run_at)
    // A foreign tenant's member sees no such schedule; an unknown id is a 404 too.
    expect((await api('POST', `/${schedule.id}/run`, undefined, tokens.foreigner)).statusCode).toBe(404)
    expect((await api('POST', '/not-a-schedule/run')).statusCode).toBe(404)
    await ctx.db.transaction((tx) =>
      finishRun(tx, catalog, { runId: run.id, from: ['queued'], outcome: 'succeeded', actor: { kind: 'system' } }),
    )
    expect((await api('DELETE', `/${schedule.id}`)).statusCode).toBe(204)
  })
})

describe('the scheduler, under a fake clock', () => {
  let clock = new Date('2030-01-01T12:04:58.000Z')
  const scheduler = () => new Scheduler(ctx.db, ctx.engine, createLogger('silent'), { now: () => clock })
  const runsOf = (scheduleId: string) =>
    ctx.db.select().from(operationRuns).where(eq(operationRuns.scheduleId, scheduleId)).orderBy(operationRuns.createdAt)
  const finish = (runId: string) =>
    ctx.db.transaction((tx) =>
      finishRun(tx, catalog, { runId, from: ['queued', 'running'], outcome: 'succeeded', actor: { kind: 'system' } }),
    )
  let scheduleId: string
  const access = () => ({ tenantId, userId: ownerId, role: 'owner' as const })
  // The API tests' schedules are due at real time, long before this clock: this describe has the scheduler to itself.
  beforeAll(() => ctx.db.delete(schedules))

  it('fires within a second of its slot, as a system run attributed to the schedule that notifies no one', async () => {
    const schedule = await createSchedule(
      ctx.db,
      catalog,
      access(),
      { kind: 'system' },
      {
        name: 'Every five',
        operation_type: 'test.block',
        input: { gate: 'scheduled' },
        cron: '*/5 * * * *',
        timezone: 'UTC',
        enabled: true,
      },
      clock,
    )
    scheduleId = schedule.id
    expect(schedule.nextRunAt).toEqual(new Date('2030-01-01T12:05:00.000Z'))
    const s = scheduler()
    let firedAt: Date | undefined
    for (let step = 0; step < 16 && !firedAt; step++) {
      clock = new Date(clock.getTime() + 250)
      if ((await s.tick()) > 0) firedAt = clock
    }
    expect(firedAt!.getTime() - Date.parse('2030-01-01T12:05:00.000Z')).toBeGreaterThanOrEqual(0)
    expect(firedAt!.getTime() - Date.parse('2030-01-01T12:05:00.000Z')).toBeLessThan(1000)
    const [run] = await runsOf(scheduleId)
    expect(run).toMatchObject({
      type: 'test.block',
      initiatorUserId: null,
      status: 'queued',
      context: { gate: 'scheduled' },
    })

    const presented = JSON.parse(
      (
        await ctx.request({
          method: 'GET',
          url: `/api/tenants/${tenantId}/operation-runs/${run!.id}`,
          token: tokens.owner,
        })
      ).body,
    ) as Record<string, unknown>
    expect(presented).toMatchObject({ initiator: null, schedule: { id: scheduleId, name: 'Every five' } })
    const [queued] = await ctx.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.subjectId, run!.id), eq(auditEvents.action, 'operation_run.queued')))
    expect(queued).toMatchObject({
      actorKind: 'system',
      metadata: { schedule: { id: scheduleId, name: 'Every five' } },
    })
    const trail = JSON.parse(
      (await ctx.request({ method: 'GET', url: `/api/tenants/${tenantId}/audit-events`, token: tokens.owner })).body,
    ) as {
      data: { action: string; subject: { id: string } | null; actor: { kind: string; name: string | null } }[]
    }
    expect(
      trail.data.find((e) => e.action === 'operation_run.queued' && e.subject?.id === run!.id)?.actor,
    ).toMatchObject({ kind: 'system', name: 'Schedule: Every five' })
    const listed = JSON.parse((await api('GET', '')).body) as { data: Schedule[] }
    expect(listed.data.find((x) => x.id === scheduleId)).toMatchObject({
      next_run_at: '2030-01-01T12:10:00.000Z',
      last_run: { id: run!.id },
    })

    await finish(run!.id)
    expect(await ctx.db.select().from(notifications).where(eq(notifications.runId, run!.id))).toHaveLength(0)
  })

  it('fires once, not once per slot, after a downtime of three slots', async () => {
    clock = new Date('2030-01-01T12:20:30.000Z') // 12:10, 12:15 and 12:20 were missed
    const s = scheduler()
    expect(await s.tick()).toBe(1)
    expect(await s.tick()).toBe(0)
    clock = new Date('2030-01-01T12:24:59.900Z')
    expect(await s.tick()).toBe(0)
    expect(await runsOf(scheduleId)).toHaveLength(2)
    const [row] = await ctx.db.select().from(schedules).where(eq(schedules.id, scheduleId))
    expect(row!.nextRunAt).toEqual(new Date('2030-01-01T12:25:00.000Z'))
  })

  it('deduplicates a manual start during a scheduled run, and a slot during a manual run', async () => {
    const [, scheduled] = await runsOf(scheduleId)
    const manual = await ctx.engine.startRun({
      tenantId,
      type: 'test.block',
      context: { gate: 'scheduled' },
      initiatorUserId: ownerId,
      actor: { kind: 'user', userId: ownerId, ip: null },
    })
    expect(manual).toMatchObject({ deduplicated: true, run: { id: scheduled!.id } })
    await finish(scheduled!.id)

    const own = await ctx.engine.startRun({
      tenantId,
      type: 'test.block',
      context: { gate: 'scheduled' },
      initiatorUserId: ownerId,
      actor: { kind: 'user', userId: ownerId, ip: null },
    })
    expect(own.deduplicated).toBe(false)
    clock = new Date('2030-01-01T12:25:00.400Z')
    expect(await scheduler().tick()).toBe(1)
    expect(await runsOf(scheduleId)).toHaveLength(2)
    const [row] = await ctx.db.select().from(schedules).where(eq(schedules.id, scheduleId))
    expect(row!.lastRunId).toBe(own.run.id)
  })
})
