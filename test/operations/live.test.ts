import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestContext, type TestContext } from '../harness.ts'
import { gate, testCatalog, testHandlers } from './fixtures.ts'
import { openEventStream } from '../sse.ts'
import { LiveHub } from '../../src/modules/operations/live-hub.ts'
import type { RunResponse } from '../../src/modules/operations/presenter.ts'

let ctx: TestContext
let baseUrl: string
let tenantId: string
let otherTenantId: string
const tokens = {} as Record<'operator' | 'readonly' | 'foreigner', string>
let operatorId: string

beforeAll(async () => {
  ctx = await createTestContext({ catalog: testCatalog, handlers: testHandlers })
  baseUrl = await ctx.app.listen({ port: 0, host: '127.0.0.1' })
  tenantId = (await ctx.factories.tenant()).id
  otherTenantId = (await ctx.factories.tenant()).id
  const operator = await ctx.factories.userWithToken()
  const readonly = await ctx.factories.userWithToken()
  const foreigner = await ctx.factories.userWithToken()
  await ctx.factories.member(tenantId, operator.user, 'operator')
  await ctx.factories.member(tenantId, readonly.user, 'readonly')
  await ctx.factories.member(otherTenantId, foreigner.user, 'owner')
  tokens.operator = operator.token
  tokens.readonly = readonly.token
  tokens.foreigner = foreigner.token
  operatorId = operator.user.id
})
afterAll(() => ctx.close())

type SseEvent = { event: string; data: { id?: string; status?: string; active?: { id: string }[] } }

/** Opens the stream and collects parsed events until closed. */
async function openStream(tenant: string, token: string) {
  const events: SseEvent[] = []
  const stream = await openEventStream(`${baseUrl}/api/tenants/${tenant}/events`, token, (event, data) =>
    events.push({ event, data: data as SseEvent['data'] }),
  )
  return { ...stream, events }
}

const until = async (probe: () => boolean, what: string) => {
  const deadline = Date.now() + 60_000
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

describe('live events (SSE)', () => {
  it('streams run.updated to a member who may view operations, and nothing to others', async () => {
    const viewer = await openStream(tenantId, tokens.operator)
    const foreign = await openStream(otherTenantId, tokens.foreigner)
    const readonly = await openStream(tenantId, tokens.readonly)
    const intruder = await openStream(tenantId, tokens.foreigner)
    // Closed whatever happens: an open stream would hold the app's close (and the file) for a minute.
    try {
      expect(viewer.response.headers.get('content-type')).toMatch(/text\/event-stream/)
      expect(readonly.response.status).toBe(403)
      expect(intruder.response.status).toBe(404)
      await until(() => viewer.events.length >= 1 && foreign.events.length >= 1, 'the snapshots')
      expect(viewer.events[0]).toEqual({ event: 'snapshot', data: { active: [] } })

      // A run that waits at a gate: the hub loads the run when it hears of a change, so a run that
      // finished at once could reach the viewer as queued → completed only.
      const { run } = await ctx.engine.startRun({
        tenantId,
        type: 'test.block',
        context: { gate: 'live-1' },
        initiatorUserId: operatorId,
        actor: { kind: 'user', userId: operatorId, ip: null },
      })
      await until(
        () => viewer.events.some((e) => e.event === 'run.updated' && e.data.status === 'running'),
        'the running event',
      )
      gate('live-1').release()
      await until(
        () => viewer.events.some((e) => e.event === 'run.updated' && e.data.status === 'completed'),
        'the completed event',
      )
      // Each event carries the run as loaded when the hub heard of the change: a worker may claim the
      // run before the hub loads it for its `queued` event, so the first one may already say running.
      // What holds whatever the timing: the statuses never go back, and the last is completed.
      const order = ['queued', 'running', 'completed']
      const statuses = viewer.events
        .filter((e) => e.event === 'run.updated' && e.data.id === run.id)
        .map((e) => order.indexOf(e.data.status!))
      expect(statuses).toEqual([...statuses].sort((a, b) => a - b))
      expect(statuses).toContain(1)
      expect(statuses.at(-1)).toBe(2)

      // Events leave the hub in the order they arrived: once the foreign viewer hears of its own
      // tenant's run, it would have heard of ours before it, had it been sent.
      const own = await ctx.engine.startRun({
        tenantId: otherTenantId,
        type: 'test.noop',
        context: { live: 'foreign' },
        initiatorUserId: null,
        actor: { kind: 'cli' },
      })
      await until(
        () => foreign.events.some((e) => e.event === 'run.updated' && e.data.id === own.run.id),
        "the foreign tenant's own event",
      )
      expect(foreign.events.filter((e) => e.event === 'run.updated' && e.data.id !== own.run.id)).toEqual([])
    } finally {
      for (const stream of [viewer, foreign, readonly, intruder]) stream.close()
    }
  })

  it('sends the active runs as a snapshot to a viewer who connects later', async () => {
    const { run } = await ctx.engine.startRun({
      tenantId,
      type: 'test.block',
      context: { gate: 'snapshot' },
      initiatorUserId: null,
      actor: { kind: 'cli' },
    })
    const late = await openStream(tenantId, tokens.operator)
    try {
      await until(() => late.events.length >= 1, 'the snapshot')
      expect(late.events[0]!.event).toBe('snapshot')
      expect(late.events[0]!.data.active!.map((r) => r.id)).toContain(run.id)
    } finally {
      late.close()
      gate('snapshot').release()
    }
  })

  it('sends a viewer its snapshot before any update, also when a change arrives while it connects', async () => {
    // A hub on a listener the test fires by hand: the change is heard right after the viewer asked to join,
    // while its snapshot is still being read — the moment a real viewer's race happens.
    let fire: (payload: string) => void = () => {}
    const hub = new LiveHub(ctx.db, testCatalog)
    await hub.start({
      listen: (_channel, onNotification) => ((fire = onNotification), Promise.resolve(() => {})),
      close: async () => {},
    })
    const { run } = await ctx.engine.startRun({
      tenantId,
      type: 'test.noop',
      context: { live: 'order' },
      initiatorUserId: null,
      actor: { kind: 'cli' },
    })
    const payload = JSON.stringify({
      type: 'run.updated',
      tenant_id: tenantId,
      run_id: run.id,
      status: 'queued',
      cancel_requested: false,
    })
    const access = { tenantId, userId: operatorId, role: 'operator' as const }
    const viewers = await Promise.all(
      Array.from({ length: 25 }, async () => {
        const seen: string[] = []
        let updated!: () => void
        const heard = new Promise<void>((resolve) => (updated = resolve))
        const joined = hub.subscribe(tenantId, {
          access,
          snapshot: () => seen.push('snapshot'),
          runUpdated: (r: RunResponse) => (seen.push(`run.updated ${r.id}`), updated()),
        })
        fire(payload)
        const leave = await joined
        await heard
        leave()
        return seen
      }),
    )
    hub.stop()
    for (const seen of viewers) {
      expect(seen[0]).toBe('snapshot')
      expect(seen.slice(1).length).toBeGreaterThan(0)
      expect(new Set(seen.slice(1))).toEqual(new Set([`run.updated ${run.id}`]))
    }
  })
})
