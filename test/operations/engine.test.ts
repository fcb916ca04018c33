import { eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { notifications, operationRuns, type OperationRunRow } from '../../src/db/schema.ts'
import { finishRun } from '../../src/modules/operations/finish-run.ts'
import { createTestContext, errorOf, type TestContext } from '../harness.ts'
import { gate, journal, testCatalog, testHandlers, type TestType } from './fixtures.ts'
import { waitFor } from './helpers.ts'

let ctx: TestContext
let owner: { user: { id: string }; token: string }
let tenantId: string

beforeAll(async () => {
  ctx = await createTestContext({ catalog: testCatalog, handlers: testHandlers })
  owner = await ctx.factories.userWithToken()
  tenantId = (await ctx.factories.tenant()).id
  await ctx.factories.member(tenantId, owner.user, 'owner')
})
afterAll(() => ctx.close())

const start = (
  type: TestType,
  context: Record<string, unknown> = {},
  initiatorUserId: string | null = owner.user.id,
  tenant = tenantId,
) =>
  ctx.engine.startRun({
    tenantId: tenant,
    type,
    context,
    initiatorUserId,
    actor: initiatorUserId ? { kind: 'user', userId: initiatorUserId, ip: null } : { kind: 'cli' },
  })

const runRow = async (id: string) => (await ctx.db.select().from(operationRuns).where(eq(operationRuns.id, id)))[0]!
const notificationsOf = (runId: string) => ctx.db.select().from(notifications).where(eq(notifications.runId, runId))

const completed = (id: string) =>
  waitFor(async () => ((await runRow(id)).status === 'completed' ? runRow(id) : undefined), `run ${id} to complete`)
const running = (id: string) => waitFor(async () => (await runRow(id)).status === 'running', `run ${id} to run`)

describe('start and finish', () => {
  it('queues a run, runs it and notifies its initiator exactly once', async () => {
    const { run, deduplicated } = await start('test.noop', { n: 1 })
    expect(deduplicated).toBe(false)
    expect(run).toMatchObject({ status: 'queued', attempt: 1, initiatorUserId: owner.user.id })
    const done = await completed(run.id)
    expect(done).toMatchObject({ outcome: 'succeeded' })
    expect(done.startedAt).not.toBeNull()
    const sent = await notificationsOf(run.id)
    expect(sent).toHaveLength(1)
    expect(sent[0]).toMatchObject({
      userId: owner.user.id,
      kind: 'operation_run.completed',
      title: 'No-op completed',
      url: `/t/${tenantId}/operations/${run.id}`,
    })
  })

  it('sends no notification at queue time, none to other members and none for system runs', async () => {
    const colleague = await ctx.factories.user()
    await ctx.factories.member(tenantId, colleague, 'manager')
    const { run } = await start('test.block', { gate: 'quiet' })
    await running(run.id)
    expect(await notificationsOf(run.id)).toHaveLength(0)
    gate('quiet').release()
    await completed(run.id)
    const sent = await notificationsOf(run.id)
    expect(sent.map((n) => n.userId)).toEqual([owner.user.id])

    const system = await start('test.noop', { system: true }, null)
    expect((await completed(system.run.id)).initiatorUserId).toBeNull()
    expect(await notificationsOf(system.run.id)).toHaveLength(0)
  })

  it('deduplicates 100 parallel identical starts into one run', async () => {
    const results = await Promise.all(
      Array.from({ length: 100 }, () => start('test.block', { gate: 'dedupe', b: [1, 2], a: 'x' })),
    )
    const ids = new Set(results.map((r) => r.run.id))
    expect(ids.size).toBe(1)
    expect(results.filter((r) => r.deduplicated)).toHaveLength(99)
    // The same context written differently is the same identity.
    expect((await start('test.block', { a: 'x', b: [1, 2], gate: 'dedupe' })).deduplicated).toBe(true)
    // A different context is a different run.
    const other = await start('test.block', { gate: 'dedupe', b: [2, 1], a: 'x' })
    expect(other.deduplicated).toBe(false)
    gate('dedupe').release()
    for (const id of [...ids, other.run.id]) await completed(id)
    expect(await notificationsOf([...ids][0]!)).toHaveLength(1)
  })

  it('drains a backlog that arrives while every worker is busy, without waiting for the slow poll', async () => {
    const runs = await Promise.all(Array.from({ length: 40 }, (_, i) => start('test.noop', { backlog: i })))
    // pg-boss polls every 30 s when NOTIFY is on: a run left to that poll misses completed()'s 15 s
    // deadline. No assertion on elapsed time (the bench measures throughput).
    for (const { run } of runs) await completed(run.id)
  })

  it('derives the outcome from unit results and keeps the counts', async () => {
    const partial = await start('test.units', {
      units: [
        { key: 'a', status: 'succeeded' },
        { key: 'b', status: 'skipped' },
        { key: 'c', status: 'succeeded' },
      ],
    })
    const done = await completed(partial.run.id)
    expect(done.outcome).toBe('partially_succeeded')
    expect(done.summaryCounts).toEqual({ total: 3, processed: 3, succeeded: 2, skipped: 1, created: 2 })
    expect(done.units.map((u) => [u.key, u.status])).toEqual([
      ['a', 'succeeded'],
      ['b', 'skipped'],
      ['c', 'succeeded'],
    ])
    expect(done.failures).toEqual([{ code: 'missing_permission', message: 'No permission for b', subject: 'b' }])
    const [note] = await notificationsOf(partial.run.id)
    expect(note!.title).toBe('Unit run completed with warnings')
    expect(note!.body).toBe('3 of 3 processed · 2 created · 2 succeeded · 1 skipped. 1 problem: No permission for b')

    const failed = await completed((await start('test.units', { units: [{ key: 'x', status: 'failed' }] })).run.id)
    expect(failed.outcome).toBe('failed')
    expect((await notificationsOf(failed.id))[0]!.title).toBe('Unit run failed')
  })

  it('fails a run whose handler writes a count outside the allow-list', async () => {
    const done = await completed((await start('test.units', { units: [], badKey: true })).run.id)
    expect(done.outcome).toBe('failed')
    expect(done.failures[0]!.message).toMatch(/"bogus" is not in the allow-list/)
  })

  it('records a database error without its query or parameters, and logs it in full with the parameters masked', async () => {
    const secret = `s3cret-${Date.now()}`
    for (const [context, condition] of [
      [{ secret }, 'SQLSTATE 22P02 invalid_text_representation'],
      [{ secret, unique: true }, 'SQLSTATE 23505 unique_violation, constraint dberror_probe_v_key'],
    ] as const) {
      const done = await completed((await start('test.dberror', context)).run.id)
      expect(done.outcome).toBe('failed')
      expect(done.failures).toEqual([
        {
          code: 'unexpected_error',
          message: `A database error stopped the operation (${condition}); the worker's log has the full error for run ${done.id}.`,
          subject: null,
        },
      ])
      expect(JSON.stringify(done.failures)).not.toMatch(/select|insert|params|s3cret/i)
      const [note] = await notificationsOf(done.id)
      expect(note!.body).not.toContain(secret)
      const line = ctx.logs.find((l) => l.includes(done.id) && l.includes('operation handler failed'))!
      expect(line).toBeDefined()
      const logged = JSON.parse(line) as {
        err: { message: string; params: string; causes: { code: string; message: string }[] }
      }
      expect(logged.err.message).toMatch(
        context.unique ? /^Failed query: INSERT INTO dberror_probe/ : /^Failed query: SELECT \$1::int/,
      )
      expect(logged.err.params).toMatch(/parameters?, not logged/)
      expect(logged.err.causes[0]).toMatchObject({
        code: context.unique ? '23505' : '22P02',
        message: expect.any(String),
      })
      expect(line).not.toContain(secret)
    }
    // An error that is not the database's keeps its message (a programming error says what it is).
    const counts = await completed((await start('test.units', { units: [], badKey: true })).run.id)
    expect(counts.failures[0]!.message).toMatch(/"bogus" is not in the allow-list/)
  })

  it('finishes exactly once under concurrent finish attempts', async () => {
    const { run } = await start('test.block', { gate: 'race' })
    await running(run.id)
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        ctx.db.transaction((tx) =>
          finishRun(tx, testCatalog, {
            runId: run.id,
            from: ['running'],
            outcome: i % 2 ? 'failed' : 'succeeded',
            actor: { kind: 'system' },
          }),
        ),
      ),
    )
    expect(results.filter(Boolean)).toHaveLength(1)
    gate('race').release()
    // The handler's write is refused; or, on a busy machine, its heartbeat noticed first and stopped it.
    await waitFor(
      () => journal.some((j) => j.runId === run.id && /^(write refused|stopped): RunOwnershipLostError$/.test(j.event)),
      'the handler to be refused',
    )
    expect(await notificationsOf(run.id)).toHaveLength(1)
  })
})

describe('cancel', () => {
  it('cancels a queued run at once and a running run at its next check', async () => {
    const first = await start('test.serial', { gate: 'serial-1' })
    await running(first.run.id)
    // One per tenant: the second waits queued behind the first.
    const second = await start('test.serial', { gate: 'serial-2' })
    await new Promise((resolve) => setTimeout(resolve, 700))
    expect((await runRow(second.run.id)).status).toBe('queued')

    const cancelQueued = await ctx.request({
      method: 'POST',
      url: `/api/tenants/${tenantId}/operation-runs/${second.run.id}/cancel`,
      token: owner.token,
    })
    expect(cancelQueued.statusCode, cancelQueued.body).toBe(202)
    expect(JSON.parse(cancelQueued.body)).toMatchObject({ status: 'completed', outcome: 'cancelled' })
    expect((await notificationsOf(second.run.id))[0]!.title).toBe('Serial run cancelled')

    const cancelRunning = await ctx.request({
      method: 'POST',
      url: `/api/tenants/${tenantId}/operation-runs/${first.run.id}/cancel`,
      token: owner.token,
    })
    expect(cancelRunning.statusCode).toBe(202)
    const body = JSON.parse(cancelRunning.body) as { status: string; cancel_requested: boolean; status_label: string }
    expect(body.cancel_requested).toBe(true)
    if (body.status === 'running') expect(body.status_label).toBe('Cancelling…')
    expect(await completed(first.run.id)).toMatchObject({ outcome: 'cancelled' })
    expect(await notificationsOf(first.run.id)).toHaveLength(1)

    const again = await ctx.request({
      method: 'POST',
      url: `/api/tenants/${tenantId}/operation-runs/${first.run.id}/cancel`,
      token: owner.token,
    })
    expect(again.statusCode).toBe(409)
  })

  it('never runs more of a type than its per-tenant limit', async () => {
    const tenant = (await ctx.factories.tenant()).id
    const runs = await Promise.all(
      [1, 2, 3, 4].map((i) => start('test.serial', { gate: `limit-${i}` }, owner.user.id, tenant)),
    )
    const maxRunning = { value: 0 }
    const sample = async () => {
      const rows = await ctx.db.select().from(operationRuns).where(eq(operationRuns.tenantId, tenant))
      maxRunning.value = Math.max(maxRunning.value, rows.filter((r) => r.status === 'running').length)
      return rows
    }
    for (let i = 1; i <= 4; i++) {
      await waitFor(async () => (await sample()).some((r) => r.status === 'running'), 'a run to start')
      for (let k = 0; k < 10; k++) await sample()
      const runningRow = (await sample()).find((r) => r.status === 'running')!
      gate((runningRow.context as { gate: string }).gate).release()
      await completed(runningRow.id)
    }
    for (const { run } of runs) expect((await completed(run.id)).outcome).toBe('succeeded')
    expect(maxRunning.value).toBe(1)
  })

  it('fails a run that ignores cancellation past the timeout', async () => {
    const { run } = await start('test.block', { gate: 'stubborn', ignoreCancel: true })
    await running(run.id)
    await ctx.engine.cancelRun({ kind: 'system' }, tenantId, run.id)
    await ctx.db
      .update(operationRuns)
      .set({ cancelRequestedAt: sql`now() - interval '1 hour'` })
      .where(eq(operationRuns.id, run.id))
    await ctx.engine.reap()
    const done = await runRow(run.id)
    expect(done).toMatchObject({ status: 'completed', outcome: 'failed' })
    expect(done.failures.map((f) => f.code)).toEqual(['cancel_timeout'])
    gate('stubborn').release()
    await waitFor(
      () => journal.some((j) => j.runId === run.id && j.event.startsWith('write refused')),
      'the late write to be refused',
    )
    expect(await notificationsOf(run.id)).toHaveLength(1)
  })
})

describe('crash recovery in one process', () => {
  const staleHeartbeat = (id: string) =>
    ctx.db
      .update(operationRuns)
      .set({ heartbeatAt: sql`now() - interval '1 hour'` })
      .where(eq(operationRuns.id, id))

  it('re-queues an idempotent run whose heartbeat stopped, and refuses the zombie attempt its writes', async () => {
    const { run } = await start('test.block', { gate: 'zombie' })
    await running(run.id)
    await staleHeartbeat(run.id)
    const reaped = await ctx.engine.reap()
    expect(reaped.requeued).toBe(1)
    // Attempt 2 runs on a worker; attempt 1 is still blocked in its handler.
    await waitFor(
      () => journal.some((j) => j.runId === run.id && j.attempt === 2 && j.event === 'started'),
      'attempt 2 to start',
    )
    gate('zombie').release()
    const done = await completed(run.id)
    expect(done).toMatchObject({ outcome: 'succeeded', attempt: 2 })
    // The zombie's write is refused; or, on a busy machine, its heartbeat noticed first and stopped it before it wrote.
    const zombie = await waitFor(
      () => journal.find((j) => j.runId === run.id && j.attempt === 1 && j.event !== 'started'),
      "the zombie attempt's end",
    )
    expect(zombie?.event).toMatch(/^(write refused|stopped): RunOwnershipLostError$/)
    const events = journal.filter((j) => j.runId === run.id).map((j) => `${j.attempt}:${j.event}`)
    expect(events).not.toContain('1:wrote')
    expect(events).toContain('2:wrote')
    expect(await notificationsOf(run.id)).toHaveLength(1)
  })

  it('fails a non-idempotent run with worker_lost', async () => {
    const { run } = await start('test.once', { gate: 'once' })
    await running(run.id)
    await staleHeartbeat(run.id)
    expect((await ctx.engine.reap()).failed).toBe(1)
    const done = await runRow(run.id)
    expect(done).toMatchObject({ status: 'completed', outcome: 'failed' })
    expect(done.failures[0]!.code).toBe('worker_lost')
    gate('once').release()
    expect(await notificationsOf(run.id)).toHaveLength(1)
  })

  it('re-sends the job of a queued run whose job vanished', async () => {
    const first = await start('test.serial', { gate: 'vanish-1' })
    await running(first.run.id)
    const second = await start('test.serial', { gate: 'vanish-2' })
    const before = await runRow(second.run.id)
    await ctx.handle.pool.query('DELETE FROM pgboss.job WHERE id = $1', [before.jobId])
    await ctx.db
      .update(operationRuns)
      .set({ queuedAt: sql`now() - interval '1 hour'` })
      .where(eq(operationRuns.id, second.run.id))
    expect((await ctx.engine.reap()).resent).toBe(1)
    expect((await runRow(second.run.id)).jobId).not.toBe(before.jobId)
    gate('vanish-1').release()
    gate('vanish-2').release()
    expect(await completed(second.run.id)).toMatchObject({ outcome: 'succeeded' })
    await completed(first.run.id)
  })
})

describe('unknown types', () => {
  let legacy: OperationRunRow
  beforeAll(async () => {
    ;[legacy] = (await ctx.db
      .insert(operationRuns)
      .values({
        id: '0195f3c2-0000-7000-8000-00000000beef',
        tenantId,
        type: 'legacy.thing',
        status: 'queued',
        identityKey: 'x',
        context: {},
        queuedAt: sql`now() - interval '1 hour'`,
      })
      .returning()) as [OperationRunRow]
  })

  it('renders as "Unknown operation" in the detail and the list, never an error', async () => {
    const detail = await ctx.request({
      method: 'GET',
      url: `/api/tenants/${tenantId}/operation-runs/${legacy.id}`,
      token: owner.token,
    })
    expect(detail.statusCode).toBe(200)
    expect(JSON.parse(detail.body)).toMatchObject({ type: 'legacy.thing', type_label: 'Unknown operation' })
    const list = await ctx.request({
      method: 'GET',
      url: `/api/tenants/${tenantId}/operation-runs?type=legacy.thing`,
      token: owner.token,
    })
    expect((JSON.parse(list.body) as { data: { type_label: string }[] }).data.map((r) => r.type_label)).toEqual([
      'Unknown operation',
    ])
  })

  it('is failed by the reaper when queued, since no worker can run it', async () => {
    await ctx.engine.reap()
    const done = await runRow(legacy.id)
    expect(done).toMatchObject({ status: 'completed', outcome: 'failed' })
    expect(done.failures[0]!.code).toBe('unknown_operation')
  })
})

describe('Monitoring API', () => {
  it('lists newest first with filters and keyset pagination', async () => {
    const otherTenant = (await ctx.factories.tenant()).id
    await ctx.factories.member(otherTenant, owner.user, 'owner')
    const ids: string[] = []
    for (let i = 0; i < 5; i++)
      ids.push((await start('test.noop', { page: i }, i % 2 ? null : owner.user.id, otherTenant)).run.id)
    for (const id of ids) await completed(id)
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const url: string = `/api/tenants/${otherTenant}/operation-runs?limit=2${cursor ? `&cursor=${cursor}` : ''}`
      const page = JSON.parse((await ctx.request({ method: 'GET', url, token: owner.token })).body) as {
        data: { id: string }[]
        next_cursor: string | null
      }
      seen.push(...page.data.map((r) => r.id))
      cursor = page.next_cursor
    } while (cursor)
    expect(seen).toEqual([...ids].reverse())

    const system = JSON.parse(
      (
        await ctx.request({
          method: 'GET',
          url: `/api/tenants/${otherTenant}/operation-runs?initiator=system`,
          token: owner.token,
        })
      ).body,
    ) as { data: { initiator: null }[] }
    expect(system.data).toHaveLength(2)
    const mine = JSON.parse(
      (
        await ctx.request({
          method: 'GET',
          url: `/api/tenants/${otherTenant}/operation-runs?initiator=${owner.user.id}&outcome=succeeded&status=completed&type=test.noop`,
          token: owner.token,
        })
      ).body,
    ) as { data: { initiator: { id: string } }[] }
    expect(mine.data).toHaveLength(3)
    expect(mine.data[0]!.initiator.id).toBe(owner.user.id)
  })

  it('shows the active runs for the widget, whoever started them', async () => {
    const colleague = await ctx.factories.userWithToken()
    await ctx.factories.member(tenantId, colleague.user, 'operator')
    const { run } = await start('test.block', { gate: 'widget' })
    const active = JSON.parse(
      (
        await ctx.request({
          method: 'GET',
          url: `/api/tenants/${tenantId}/operation-runs/active`,
          token: colleague.token,
        })
      ).body,
    ) as { data: { id: string; links: { view: string } }[] }
    expect(active.data.map((r) => r.id)).toContain(run.id)
    expect(active.data.find((r) => r.id === run.id)!.links.view).toBe(`/t/${tenantId}/operations/${run.id}`)
    // An operator may not cancel a colleague's run.
    const cancel = await ctx.request({
      method: 'POST',
      url: `/api/tenants/${tenantId}/operation-runs/${run.id}/cancel`,
      token: colleague.token,
    })
    expect(cancel.statusCode).toBe(403)
    gate('widget').release()
    await completed(run.id)
    const after = JSON.parse(
      (
        await ctx.request({
          method: 'GET',
          url: `/api/tenants/${tenantId}/operation-runs/active`,
          token: colleague.token,
        })
      ).body,
    ) as { data: { id: string }[] }
    expect(after.data.map((r) => r.id)).not.toContain(run.id)
  })

  it('rejects bad filters by name', async () => {
    const response = await ctx.request({
      method: 'GET',
      url: `/api/tenants/${tenantId}/operation-runs?status=sleeping&initiator=bob`,
      token: owner.token,
    })
    expect(response.statusCode).toBe(422)
    expect(errorOf(response.body).message).toMatch(/status/)
    expect(errorOf(response.body).message).toMatch(/initiator/)
  })
})

describe('notifications API', () => {
  it('lists the caller’s notifications with the unread count, and marks them read', async () => {
    const user = await ctx.factories.userWithToken()
    await ctx.factories.member(tenantId, user.user, 'operator')
    for (let i = 0; i < 3; i++) await completed((await start('test.noop', { note: i }, user.user.id)).run.id)
    const list = JSON.parse(
      (await ctx.request({ method: 'GET', url: '/api/notifications', token: user.token })).body,
    ) as { data: { id: string; run_id: string }[]; unread_count: number }
    expect(list.unread_count).toBe(3)
    expect(list.data).toHaveLength(3)
    const read = await ctx.request({
      method: 'POST',
      url: `/api/notifications/${list.data[0]!.id}/read`,
      token: user.token,
    })
    expect(read.statusCode).toBe(200)
    expect(JSON.parse(read.body)).toMatchObject({ read_at: expect.any(String) })
    expect(
      (
        JSON.parse(
          (await ctx.request({ method: 'GET', url: '/api/notifications?unread=true', token: user.token })).body,
        ) as { data: unknown[]; unread_count: number }
      ).unread_count,
    ).toBe(2)
    // Someone else's notification is a 404.
    expect(
      (await ctx.request({ method: 'POST', url: `/api/notifications/${list.data[1]!.id}/read`, token: owner.token }))
        .statusCode,
    ).toBe(404)
    const all = await ctx.request({ method: 'POST', url: '/api/notifications/read-all', token: user.token })
    expect(JSON.parse(all.body)).toEqual({ updated: 2, unread_count: 0 })
  })
})
