import { createHmac, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createLogger } from '../../src/lib/logger.ts'
import { AlertDispatcher, DISPATCHER_DEFAULTS, type DispatcherOptions } from '../../src/modules/alerts/dispatcher.ts'
import { type AlertEvent, recordEvents } from '../../src/modules/alerts/events.ts'
import { ORIGIN, type TestContext } from '../harness.ts'

/** A deterministic stream of numbers in [0, 1): the receiver's faults are the same at every run. */
export function seeded(seed: number) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export type Received = { key: string; body: string; headers: IncomingMessage['headers']; at: number }

/**
 * A local HTTP receiver as a webhook's (or a Teams Workflows endpoint's) owner runs one: it keeps
 * what it accepted by Idempotency-Key (a resend of a key it holds is acknowledged, not kept again).
 * Faults: `failRate` of requests answer 500 before accepting, `timeoutRate` accept and then never
 * answer (a lost answer: the sender must resend, the key makes that harmless).
 */
export async function startReceiver(
  options: {
    failRate?: number
    timeoutRate?: number
    seed?: number
    /** Refuses a body with 400 and the reason (the Teams stand-in checks the card). */
    validate?: (body: unknown, raw: string) => string | undefined
  } = {},
) {
  const random = seeded(options.seed ?? 1)
  const accepted = new Map<string, Received>()
  const requests: Received[] = []
  const hanging = new Set<ServerResponse>()
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (c: Buffer) => chunks.push(c))
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      const key = String(request.headers['idempotency-key'] ?? '')
      const received = { key, body, headers: request.headers, at: Date.now() }
      requests.push(received)
      const roll = random()
      if (roll < (options.failRate ?? 0)) {
        response.writeHead(500).end('receiver failed')
        return
      }
      const refused = options.validate?.(JSON.parse(body) as unknown, body)
      if (refused) {
        response.writeHead(400).end(refused)
        return
      }
      if (!accepted.has(key)) accepted.set(key, received)
      if (roll < (options.failRate ?? 0) + (options.timeoutRate ?? 0)) {
        hanging.add(response)
        return
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/hooks/secret-path-${port}`,
    accepted,
    requests,
    close: async () => {
      for (const response of hanging) response.destroy()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** The verification recipe of docs/api.md ("Verifying a webhook"), as a receiver would write it. */
export function verifySignature(
  secret: string,
  header: string,
  rawBody: string,
  toleranceSeconds = 300,
  now = Date.now(),
) {
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=', 2) as [string, string]))
  const t = Number(parts.t)
  if (!Number.isInteger(t) || Math.abs(now / 1000 - t) > toleranceSeconds) return false
  const expected = createHmac('sha256', secret).update(`${parts.t}.${rawBody}`).digest()
  const given = Buffer.from(parts.v1 ?? '', 'hex')
  return given.length === expected.length && timingSafeEqual(given, expected)
}

/** A dispatcher driven by hand, with short timeouts and back-off (the receivers are local). */
export function testDispatcher(ctx: TestContext, options: Partial<DispatcherOptions> = {}) {
  const logger = createLogger('silent', { write: () => {} })
  return new AlertDispatcher(ctx.db, ctx.secrets, logger, {
    ...DISPATCHER_DEFAULTS,
    consoleUrl: 'https://atlas.example.com',
    mail: undefined,
    timeoutMs: 300,
    backoffBaseSeconds: 0.01,
    backoffMaxSeconds: 0.05,
    concurrency: 8,
    ...options,
  })
}

/** Passes until `done` holds (each pass is real work: a bounded number of them, no clock). */
export async function dispatchUntil(dispatcher: AlertDispatcher, done: () => Promise<boolean>, maxPasses = 2_000) {
  for (let pass = 0; pass < maxPasses; pass++) {
    await dispatcher.tick()
    if (await done()) return pass + 1
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  throw new Error(`not done after ${maxPasses} dispatcher passes`)
}

export async function record(ctx: TestContext, events: AlertEvent[]) {
  await ctx.db.transaction((tx) => recordEvents(tx, events))
}

export const changeEvent = (tenantId: string, actor: string, n: number): AlertEvent => ({
  tenantId,
  kind: 'object.changed',
  severity: 'low',
  actor: { user_principal_name: actor },
  subject: {
    type: 'deviceConfiguration',
    id: `00000000-0000-7000-8000-${String(n).padStart(12, '0')}`,
    name: `Policy ${n}`,
  },
  summary: `changed Policy ${n}`,
  link: `/t/${tenantId}/inventory/00000000-0000-7000-8000-${String(n).padStart(12, '0')}`,
})

export async function api<T = unknown>(
  ctx: TestContext,
  token: string,
  method: string,
  url: string,
  payload?: unknown,
): Promise<{ status: number; body: T; raw: string }> {
  const response = await ctx.request({
    method: method,
    url,
    token,
    headers: { origin: ORIGIN },
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  })
  return {
    status: response.statusCode,
    body: (response.body ? JSON.parse(response.body) : null) as T,
    raw: response.body,
  }
}
