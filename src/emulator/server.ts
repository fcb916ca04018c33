import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { createTenant, handleControl, summary, type NewTenantInput } from './control-routes.ts'
import type { EmulatedTenant } from './emulated-tenant.ts'
import { EmulatorState } from './emulator-state.ts'
import { graphError, handleGraph, type GraphResponse } from './graph-routes.ts'
import { instanceDiscovery, issueToken, openIdConfiguration, type Reply } from './login-routes.ts'
import type { TokenClaims } from './tokens.ts'
import { oidcControl } from './oidc-provider.ts'
import { oidcRoute, sendOidc } from './oidc-routes.ts'

/**
 * The Microsoft Graph + login emulator (docs/emulator.md) on node:http: no framework, because
 * its cost per request is what bounds the benchmarks that use it.
 */

export type EmulatorServer = {
  url: string
  port: number
  state: EmulatorState
  /** Creates an emulated tenant in-process (same as `POST /_emulator/tenants`). */
  addTenant(input: NewTenantInput): ReturnType<typeof summary>
  tenant(tenantId: string): EmulatedTenant | undefined
  close(): Promise<void>
}

export const MAX_BATCH = 20
const MAX_BODY = 4 * 1024 * 1024

export async function startEmulator(options: { port?: number; host?: string } = {}): Promise<EmulatorServer> {
  const state = new EmulatorState()
  const server = createServer((req, res) => {
    handle(state, req, res).catch((error: unknown) => {
      // A bug in the emulator must show up in the test that hit it, as a 500 with the reason.
      if (!res.headersSent)
        send(res, 500, {
          error: { code: 'emulator_error', message: error instanceof Error ? error.message : String(error) },
        })
      else res.destroy()
    })
  })
  server.keepAliveTimeout = 30_000
  const host = options.host ?? '127.0.0.1'
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, resolve)
  })
  const { port } = server.address() as AddressInfo
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`
  return {
    url,
    port,
    state,
    addTenant: (input) => summary(createTenant(state, input)),
    tenant: (id) => state.tenants.get(id),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()))
        server.closeAllConnections()
      }),
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  if (status === 204 || body === null) {
    res.writeHead(status, headers)
    res.end()
    return
  }
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  })
  res.end(text)
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY) throw new Error('request body too large')
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks).toString('utf8')
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined
  try {
    return JSON.parse(text)
  } catch {
    return Symbol.for('invalid-json')
  }
}

async function delay(state: EmulatorState) {
  const { latency_ms, jitter_ms } = state.faults
  const ms = latency_ms + (jitter_ms > 0 ? Math.random() * jitter_ms : 0)
  if (ms > 0) await sleep(ms)
}

async function handle(state: EmulatorState, req: IncomingMessage, res: ServerResponse) {
  const method = req.method ?? 'GET'
  const path = (req.url ?? '/').split('?')[0]!
  const segments = path.split('/').filter(Boolean)
  const text = await readBody(req)
  const host = req.headers.host ?? '127.0.0.1'
  const base = `http://${host}`

  if (segments[0] === '_emulator') {
    const body = parseJson(text)
    if (typeof body === 'symbol')
      return send(res, 400, { error: { code: 'invalid_request', message: 'body: invalid JSON' } })
    if (segments[1] === 'oidc') return sendOidc(res, oidcControl(state, method, segments.slice(2), body))
    const query = new URLSearchParams((req.url ?? '').includes('?') ? req.url!.slice(req.url!.indexOf('?') + 1) : '')
    const reply = handleControl(state, method, segments.slice(1).map(decodeURIComponent), body, query)
    state.stats.record('control', 'stream' in reply ? 200 : reply.status)
    if ('stream' in reply) {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' })
      for (const chunk of reply.stream)
        if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve))
      res.end()
      return
    }
    return send(res, reply.status, reply.body, reply.headers)
  }

  await delay(state)
  if (segments[0] === 'v1.0' || segments[0] === 'beta') return graph(state, req, res, method, segments, text, base)

  // Login: MSAL reaches the emulator through a network client that names the public host it
  // thinks it is talking to; discovery documents must use that host so MSAL accepts them.
  const forwardedHost = headerValue(req, 'x-forwarded-host')
  const issuerBase = forwardedHost ? `${headerValue(req, 'x-forwarded-proto') ?? 'https'}://${forwardedHost}` : base
  const oidc = oidcRoute(state, req, method, segments, text, issuerBase)
  if (oidc) {
    state.stats.record(oidc.kind, oidc.reply.status)
    return sendOidc(res, oidc.reply)
  }
  let reply: Reply
  if (
    method === 'POST' &&
    segments.length === 4 &&
    segments[1] === 'oauth2' &&
    segments[2] === 'v2.0' &&
    segments[3] === 'token'
  ) {
    reply = issueToken(state, decodeURIComponent(segments[0]!), new URLSearchParams(text), issuerBase)
    state.stats.record('token', reply.status)
  } else if (method === 'GET' && path.endsWith('/v2.0/.well-known/openid-configuration') && segments.length === 4) {
    reply = openIdConfiguration(state, decodeURIComponent(segments[0]!), issuerBase)
    state.stats.record('discovery', reply.status)
  } else if (method === 'GET' && path === '/common/discovery/instance') {
    reply = instanceDiscovery(issuerBase, forwardedHost ?? host)
    state.stats.record('discovery', reply.status)
  } else {
    reply = { status: 404, body: { error: 'not_found', error_description: `No route for ${method} ${path}` } }
    state.stats.record('other', 404)
  }
  send(res, reply.status, reply.body, reply.headers)
}

const headerValue = (req: IncomingMessage, name: string) => {
  const v = req.headers[name]
  return Array.isArray(v) ? v[0] : v
}

function authenticate(
  state: EmulatorState,
  req: IncomingMessage,
): { claims: TokenClaims; tenant: EmulatedTenant } | GraphResponse {
  const header = headerValue(req, 'authorization') ?? ''
  if (!header.startsWith('Bearer ')) return graphError(401, 'InvalidAuthenticationToken', 'Access token is empty.')
  const claims = state.signer.verify(header.slice(7))
  if (!claims)
    return graphError(401, 'InvalidAuthenticationToken', 'Access token validation failure. Invalid audience.')
  if (claims.exp * 1000 <= Date.now())
    return graphError(401, 'InvalidAuthenticationToken', 'Lifetime validation failed, the token is expired.')
  const tenant = state.tenants.get(claims.tid)
  if (!tenant) return graphError(401, 'InvalidAuthenticationToken', 'The tenant of this token no longer exists.')
  return { claims, tenant }
}

function sendGraph(res: ServerResponse, reply: GraphResponse, req: IncomingMessage) {
  const clientRequestId = headerValue(req, 'client-request-id')
  send(res, reply.status, reply.body, {
    ...reply.headers,
    ...(clientRequestId ? { 'client-request-id': clientRequestId } : {}),
  })
}

function graph(
  state: EmulatorState,
  req: IncomingMessage,
  res: ServerResponse,
  method: string,
  segments: string[],
  text: string,
  base: string,
) {
  const auth = authenticate(state, req)
  if ('status' in auth) {
    state.stats.record('other', auth.status, { graph: true })
    return sendGraph(res, auth, req)
  }
  const body = parseJson(text)
  if (typeof body === 'symbol') return sendGraph(res, graphError(400, 'BadRequest', 'Invalid JSON body'), req)
  const version = segments[0]!
  if (segments[1] === '$batch' && segments.length === 2) {
    if (method !== 'POST') return sendGraph(res, graphError(405, 'BadRequest', 'Use POST for $batch'), req)
    const { reply, writes } = batch(state, auth, version, body, base)
    state.stats.record('batch', reply.status)
    if (writes.some((status) => dropsResponse(state, status))) return drop(state, res)
    return sendGraph(res, reply, req)
  }
  const reply = handleGraph(
    state,
    auth.tenant,
    auth.claims,
    method,
    req.url ?? '/',
    base,
    body,
    headerValue(req, 'client-request-id'),
  )
  state.stats.record(reply.kind, reply.status, { graph: true })
  if (reply.kind === 'write' && dropsResponse(state, reply.status)) return drop(state, res)
  sendGraph(res, reply, req)
}

/** Whether `drop_response_rate` loses the response of a write that was applied (a 2xx). */
const dropsResponse = (state: EmulatorState, status: number) =>
  status >= 200 &&
  status < 300 &&
  state.faults.drop_response_rate > 0 &&
  Math.random() < state.faults.drop_response_rate

/**
 * A lost response: the write is applied, then the connection is destroyed before a byte of the
 * answer is sent. Not a 5xx: a client that gets a status might trust it ("failed, not
 * applied"); a reset, like a timeout, tells it nothing, which is the case it must reconcile
 * (read Graph back) before retrying.
 */
function drop(state: EmulatorState, res: ServerResponse) {
  state.stats.dropped++
  res.socket?.destroy()
}

type BatchMember = { id: string; method: string; url: string; body?: unknown; headers?: Record<string, string> }

/**
 * A member's `id` is documented as a string (https://learn.microsoft.com/graph/json-batching), but
 * Graph also takes a JSON number and answers with it as a string; clients such as IntuneCD send numbers.
 */
const memberId = (id: unknown) =>
  typeof id === 'string' && id !== '' ? id : typeof id === 'number' && Number.isFinite(id) ? String(id) : undefined

/** A `$batch` and the statuses of its write members (a lost response loses them all). */
function batch(
  state: EmulatorState,
  auth: { claims: TokenClaims; tenant: EmulatedTenant },
  version: string,
  body: unknown,
  base: string,
): { reply: GraphResponse; writes: number[] } {
  const writes: number[] = []
  const fail = (reply: GraphResponse) => ({ reply, writes })
  const requests = (body as { requests?: unknown } | undefined)?.requests
  if (!Array.isArray(requests))
    return fail(graphError(400, 'BadRequest', 'Invalid batch payload: requests must be an array.', 'batch'))
  if (requests.length > MAX_BATCH)
    return fail(
      graphError(
        400,
        'BadRequest',
        `Invalid batch payload format: the number of requests exceeds the limit of ${MAX_BATCH}.`,
        'batch',
      ),
    )
  const members: BatchMember[] = []
  const ids = new Set<string>()
  for (const m of requests as Partial<Record<keyof BatchMember, unknown>>[]) {
    const id = memberId(m?.id)
    if (id === undefined || typeof m.url !== 'string' || typeof m.method !== 'string')
      return fail(
        graphError(400, 'BadRequest', 'Invalid batch payload: each request needs id, method and url.', 'batch'),
      )
    // Ids are compared case-insensitively and must be unique in the batch.
    if (ids.has(id.toLowerCase()))
      return fail(graphError(400, 'BadRequest', `Invalid batch payload: duplicate request id '${id}'.`, 'batch'))
    ids.add(id.toLowerCase())
    const headers =
      typeof m.headers === 'object' && m.headers !== null ? (m.headers as Record<string, string>) : undefined
    members.push({ id, method: m.method, url: m.url, body: m.body, ...(headers ? { headers } : {}) })
  }
  const responses = members.map((m) => {
    if (/^https?:/i.test(m.url)) {
      const reply = graphError(400, 'BadRequest', 'Batch request urls must be relative.', 'other')
      return { id: m.id, status: reply.status, headers: { 'Content-Type': 'application/json' }, body: reply.body }
    }
    const url = `/${version}${m.url.startsWith('/') ? '' : '/'}${m.url}`
    const memberRequestId = m.headers
      ? Object.entries(m.headers).find(([k]) => k.toLowerCase() === 'client-request-id')?.[1]
      : undefined
    const reply = handleGraph(
      state,
      auth.tenant,
      auth.claims,
      m.method.toUpperCase(),
      url,
      base,
      m.body,
      typeof memberRequestId === 'string' ? memberRequestId : undefined,
    )
    state.stats.record(reply.kind, reply.status, { member: true, graph: true })
    if (reply.kind === 'write') writes.push(reply.status)
    const headers: Record<string, string> = { 'Content-Type': 'application/json' }
    if (reply.headers['Retry-After']) headers['Retry-After'] = reply.headers['Retry-After']
    return { id: m.id, status: reply.status, headers, body: reply.body }
  })
  return { reply: { status: 200, kind: 'batch', headers: {}, body: { responses } }, writes }
}
