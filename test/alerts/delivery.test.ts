import { eq, sql } from 'drizzle-orm'
import { SMTPServer } from 'smtp-server'
import type { AddressInfo } from 'node:net'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { alertChannels, alertDeliveries } from '../../src/db/schema.ts'
import { createTestContext, type TestContext } from '../harness.ts'
import { ADAPTIVE_CARD_VERSION, TEAMS_MAX_BYTES } from '../../src/modules/alerts/channel-teams.ts'
import { api, changeEvent, dispatchUntil, record, startReceiver, testDispatcher, verifySignature } from './helpers.ts'

let ctx: TestContext
let admin: string
/** Each test's own tenant: rules of one test never see another's events. */
let tenantId: string

beforeAll(async () => {
  ctx = await createTestContext({ worker: false })
  admin = (await ctx.factories.userWithToken({ isAdmin: true })).token
})
beforeEach(async () => {
  tenantId = (await ctx.factories.tenant({ name: 'Contoso' })).id
})
afterAll(async () => ctx.close())

type Channel = { id: string; kind: string; name: string; target: string; secret?: string }
type Delivery = { id: string; status: string; attempts: number; channel_id: string; last_response: string | null }

async function channel(body: Record<string, unknown>) {
  const created = await api<Channel>(ctx, admin, 'POST', '/api/alert-channels', body)
  expect(created.status, created.raw).toBe(201)
  return created.body
}

async function rule(channelIds: string[], extra: Record<string, unknown> = {}) {
  const created = await api<{ id: string }>(ctx, admin, 'POST', '/api/alert-rules', {
    name: `Rule ${channelIds[0]!.slice(-6)}`,
    events: ['object.changed'],
    tenants: { tenant_ids: [tenantId] },
    channel_ids: channelIds,
    window_seconds: 0,
    ...extra,
  })
  expect(created.status, created.raw).toBe(201)
  return created.body
}

const deliveriesOf = (channelId: string) =>
  ctx.db.select().from(alertDeliveries).where(eq(alertDeliveries.channelId, channelId))

const allSettled = (channelId: string) => async () => {
  const rows = await deliveriesOf(channelId)
  return rows.length > 0 && rows.every((d) => d.status === 'sent' || d.status === 'failed')
}

describe('webhook deliveries to a receiver failing half the requests and losing a tenth of the answers', () => {
  it('delivers every message exactly once by Idempotency-Key, none lost, each signed as the docs say', async () => {
    const receiver = await startReceiver({ failRate: 0.5, timeoutRate: 0.1, seed: 26 })
    try {
      const hook = await channel({ kind: 'webhook', name: 'Flaky receiver', url: receiver.url })
      expect(hook.secret).toMatch(/^[\w-]{40,}$/)
      await rule([hook.id])
      // 40 actors: 40 messages (one per tenant, actor and rule).
      await record(
        ctx,
        Array.from({ length: 40 }, (_, i) => changeEvent(tenantId, `person${i}@contoso.com`, i)),
      )
      await dispatchUntil(testDispatcher(ctx), async () => {
        const rows = await deliveriesOf(hook.id)
        return rows.length === 40 && rows.every((d) => d.status === 'sent')
      })
      const rows = await deliveriesOf(hook.id)
      expect(rows).toHaveLength(40)
      expect(new Set(receiver.accepted.keys())).toEqual(new Set(rows.map((d) => d.id)))
      // The faults happened: some deliveries took several attempts, and some keys arrived more than once.
      expect(rows.some((d) => d.attempts > 1)).toBe(true)
      const perKey = new Map<string, number>()
      for (const r of receiver.requests) perKey.set(r.key, (perKey.get(r.key) ?? 0) + 1)
      expect([...perKey.values()].some((n) => n > 1)).toBe(true)
      for (const received of receiver.accepted.values()) {
        const body = JSON.parse(received.body) as {
          schema: string
          id: string
          tenant: { id: string; name: string }
          events: { kind: string; actor: { user_principal_name: string }; link: string; planned: boolean }[]
        }
        expect(body.schema).toBe('tenantatlas.alert/1')
        expect(body.id).toBe(received.key)
        expect(body.tenant).toEqual({ id: tenantId, name: 'Contoso' })
        expect(body.events).toHaveLength(1)
        expect(body.events[0]!.link).toMatch(/^https:\/\/atlas\.example\.com\/t\//)
        expect(verifySignature(hook.secret!, String(received.headers['x-tenantatlas-signature']), received.body)).toBe(
          true,
        )
        expect(
          verifySignature('not-the-secret-at-all', String(received.headers['x-tenantatlas-signature']), received.body),
        ).toBe(false)
      }
    } finally {
      await receiver.close()
    }
  })

  it('gives up after the bounded time, logs the answer, and tells the other channels once (no loop)', async () => {
    const dead = await startReceiver({ failRate: 1 })
    const other = await startReceiver()
    try {
      const failing = await channel({ kind: 'webhook', name: 'Always failing', url: dead.url })
      const fine = await channel({ kind: 'webhook', name: 'Healthy', url: other.url })
      // The failing channel hears of failures too: the news about itself must not go to it, nor loop.
      await rule([failing.id], { events: ['object.changed'], actors: { include: ['gives-up@contoso.com'] } })
      await rule([failing.id, fine.id], { events: ['channel.failed'] })
      await record(ctx, [changeEvent(tenantId, 'gives-up@contoso.com', 1)])
      const dispatcher = testDispatcher(ctx, { giveUpSeconds: 0.3 })
      await dispatchUntil(dispatcher, async () => {
        const failed = await deliveriesOf(failing.id)
        const told = await deliveriesOf(fine.id)
        return failed.length === 1 && failed[0]!.status === 'failed' && told.length === 1 && told[0]!.status === 'sent'
      })
      const [failed] = await deliveriesOf(failing.id)
      expect(failed!.lastResponse).toMatch(/^gave up after \d+ attempts: 500 receiver failed/)
      const log = await api<{ data: Delivery[] }>(ctx, admin, 'GET', `/api/alert-deliveries?channel_id=${failing.id}`)
      expect(log.body.data.map((d) => [d.status, d.last_response])).toEqual([['failed', failed!.lastResponse]])
      // A few more passes: nothing new is raised about the channel-failure message.
      for (let i = 0; i < 5; i++) await dispatcher.tick()
      expect(await deliveriesOf(failing.id)).toHaveLength(1)
      expect(await deliveriesOf(fine.id)).toHaveLength(1)
      const news = JSON.parse([...other.accepted.values()][0]!.body) as {
        events: { kind: string; subject: { id: string } }[]
      }
      expect(news.events.map((e) => [e.kind, e.subject.id])).toEqual([['channel.failed', failing.id]])
    } finally {
      await Promise.all([dead.close(), other.close()])
    }
  })
})

describe('Teams', () => {
  it('sends an Adaptive Card of version 1.4 within Teams’ size limit, linking into the console', async () => {
    const validate = (body: unknown, raw: string) => {
      const message = body as {
        type?: string
        attachments?: { contentType: string; content: { version: string; type: string } }[]
      }
      const card = message.attachments?.[0]
      if (message.type !== 'message' || card?.contentType !== 'application/vnd.microsoft.card.adaptive')
        return 'not a message with an Adaptive Card'
      if (card.content.type !== 'AdaptiveCard' || Number(card.content.version) < 1.4) return 'card version below 1.4'
      if (Buffer.byteLength(raw) > 28 * 1024) return 'message over 28 KB'
      return undefined
    }
    const teams = await startReceiver({ validate })
    try {
      const workflow = await channel({ kind: 'teams', name: 'Intune team', url: teams.url })
      await rule([workflow.id], { actors: { include: ['busy@contoso.com'] } })
      // 1,000 changes of one actor: one message, as many lines as fit, the rest counted.
      await record(
        ctx,
        Array.from({ length: 1000 }, (_, i) => changeEvent(tenantId, 'busy@contoso.com', 10_000 + i)),
      )
      await dispatchUntil(testDispatcher(ctx), allSettled(workflow.id))
      const rows = await deliveriesOf(workflow.id)
      expect(rows.map((d) => [d.status, d.lastResponse])).toEqual([['sent', '200 {"ok":true}']])
      const raw = [...teams.accepted.values()][0]!.body
      expect(Buffer.byteLength(raw)).toBeLessThanOrEqual(TEAMS_MAX_BYTES)
      const card = (JSON.parse(raw) as { attachments: { content: Record<string, unknown> }[] }).attachments[0]!
        .content as {
        version: string
        body: { type: string; text?: string; facts?: { title: string; value: string }[] }[]
        actions: { type: string; url: string }[]
      }
      expect(card.version).toBe(ADAPTIVE_CARD_VERSION)
      expect(card.body[0]!.text).toBe('busy@contoso.com changed 1000 objects in Contoso')
      expect(card.body[1]!.facts).toContainEqual({ title: 'Events', value: '1000' })
      expect(card.body.at(-1)!.text).toMatch(/^…and \d+ more$/)
      expect(card.body.filter((b) => b.text?.includes('[diff](https://atlas.example.com/t/')).length).toBeGreaterThan(
        10,
      )
      expect(card.actions[0]).toEqual({
        type: 'Action.OpenUrl',
        title: 'Open in TenantAtlas',
        url: `https://atlas.example.com/t/${tenantId}/changes`,
      })
    } finally {
      await teams.close()
    }
  })
})

/** The SMTP server's own certificate for STARTTLS (smtp-server's built-in one is refused with a warning). */
function selfSignedCertificate() {
  const dir = mkdtempSync(path.join(tmpdir(), 'smtp-cert-'))
  const key = path.join(dir, 'key.pem')
  const cert = path.join(dir, 'cert.pem')
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
    ],
    { stdio: 'ignore' },
  )
  return { key: readFileSync(key), cert: readFileSync(cert) }
}

describe('e-mail over SMTP', () => {
  it('sends text and HTML through a real SMTP server with STARTTLS and authentication', async () => {
    const mails: { from: string; to: string[]; raw: string; secure: boolean; user: string | undefined }[] = []
    const server = new SMTPServer({
      ...selfSignedCertificate(),
      authOptional: false,
      onAuth(auth, _session, callback) {
        if (auth.username === 'alerts' && auth.password === 'smtp-password') callback(null, { user: 'alerts' })
        else callback(new Error('Invalid username or password'))
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = []
        stream.on('data', (c: Buffer) => chunks.push(c))
        stream.on('end', () => {
          mails.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks).toString('utf8'),
            secure: session.secure,
            user: session.user as string | undefined,
          })
          callback()
        })
      },
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.server.address() as AddressInfo
    try {
      const mail = await channel({ kind: 'email', name: 'Intune mailbox', to: ['intune-team@contoso.com'] })
      expect(mail.target).toBe('i…@contoso.com')
      await rule([mail.id], { actors: { include: ['mailer@contoso.com'] } })
      await record(ctx, [
        changeEvent(tenantId, 'mailer@contoso.com', 7),
        changeEvent(tenantId, 'mailer@contoso.com', 8),
      ])
      const dispatcher = testDispatcher(ctx, {
        timeoutMs: 5_000,
        mail: {
          // The test server's certificate is self-signed: STARTTLS without verification, here only.
          smtpUrl: `smtp://alerts:smtp-password@127.0.0.1:${port}/?tls.rejectUnauthorized=false&requireTLS=true`,
          from: 'TenantAtlas <alerts@tenantatlas.example>',
        },
      })
      await dispatchUntil(dispatcher, allSettled(mail.id))
      const rows = await deliveriesOf(mail.id)
      expect(rows.map((d) => d.status)).toEqual(['sent'])
      expect(mails).toHaveLength(1)
      const [sent] = mails
      expect(sent!.secure).toBe(true)
      expect(sent!.user).toBe('alerts')
      expect(sent!.to).toEqual(['intune-team@contoso.com'])
      expect(sent!.raw).toContain(`Message-ID: <${rows[0]!.id}@tenantatlas>`)
      expect(sent!.raw).toMatch(/Content-Type: text\/plain/)
      expect(sent!.raw).toMatch(/Content-Type: text\/html/)
      expect(sent!.raw).toContain('mailer@contoso.com changed 2 objects in Contoso')
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  })
})

describe('secrets', () => {
  it('never returns or logs a channel URL or secret, and stores them encrypted', async () => {
    const url = 'https://prod-12.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?sig=TOPSECRETSIG'
    const secret = 'a-webhook-secret-of-our-own-1234'
    const created = await api<Channel>(ctx, admin, 'POST', '/api/alert-channels', {
      kind: 'webhook',
      name: 'Given secret',
      url,
      secret,
    })
    expect(created.status).toBe(201)
    expect(created.body.target).toBe('https://prod-12.westeurope.logic.azure.com/…')
    expect(created.body.secret).toBeUndefined()
    const teams = await api<Channel>(ctx, admin, 'POST', '/api/alert-channels', { kind: 'teams', name: 'T', url })
    const renamed = await api<Channel>(ctx, admin, 'PATCH', `/api/alert-channels/${created.body.id}`, {
      name: 'Renamed',
    })
    const list = await api(ctx, admin, 'GET', '/api/alert-channels')
    for (const raw of [created.raw, teams.raw, renamed.raw, list.raw, ctx.logs.join('\n')]) {
      expect(raw).not.toContain('TOPSECRETSIG')
      expect(raw).not.toContain(secret)
    }
    const { rows } = await ctx.db.execute(sql`SELECT * FROM alert_channels`)
    expect(JSON.stringify(rows)).not.toContain('TOPSECRETSIG')
    expect(JSON.stringify(rows)).not.toContain(secret)
    // Bound to its row: a target copied into another channel does not open.
    const [a] = await ctx.db.select().from(alertChannels).where(eq(alertChannels.id, created.body.id))
    expect(() => ctx.secrets.decrypt(a!.targetEncrypted, `alert-channel:${teams.body.id}`)).toThrow()
  })

  it('names the field of a bad channel or rule body', async () => {
    const bad = await api<{ error: { details: { fields: { field: string }[] } } }>(
      ctx,
      admin,
      'POST',
      '/api/alert-channels',
      {
        kind: 'webhook',
        name: 'x',
        url: 'ftp://nope',
      },
    )
    expect(bad.status).toBe(422)
    expect(bad.body.error.details.fields.map((d) => d.field)).toEqual(['url'])
    const rule = await api<{ error: { details: { fields: { field: string }[] } } }>(
      ctx,
      admin,
      'POST',
      '/api/alert-rules',
      {
        name: 'x',
        events: ['object.changed'],
        tenants: { all: true },
        channel_ids: ['0195f3c2-0000-7000-8000-000000000000'],
      },
    )
    expect(rule.status).toBe(422)
    expect(rule.body.error.details.fields.map((d) => d.field)).toEqual(['channel_ids.0'])
  })
})
