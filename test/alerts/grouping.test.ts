import { and, eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { alertDeliveries, alertMessages, inventoryItems } from '../../src/db/schema.ts'
import { control } from '../graph/emulator-helpers.ts'
import type { TestContext } from '../harness.ts'
import { startBulk } from '../bulk/helpers.ts'
import { connectTenant, inventoryContext, syncAndWait, waitForCompletion } from '../inventory/helpers.ts'
import { api, dispatchUntil, startReceiver, testDispatcher } from './helpers.ts'

let env: Awaited<ReturnType<typeof inventoryContext>>
let ctx: TestContext
let tenant: Awaited<ReturnType<typeof connectTenant>>
let admin: string
let receiver: Awaited<ReturnType<typeof startReceiver>>
let channelId: string

const ONLY_PROFILES = { policy_types: ['deviceConfiguration'], include_foundations: false, include_dependencies: false }
const ACTORS = ['jane@contoso.com', 'omar@contoso.com', 'li@contoso.com']

beforeAll(async () => {
  env = await inventoryContext()
  ctx = env.ctx
  tenant = await connectTenant(ctx, env.emulator, { policies: 20 })
  expect((await syncAndWait(ctx, tenant.tenantId, tenant.token, ONLY_PROFILES)).outcome).toBe('succeeded')
  admin = (await ctx.factories.userWithToken({ isAdmin: true })).token
  receiver = await startReceiver()
  const channel = await api<{ id: string }>(ctx, admin, 'POST', '/api/alert-channels', {
    kind: 'webhook',
    name: 'Receiver',
    url: receiver.url,
  })
  channelId = channel.body.id
}, 120_000)
afterAll(async () => Promise.all([env.close(), receiver.close()]))

async function rule(name: string, body: Record<string, unknown>) {
  const created = await api<{ id: string }>(ctx, admin, 'POST', '/api/alert-rules', {
    name,
    tenants: { tenant_ids: [tenant.tenantId] },
    channel_ids: [channelId],
    ...body,
  })
  expect(created.status, created.raw).toBe(201)
  return created.body.id
}

type Body = {
  rule: { id: string }
  actor: string
  event_count: number
  headline: string
  events: { planned: boolean; kind: string; actor: Record<string, unknown> }[]
}

const bodiesOf = (ruleId: string) =>
  [...receiver.accepted.values()].map((r) => JSON.parse(r.body) as Body).filter((b) => b.rule.id === ruleId)

const messagesOf = (ruleId: string) => ctx.db.select().from(alertMessages).where(eq(alertMessages.ruleId, ruleId))

const everythingSent = async () => {
  const rows = await ctx.db.select().from(alertDeliveries)
  // Routed events wait in a collecting message until a later pass seals it and makes its deliveries: done is
  // nothing unrouted, nothing collecting, and every delivery sent.
  const open = await ctx.db.execute<{ n: number }>(
    sql`SELECT (SELECT count(*) FROM alert_events WHERE routed_at IS NULL)
      + (SELECT count(*) FROM alert_messages WHERE status = 'collecting') AS n`,
  )
  return Number(open.rows[0]!.n) === 0 && rows.every((d) => d.status === 'sent')
}

describe('grouping a sync’s changes', () => {
  it('1,000 changes by 3 actors in one sync are 3 messages per rule, with who did it', async () => {
    const created = await rule('Created', { events: ['object.created'], window_seconds: 300 })
    const anyChange = await rule('Any change', { events: ['object.created', 'object.changed'], window_seconds: 300 })
    const ids = Array.from({ length: 1000 }, (_, i) => i)
    for (let start = 0; start < ids.length; start += 25)
      await Promise.all(
        ids.slice(start, start + 25).map((i) =>
          control(env.emulator, 'POST', `/tenants/${tenant.entraTenantId}/items`, {
            type: 'deviceConfiguration',
            displayName: `Grouped profile ${i}`,
            actor: { user_principal_name: ACTORS[i % 3] },
          }),
        ),
      )
    const run = await syncAndWait(ctx, tenant.tenantId, tenant.token, ONLY_PROFILES)
    expect(run.outcome).toBe('succeeded')
    await dispatchUntil(testDispatcher(ctx), everythingSent)
    for (const ruleId of [created, anyChange]) {
      const messages = await messagesOf(ruleId)
      expect(messages.map((m) => m.actorKey).sort()).toEqual([...ACTORS].sort())
      expect(messages.map((m) => m.eventCount).sort()).toEqual([333, 333, 334])
      const bodies = bodiesOf(ruleId)
      expect(bodies.map((b) => b.actor).sort()).toEqual([...ACTORS].sort())
      const jane = bodies.find((b) => b.actor === 'jane@contoso.com')!
      expect(jane.headline).toBe(`jane@contoso.com created 334 objects in Emulated ${tenant.entraTenantId.slice(0, 8)}`)
      expect(jane.events.every((e) => e.kind === 'object.created' && !e.planned)).toBe(true)
      expect(jane.events[0]!.actor).toMatchObject({ user_principal_name: 'jane@contoso.com' })
    }
  }, 180_000)

  it('a bulk run’s changes are planned, carry who started it, and a rule excluding planned ones stays silent', async () => {
    const quiet = await rule('Unplanned only', { events: ['object.changed'], planned: 'exclude', window_seconds: 0 })
    const loud = await rule('All changes', { events: ['object.changed'], planned: 'include', window_seconds: 0 })
    const items = await ctx.db
      .select({ id: inventoryItems.id })
      .from(inventoryItems)
      .where(
        and(
          eq(inventoryItems.tenantId, tenant.tenantId),
          eq(inventoryItems.policyType, 'deviceConfiguration'),
          sql`${inventoryItems.removedAt} IS NULL AND ${inventoryItems.displayName} NOT LIKE 'Grouped profile%'`,
        ),
      )
      .orderBy(inventoryItems.id)
      .limit(3)
    expect(items).toHaveLength(3)
    const { run } = await startBulk(ctx, tenant.tenantId, tenant.token, {
      action: 'rename',
      params: { suffix: ' (renamed)' },
      item_ids: items.map((i) => i.id),
    })
    expect((await waitForCompletion(ctx, run.id)).outcome).toBe('succeeded')
    await dispatchUntil(testDispatcher(ctx), everythingSent)
    expect(await messagesOf(quiet)).toEqual([])
    const [message] = bodiesOf(loud)
    expect(bodiesOf(loud)).toHaveLength(1)
    expect(message!.actor).toBe(tenant.owner.email)
    expect(message!.event_count).toBe(3)
    expect(message!.events.every((e) => e.planned && e.actor.run_id === run.id)).toBe(true)
  }, 180_000)
})
