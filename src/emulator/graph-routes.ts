import { randomUUID } from 'node:crypto'
import { GROUP_TYPE, POLICY_TYPES, type PolicyTypeEntry } from '../graph/policy-types.ts'
import type { EmulatedTenant, TenantObject } from './emulated-tenant.ts'
import type { EmulatorState, PathKind } from './emulator-state.ts'
import { SHAPES } from './shapes.ts'
import type { TokenClaims } from './tokens.ts'

/**
 * Microsoft Graph for one authenticated request (a direct request or a `$batch` member):
 * every route is derived from the policy type catalog.
 */

export type GraphResponse = { status: number; headers: Record<string, string>; body: unknown; kind: PathKind }

type Collection = { path: string; entries: PolicyTypeEntry[]; odataType?: string }

const VERSIONS = new Set(['v1.0', 'beta'])
const MAX_TOP = 999
const SUB_PAGE = 100

/** Collection path → the catalog entries it serves (several types share deviceConfigurations). */
const COLLECTIONS = new Map<string, Collection>()
for (const entry of POLICY_TYPES) {
  if (!entry.listable) continue
  const existing = COLLECTIONS.get(entry.path)
  if (existing) existing.entries.push(entry)
  else COLLECTIONS.set(entry.path, { path: entry.path, entries: [entry] })
  for (const [odataType, path] of Object.entries(entry.itemCollections ?? {})) COLLECTIONS.set(path, { path, entries: [entry], odataType })
}

export function graphError(status: number, code: string, message: string, kind: PathKind = 'other', headers: Record<string, string> = {}): GraphResponse {
  const requestId = randomUUID()
  return {
    status,
    kind,
    headers: { 'request-id': requestId, ...headers },
    body: { error: { code, message, innerError: { date: new Date().toISOString().slice(0, 19), 'request-id': requestId, 'client-request-id': requestId } } },
  }
}

const ok = (body: unknown, kind: PathKind, status = 200): GraphResponse => ({ status, kind, headers: { 'request-id': randomUUID() }, body })

const encodePosition = (p: unknown) => Buffer.from(JSON.stringify(p)).toString('base64url')
function decodePosition(token: string | null): unknown {
  if (!token) return null
  try {
    return JSON.parse(Buffer.from(token, 'base64url').toString('utf8'))
  } catch {
    return undefined
  }
}

function parseTop(value: string | null): number | undefined | 'invalid' {
  if (value === null) return undefined
  const n = Number(value)
  return Number.isInteger(n) && n >= 1 && n <= MAX_TOP ? n : 'invalid'
}

function select(body: Record<string, unknown>, fields: string[] | null): Record<string, unknown> {
  if (!fields) return body
  const out: Record<string, unknown> = {}
  if (body['@odata.type'] !== undefined) out['@odata.type'] = body['@odata.type']
  out.id = body.id
  for (const f of fields) if (f in body) out[f] = body[f]
  return out
}

const hasPermission = (tenant: EmulatedTenant, permission: string) =>
  tenant.permissions.has(permission) || tenant.permissions.has(permission.replace('.Read.All', '.ReadWrite.All'))

const forbidden = (permission: string, kind: PathKind) =>
  graphError(403, 'Forbidden', `Application is not authorized to perform this operation. Application must have one of the following scopes: ${permission}, ${permission.replace('.Read.All', '.ReadWrite.All')}`, kind)

/** Handles one Graph request already authenticated as `claims`. `url` is `/{version}/…?query`. */
export function handleGraph(state: EmulatorState, tenant: EmulatedTenant, claims: TokenClaims, method: string, url: string, base: string, body: unknown): GraphResponse {
  const parsed = new URL(url, base)
  const segments = parsed.pathname.split('/').filter(Boolean).map(decodeURIComponent)
  const version = segments[0] ?? ''
  const rest = segments.slice(1)
  if (!VERSIONS.has(version)) return graphError(400, 'BadRequest', 'Invalid version: use v1.0 or beta')
  const write = method !== 'GET'
  const kind = classify(rest, write)
  const down = state.faults.unavailable_paths.some((p) => parsed.pathname.includes(p))
  if (down || (state.faults.error_rate > 0 && Math.random() < state.faults.error_rate)) return graphError(503, 'ServiceUnavailable', 'The service is temporarily unavailable. Try again later.', kind)
  const throttled = (retryAfterMs: number) => {
    const headers: Record<string, string> = state.faults.omit_retry_after ? {} : { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) }
    return graphError(429, 'TooManyRequests', 'Too many requests', kind, headers)
  }
  if (state.faults.throttle_rate > 0 && Math.random() < state.faults.throttle_rate) return throttled(1000)
  const admitted = state.throttle.admit({ tenant: tenant.settings.tenantId, app: claims.appid }, write, state.limits())
  if (!admitted.ok) return throttled(admitted.retryAfterMs)
  const context = `${base}/${version}/$metadata#`
  const q = parsed.searchParams
  if (rest[0] === GROUP_TYPE.path) return groups(tenant, rest, q, context, `${base}${parsed.pathname}`, method)
  const collection = COLLECTIONS.get(rest.slice(0, 2).join('/'))
  if (!collection) return graphError(404, 'ResourceNotFound', `Resource not found for the segment '${rest.join('/')}'.`, kind)
  const permission = collection.entries[0]!.permission
  if (!hasPermission(tenant, write ? permission.replace('.Read.All', '.ReadWrite.All') : permission)) return forbidden(permission, kind)
  const tail = rest.slice(2)
  if (write) return writeRoute(tenant, collection, tail, method, body, context)
  if (tail.length === 0) return list(tenant, collection, q, context, `${base}${parsed.pathname}`)
  const found = tenant.find(collection.entries, tail[0]!)
  if (!found || (collection.odataType && found.body['@odata.type'] !== collection.odataType)) {
    return graphError(404, 'ResourceNotFound', `No ${collection.path.split('/').pop()} with id '${tail[0]}'`, kind)
  }
  const entry = collection.entries.find((e) => e.key === found.key)!
  if (tail.length === 1) return object(collection, entry, found, q, context)
  if (tail.length === 2) return subCollection(collection, entry, found, tail[1]!, q, context, `${base}${parsed.pathname}`)
  return graphError(404, 'ResourceNotFound', `Resource not found for the segment '${tail.at(-1)}'.`, kind)
}

function classify(rest: string[], write: boolean): PathKind {
  if (write) return 'write'
  if (rest[0] === GROUP_TYPE.path) return 'group'
  const tail = rest.length - (COLLECTIONS.has(rest.slice(0, 2).join('/')) ? 2 : 1)
  return tail <= 0 ? 'list' : tail === 1 ? 'object' : 'subresource'
}

/** Whether a listed collection can expand assignments: not through the base collection of platform-specific types. */
const canExpandAssignments = (collection: Collection, entry: PolicyTypeEntry) => entry.assignments !== null && (!entry.itemCollections || collection.odataType !== undefined)

function present(o: TenantObject, options: { expand: Set<string>; listed: boolean; entry: PolicyTypeEntry; context: string; collectionPath: string; fields: string[] | null }) {
  const body: Record<string, unknown> = select({ ...o.body }, options.fields)
  if (options.listed) for (const omitted of options.entry.listOmits ?? []) if (omitted in body) body[omitted] = null
  for (const nav of options.expand) {
    body[`${nav}@odata.context`] = `${options.context}${options.collectionPath}('${o.body.id}')/${nav}`
    body[nav] = nav === 'assignments' ? (o.assignments ?? []) : o.children(nav)
  }
  return body
}

function parseList(value: string | null): string[] | null {
  return value === null ? null : value.split(',').map((s) => s.trim()).filter(Boolean)
}

function list(tenant: EmulatedTenant, collection: Collection, q: URLSearchParams, context: string, self: string): GraphResponse {
  const filter = q.get('$filter')
  let entries = collection.entries
  let excludeBuiltIns = false
  if (filter !== null) {
    const match = collection.entries.find((e) => e.listFilter === filter)
    if (!match) return graphError(400, 'BadRequest', `Invalid filter clause: the emulator supports the catalog's filters only`, 'list')
    entries = [match]
    // The usual filter of a type whose built-ins the catalog does not skip leaves them out server-side.
    excludeBuiltIns = !match.skip && SHAPES[match.key]?.builtIns !== undefined
  }
  const top = parseTop(q.get('$top'))
  if (top === 'invalid') return graphError(400, 'BadRequest', `Invalid $top: an integer from 1 to ${MAX_TOP}`, 'list')
  const expand = new Set(parseList(q.get('$expand')) ?? [])
  for (const nav of expand) {
    if (nav !== 'assignments' || !entries.every((e) => e.assignments === 'expand' && canExpandAssignments(collection, e))) {
      return graphError(400, 'BadRequest', `Could not expand '${nav}' on a list of ${collection.path}`, 'list')
    }
  }
  const pageSize = Math.min(top ?? entries[0]!.pageSize, ...entries.map((e) => e.pageSize))
  const position = decodePosition(q.get('$skiptoken'))
  if (position === undefined || (position !== null && !isPosition(position))) return graphError(400, 'BadRequest', 'Invalid $skiptoken', 'list')
  const fields = parseList(q.get('$select'))
  const items: Record<string, unknown>[] = []
  let cursor: [number, number] | null = position ?? [0, 0]
  // A platform-specific collection lists only its own type: keep reading until the page fills.
  while (cursor && items.length < pageSize) {
    const page = tenant.page(entries, { excludeBuiltIns, position: cursor, size: pageSize - items.length })
    for (const o of page.items) {
      if (collection.odataType && o.body['@odata.type'] !== collection.odataType) continue
      const entry = entries.find((e) => e.key === o.key)!
      items.push(present(o, { expand, listed: true, entry, context, collectionPath: collection.path, fields }))
    }
    cursor = page.next
  }
  const response: Record<string, unknown> = { '@odata.context': `${context}${collection.path}` }
  if (cursor) {
    const next = new URLSearchParams(q)
    next.set('$skiptoken', encodePosition(cursor))
    response['@odata.nextLink'] = `${self}?${next.toString()}`
  }
  response.value = items
  return ok(response, 'list')
}

const isPosition = (p: unknown): p is [number, number] => Array.isArray(p) && p.length === 2 && p.every((n) => Number.isInteger(n) && (n as number) >= 0)

function object(collection: Collection, entry: PolicyTypeEntry, o: TenantObject, q: URLSearchParams, context: string): GraphResponse {
  const expand = new Set(parseList(q.get('$expand')) ?? [])
  for (const nav of expand) {
    const allowed = nav === 'assignments' ? canExpandAssignments(collection, entry) : entry.details.some((d) => d.name === nav)
    if (!allowed) return graphError(400, 'BadRequest', `Could not find a property named '${nav}' on type '${typeof o.body['@odata.type'] === 'string' ? o.body['@odata.type'] : entry.key}'.`, 'object')
  }
  const body = present(o, { expand, listed: false, entry, context, collectionPath: collection.path, fields: parseList(q.get('$select')) })
  return ok({ '@odata.context': `${context}${collection.path}/$entity`, ...body }, 'object')
}

function subCollection(collection: Collection, entry: PolicyTypeEntry, o: TenantObject, nav: string, q: URLSearchParams, context: string, self: string): GraphResponse {
  const detail = entry.details.find((d) => d.name === nav)
  const isAssignments = nav === 'assignments' && canExpandAssignments(collection, entry)
  if (!isAssignments && !detail) return graphError(400, 'BadRequest', `Resource not found for the segment '${nav}'.`, 'subresource')
  const all = isAssignments ? (o.assignments ?? []) : o.children(nav)
  const top = parseTop(q.get('$top'))
  if (top === 'invalid') return graphError(400, 'BadRequest', `Invalid $top`, 'subresource')
  const max = detail?.pageSize ?? SUB_PAGE
  const size = Math.min(top ?? max, max)
  const start = Number(decodePosition(q.get('$skiptoken')) ?? 0)
  if (!Number.isInteger(start) || start < 0) return graphError(400, 'BadRequest', 'Invalid $skiptoken', 'subresource')
  const response: Record<string, unknown> = { '@odata.context': `${context}${collection.path}('${o.body.id}')/${nav}` }
  if (start + size < all.length) {
    const next = new URLSearchParams(q)
    next.set('$skiptoken', encodePosition(start + size))
    response['@odata.nextLink'] = `${self}?${next.toString()}`
  }
  response.value = all.slice(start, start + size)
  return ok(response, 'subresource')
}

function groups(tenant: EmulatedTenant, rest: string[], q: URLSearchParams, context: string, self: string, method: string): GraphResponse {
  if (!hasPermission(tenant, GROUP_TYPE.permission) && !tenant.permissions.has('GroupMember.Read.All') && !tenant.permissions.has('Directory.Read.All')) return forbidden(GROUP_TYPE.permission, 'group')
  if (method !== 'GET') return graphError(405, 'Request_BadRequest', 'The emulator serves groups read-only', 'group')
  const fields = parseList(q.get('$select'))
  if (rest.length === 1) {
    const top = parseTop(q.get('$top'))
    if (top === 'invalid') return graphError(400, 'Request_BadRequest', 'Invalid $top', 'group')
    const start = Number(decodePosition(q.get('$skiptoken')) ?? 0)
    const page = tenant.groupsPage(Number.isInteger(start) ? start : 0, Math.min(top ?? 100, MAX_TOP))
    const response: Record<string, unknown> = { '@odata.context': `${context}groups` }
    if (page.next !== null) {
      const next = new URLSearchParams(q)
      next.set('$skiptoken', encodePosition(page.next))
      response['@odata.nextLink'] = `${self}?${next.toString()}`
    }
    response.value = page.items.map((g) => select(g, fields))
    return ok(response, 'group')
  }
  const group = rest.length === 2 ? tenant.group(rest[1]!) : undefined
  if (!group || group === 'deleted') {
    return graphError(404, 'Request_ResourceNotFound', `Resource '${rest[1]}' does not exist or one of its queried reference-property objects are not present.`, 'group')
  }
  return ok({ '@odata.context': `${context}groups${fields ? `(${fields.join(',')})` : ''}/$entity`, ...select(group, fields) }, 'group')
}

function writeRoute(tenant: EmulatedTenant, collection: Collection, tail: string[], method: string, body: unknown, context: string): GraphResponse {
  const fields = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : null
  if (method === 'POST' && tail.length === 0) {
    if (!fields) return graphError(400, 'BadRequest', 'A JSON object body is required', 'write')
    const entry = entryForNewObject(collection, fields)
    const created = tenant.add(entry, fields)
    return ok({ '@odata.context': `${context}${collection.path}/$entity`, ...created.body }, 'write', 201)
  }
  if (tail.length === 1 && method === 'PATCH') {
    if (!fields) return graphError(400, 'BadRequest', 'A JSON object body is required', 'write')
    return tenant.patch(tail[0]!, fields) ? { status: 204, kind: 'write', headers: {}, body: null } : graphError(404, 'ResourceNotFound', 'Not found', 'write')
  }
  if (tail.length === 1 && method === 'DELETE') {
    return tenant.delete(tail[0]!) ? { status: 204, kind: 'write', headers: {}, body: null } : graphError(404, 'ResourceNotFound', 'Not found', 'write')
  }
  return graphError(405, 'BadRequest', `${method} is not supported here`, 'write')
}

/** Which of a shared collection's types a created object belongs to, as the catalog's list filters would sort it. */
function entryForNewObject(collection: Collection, fields: Record<string, unknown>): PolicyTypeEntry {
  const family = (fields.templateReference as { templateFamily?: unknown } | undefined)?.templateFamily
  const key =
    fields['@odata.type'] === '#microsoft.graph.windowsUpdateForBusinessConfiguration' ? 'windowsUpdateRing'
      : typeof family === 'string' && family !== 'none' ? 'endpointSecurityPolicy'
        : undefined
  return collection.entries.find((e) => e.key === key) ?? collection.entries[0]!
}
