import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { sql } from 'drizzle-orm'
import { openPostgres } from '../src/db/engine.ts'
import { runMigrations } from '../src/db/migrate.ts'
import { alertChannels, alertRules } from '../src/db/schema.ts'
import { getPolicyType } from '../src/graph/policy-types.ts'
import { SecretBox } from '../src/lib/crypto.ts'
import { uuidv7 } from '../src/lib/ids.ts'
import { createLogger } from '../src/lib/logger.ts'
import { AlertDispatcher, DISPATCHER_DEFAULTS } from '../src/modules/alerts/dispatcher.ts'
import { type AlertEvent, type ChangeRow, recordChangeEvents, recordEvents } from '../src/modules/alerts/events.ts'
import { releaseRunEvents } from '../src/modules/alerts/repository.ts'
import { sealChannel } from '../src/modules/alerts/secrets.ts'
import type { NormalisedItem } from '../src/modules/inventory/normalise.ts'
import { addTenant } from '../src/modules/tenants/add-tenant.ts'
import { APP_KEY, withFreshPostgres } from './lib.ts'

/**
 * Alerts (issue 26): (1) the events outbox's cost on a 10,000-object write — the inventory store's
 * page writes (100 objects a page, as the sync writes them: upsert, content, version, change entry)
 * timed, and the alert-event insert of the same pages' change entries timed alone, as a share of it;
 * (2) messages for 10,000 changes by 3 actors in one sync (one routing pass, 2 rules); (3) delivery
 * throughput to a local HTTP receiver (1,000 messages, 16 at a time); (4) event → delivered latency
 * after the sync ends: 20 runs' events released as finishRun releases them, with the dispatcher's
 * default 1 s pass, p50/p95 of receipt − release.
 */

const OBJECTS = Number(process.env.BENCH_ALERT_OBJECTS ?? 10_000)
const PAGE = 100
const pct = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.ceil((p / 100) * values.length) - 1]!

async function receiver() {
  const received = new Map<string, number>()
  const server = createServer((request, response) => {
    request.resume()
    request.on('end', () => {
      received.set(String(request.headers['idempotency-key']), performance.now())
      response.writeHead(200).end('{}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}/hook`, received, close: () => new Promise((r) => server.close(r)) }
}

export async function runAlertsBench() {
  return withFreshPostgres(async (url) => {
    const handle = openPostgres(url, 8)
    const secrets = new SecretBox(Buffer.from(APP_KEY, 'base64'))
    const db = handle.db
    const hook = await receiver()
    try {
      await runMigrations(handle)
      const tenant = await addTenant(
        db,
        secrets,
        { kind: 'system' },
        {
          name: 'Bench',
          entra_tenant_id: crypto.randomUUID(),
          client_id: crypto.randomUUID(),
          client_secret: 'bench',
          cloud: 'emulator',
        },
      )
      // (1) The store's writes of 10,000 objects vs the events of their change entries.
      const { writePage } = await import('../src/modules/inventory/store.ts')
      const entry = getPolicyType('deviceConfiguration')
      const runId = uuidv7()
      await db.execute(sql`INSERT INTO operation_runs (id, tenant_id, type, status, identity_key, context, started_at, attempt)
        VALUES (${runId}, ${tenant.id}, 'inventory.sync', 'running', ${runId}, '{}', now(), 1)`)
      const item = (i: number, v: number): NormalisedItem => ({
        externalId: `obj-${i}`,
        displayName: `Object ${i}`,
        platform: 'windows',
        payload: { displayName: `Object ${i}`, passwordMinimumLength: 8 + v, description: `v${v}` },
        assignments: [],
        contentHash: `h-${i}-${v}`,
        graphLastModifiedAt: null,
        references: [],
        definitions: [],
      })
      const scope = { tenantId: tenant.id, runId, attempt: 1, entry }
      for (let p = 0; p < OBJECTS; p += PAGE)
        await writePage(
          db,
          scope,
          Array.from({ length: PAGE }, (_, k) => item(p + k, 0)),
        )
      await db.execute(sql`INSERT INTO inventory_type_states (tenant_id, policy_type, last_run_id, last_synced_at, item_count)
        VALUES (${tenant.id}, ${entry.key}, ${runId}, now(), ${OBJECTS})`)
      let storeMs = 0
      for (let p = 0; p < OBJECTS; p += PAGE) {
        const t = performance.now()
        await writePage(
          db,
          scope,
          Array.from({ length: PAGE }, (_, k) => item(p + k, 1)),
        )
        storeMs += performance.now() - t
      }
      const { rows: changes } = await db.execute<ChangeRow>(sql`
        SELECT id, item_id, kind, display_name FROM inventory_changes WHERE tenant_id = ${tenant.id} AND kind = 'updated'`)
      let eventsMs = 0
      for (let p = 0; p < changes.length; p += PAGE) {
        const t = performance.now()
        await db.transaction((tx) =>
          recordChangeEvents(tx, { tenantId: tenant.id, runId, policyType: entry.key }, changes.slice(p, p + PAGE)),
        )
        eventsMs += performance.now() - t
      }
      // The store's writes included the events of the updates already: the share is events / (store − events).
      const overheadPct = (eventsMs / (storeMs - eventsMs)) * 100
      await db.execute(sql`DELETE FROM alert_events`)

      // (2) Messages for 10,000 changes by 3 actors: 2 rules.
      const channelId = uuidv7()
      await db.insert(alertChannels).values({
        id: channelId,
        kind: 'webhook',
        name: 'Bench receiver',
        targetMasked: 'http://127.0.0.1/…',
        ...sealChannel(secrets, channelId, hook.url, 'bench-secret-0123456789'),
      })
      for (const events of [['object.changed'], ['object.changed', 'object.created']])
        await db.insert(alertRules).values({
          id: uuidv7(),
          name: events.join('+'),
          events,
          tenants: { all: true },
          channelIds: [channelId],
          windowSeconds: 300,
        })
      const actors = ['jane@contoso.com', 'omar@contoso.com', 'li@contoso.com']
      const event = (i: number, actor: string, run: string | null): AlertEvent => ({
        tenantId: tenant.id,
        kind: 'object.changed',
        severity: 'low',
        actor: { user_principal_name: actor },
        runId: run,
        subject: { type: entry.key, id: crypto.randomUUID(), name: `Object ${i}` },
        summary: `changed Object ${i}`,
        link: `/t/${tenant.id}/inventory/x`,
      })
      await db.transaction((tx) =>
        recordEvents(
          tx,
          changes.slice(0, OBJECTS).map((_, i) => event(i, actors[i % 3]!, null)),
        ),
      )
      const dispatcher = new AlertDispatcher(db, secrets, createLogger('silent'), {
        ...DISPATCHER_DEFAULTS,
        consoleUrl: 'https://atlas.example.com',
        mail: undefined,
      })
      const routeStart = performance.now()
      await dispatcher.tick()
      const routeMs = performance.now() - routeStart
      const { rows: messages } = await db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM alert_messages`)

      // (3) Throughput: 1,000 messages (1,000 actors, window 0 on a third rule).
      await db.execute(sql`UPDATE alert_rules SET events = '{object.removed}'`)
      await db.insert(alertRules).values({
        id: uuidv7(),
        name: 'throughput',
        events: ['object.created'],
        tenants: { all: true },
        channelIds: [channelId],
        windowSeconds: 0,
      })
      const before = hook.received.size
      await db.transaction((tx) =>
        recordEvents(
          tx,
          Array.from({ length: 1000 }, (_, i) => ({
            ...event(i, `p${i}@contoso.com`, null),
            kind: 'object.created' as const,
          })),
        ),
      )
      const sendStart = performance.now()
      while (hook.received.size < before + 1000) await dispatcher.tick()
      const perSecond = 1000 / ((performance.now() - sendStart) / 1000)

      // (4) Latency after the sync ends: events held by a run, released as finishRun releases them.
      dispatcher.start()
      const latencies: number[] = []
      for (let trial = 0; trial < 20; trial++) {
        const run = uuidv7()
        await db.transaction((tx) =>
          recordEvents(
            tx,
            Array.from({ length: 50 }, (_, i) => ({
              ...event(i, `t${trial}@contoso.com`, run),
              kind: 'object.created' as const,
            })),
          ),
        )
        const keysBefore = new Set(hook.received.keys())
        const released = performance.now()
        await db.transaction((tx) => releaseRunEvents(tx, run))
        while ([...hook.received.keys()].every((k) => keysBefore.has(k))) await new Promise((r) => setTimeout(r, 10))
        const key = [...hook.received.keys()].find((k) => !keysBefore.has(k))!
        latencies.push(hook.received.get(key)! - released)
      }
      await dispatcher.stop()
      return {
        objects: OBJECTS,
        storeWriteMs: Math.round(storeMs),
        eventRecordingMs: Math.round(eventsMs),
        eventOverheadPct: Math.round(overheadPct * 10) / 10,
        messagesFor10000Changes: messages[0]!.n,
        routingPassMs: Math.round(routeMs),
        deliveriesPerSecond: Math.round(perSecond),
        latencyAfterSyncEndP50Ms: Math.round(pct(latencies, 50)),
        latencyAfterSyncEndP95Ms: Math.round(pct(latencies, 95)),
      }
    } finally {
      await hook.close()
      await handle.close()
    }
  })
}

export function printAlerts(r: Awaited<ReturnType<typeof runAlertsBench>>) {
  console.log('\nAlerts (issue 26)')
  for (const [k, v] of Object.entries(r)) console.log(`  ${k.padEnd(34)}${String(v).padStart(10)}`)
}
