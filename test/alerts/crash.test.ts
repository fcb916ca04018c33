import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { alertDeliveries } from '../../src/db/schema.ts'
import { createTestContext, type TestContext } from '../harness.ts'
import { spawnChildWorker, waitFor } from '../operations/helpers.ts'
import { routeAndSeal } from '../../src/modules/alerts/route.ts'
import { api, changeEvent, dispatchUntil, record, startReceiver, testDispatcher } from './helpers.ts'

let ctx: TestContext
beforeAll(async () => {
  ctx = await createTestContext({ worker: false })
})
afterAll(async () => ctx.close())

describe('a dispatcher SIGKILLed during delivery', () => {
  it('leaves nothing lost and nothing twice: the next worker resends under the same Idempotency-Key', async () => {
    // The receiver takes each request and never answers, until the dispatcher is dead.
    const faults = { timeoutRate: 1 }
    const receiver = await startReceiver(faults)
    try {
      const admin = (await ctx.factories.userWithToken({ isAdmin: true })).token
      const tenantId = (await ctx.factories.tenant()).id
      const channel = await api<{ id: string }>(ctx, admin, 'POST', '/api/alert-channels', {
        kind: 'webhook',
        name: 'Receiver',
        url: receiver.url,
      })
      await api(ctx, admin, 'POST', '/api/alert-rules', {
        name: 'Everything',
        events: ['object.changed'],
        tenants: { tenant_ids: [tenantId] },
        channel_ids: [channel.body.id],
        window_seconds: 0,
      })
      await record(
        ctx,
        Array.from({ length: 12 }, (_, i) => changeEvent(tenantId, `crash${i}@contoso.com`, i)),
      )
      // Routed and sealed here; sent only by the child.
      await routeAndSeal(ctx.db, { batch: 100, giveUpSeconds: 3600 })
      const { child, output } = await spawnChildWorker(ctx, 'test/alerts/dispatch-child.ts', {
        TA_TEST_APP_KEY: ctx.secretKey.toString('base64'),
      })
      try {
        await waitFor(() => Promise.resolve(receiver.requests.length >= 4), 'sends in flight', 60_000).catch(
          (e: unknown) => {
            throw new Error(`${String(e)}; the child said: ${output()}`)
          },
        )
        child.kill('SIGKILL')
        await new Promise((resolve) => child.once('exit', resolve))
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      }
      const inFlight = new Set(receiver.requests.map((r) => r.key))
      faults.timeoutRate = 0
      const rows = () => ctx.db.select().from(alertDeliveries).where(eq(alertDeliveries.channelId, channel.body.id))
      await dispatchUntil(testDispatcher(ctx, { leaseSeconds: 1 }), async () =>
        (await rows()).every((d) => d.status === 'sent'),
      )
      const delivered = await rows()
      expect(delivered).toHaveLength(12)
      // Every message accepted once by the receiver, none lost.
      expect(new Set(receiver.accepted.keys())).toEqual(new Set(delivered.map((d) => d.id)))
      // The sends the kill interrupted were sent again, with their key: attempts ≥ 2, and the receiver saw the key twice.
      for (const d of delivered.filter((d) => inFlight.has(d.id))) {
        expect(d.attempts).toBeGreaterThanOrEqual(2)
        expect(receiver.requests.filter((r) => r.key === d.id).length).toBeGreaterThanOrEqual(2)
      }
      expect(inFlight.size).toBeGreaterThanOrEqual(4)
    } finally {
      await receiver.close()
    }
  })
})
