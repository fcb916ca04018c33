import { randomUUID } from 'node:crypto'
import {
  getPolicyType,
  GRAPH_WRITE_PERMISSIONS,
  GROUP_TYPE,
  POLICY_TYPES,
  type GraphPermission,
  type PolicyTypeEntry,
} from '../graph/policy-types.ts'
import { auditEvents, modifiedProperties } from './audit-log.ts'
import type { EmulatedTenant, TenantObject } from './emulated-tenant.ts'
import type { EmulatorState, PathKind } from './emulator-state.ts'
import { annotatedType, conform, typeOfPath, unknownFilterProperty } from './graph-schema.ts'
import { createIntentInstance, withoutCast, writeRoute } from './graph-writes.ts'
import { directoryGraph } from './directory-routes.ts'
import { extraResource, INTENT_TEMPLATES, intentCategories, presentationOf } from './extra-routes.ts'
import { withSettingDefinitions } from './setting-definitions.ts'
import {
  matches,
  ODataError,
  parseExpand,
  parseFilter,
  parseSelect,
  propertyName,
  queryOptions,
  type FilterNode,
} from './odata.ts'
import type { TokenClaims } from './tokens.ts'

/**
 * Microsoft Graph for one authenticated request (a direct request or a `$batch` member):
 * every route is derived from the policy type catalog.
 */

export type GraphResponse = { status: number; headers: Record<string, string>; body: unknown; kind: PathKind }

export type Collection = { path: string; entries: PolicyTypeEntry[]; odataType?: string }

const VERSIONS = new Set(['v1.0', 'beta'])
const MAX_TOP = 999
const SUB_PAGE = 100

/** Collection path → the catalog entries it serves (several types share deviceConfigurations). */
const COLLECTIONS = new Map<string, Collection>()
for (const entry of POLICY_TYPES) {
  if (!entry.listable || entry.singleton) continue
  const existing = COLLECTIONS.get(entry.path)
  if (existing) existing.entries.push(entry)
  else COLLECTIONS.set(entry.path, { path: entry.path, entries: [entry] })
  for (const [odataType, path] of Object.entries(entry.itemCollections ?? {}))
    COLLECTIONS.set(path, { path, entries: [entry], odataType })
}
/** Singleton path → its catalog entry (`deviceManagement/applePushNotificationCertificate`). */
const SINGLETONS = new Map(POLICY_TYPES.filter((e) => e.singleton).map((e) => [e.path, e]))
/** Singletons Graph serves without an id: complex-type properties of `deviceManagement`, not entities. */
const WITHOUT_ID = new Set(['deviceManagementSettings'])
/**
 * A collection of a base type lists every derived type: managedAppPolicies includes targeted
 * managed app configurations (https://learn.microsoft.com/graph/api/intune-mam-managedapppolicy-list,
 * "managedAppConfiguration … inherits from managedAppPolicy").
 */
COLLECTIONS.get('deviceAppManagement/managedAppPolicies')!.entries.push(
  getPolicyType('targetedManagedAppConfiguration'),
)

export function graphError(
  status: number,
  code: string,
  message: string,
  kind: PathKind = 'other',
  headers: Record<string, string> = {},
): GraphResponse {
  const requestId = randomUUID()
  return {
    status,
    kind,
    headers: { 'request-id': requestId, ...headers },
    body: {
      error: {
        code,
        message,
        innerError: {
          date: new Date().toISOString().slice(0, 19),
          'request-id': requestId,
          'client-request-id': requestId,
        },
      },
    },
  }
}

export const ok = (body: unknown, kind: PathKind, status = 200): GraphResponse => ({
  status,
  kind,
  headers: { 'request-id': randomUUID() },
  body,
})

export const encodePosition = (p: unknown) => Buffer.from(JSON.stringify(p)).toString('base64url')
export function decodePosition(token: string | null): unknown {
  if (!token) return null
  try {
    return JSON.parse(Buffer.from(token, 'base64url').toString('utf8'))
  } catch {
    return undefined
  }
}

export function parseTop(value: string | undefined, max: number): number | undefined | 'invalid' {
  if (value === undefined) return undefined
  const n = Number(value)
  return Number.isInteger(n) && n >= 1 && n <= max ? n : 'invalid'
}

export function select(body: Record<string, unknown>, fields: string[] | null): Record<string, unknown> {
  if (!fields) return body
  const out: Record<string, unknown> = {}
  if (body['@odata.type'] !== undefined) out['@odata.type'] = body['@odata.type']
  out.id = body.id
  for (const f of fields) {
    const name = propertyName(body, f)
    if (name !== undefined) out[name] = body[name]
  }
  return out
}

export const hasPermission = (tenant: EmulatedTenant, permission: string) =>
  tenant.permissions.has(permission) || tenant.permissions.has(permission.replace('.Read.All', '.ReadWrite.All'))

export const forbidden = (permission: string, kind: PathKind) =>
  graphError(
    403,
    'Forbidden',
    `Application is not authorized to perform this operation. Application must have one of the following scopes: ${permission}, ${permission.replace('.Read.All', '.ReadWrite.All')}`,
    kind,
  )

/**
 * Handles one Graph request already authenticated as `claims`. `url` is `/{version}/…?query`.
 * `clientRequestId`: the request's `client-request-id`, which a write's audit event keeps as its
 * `correlationId` (Graph documents it as "the client request Id that is used to correlate activity").
 */
export function handleGraph(
  state: EmulatorState,
  tenant: EmulatedTenant,
  claims: TokenClaims,
  method: string,
  url: string,
  base: string,
  body: unknown,
  clientRequestId?: string,
): GraphResponse {
  const parsed = new URL(url, base)
  const segments = parsed.pathname.split('/').filter(Boolean).map(decodeURIComponent)
  const version = segments[0] ?? ''
  const rest = segments.slice(1)
  if (!VERSIONS.has(version)) return graphError(400, 'BadRequest', 'Invalid version: use v1.0 or beta')
  const write = method !== 'GET'
  const resolved = resolveCollection(rest)
  const kind = classify(rest, resolved, write)
  const down = state.faults.unavailable_paths.some((p) => parsed.pathname.includes(p))
  if (down || (state.faults.error_rate > 0 && Math.random() < state.faults.error_rate))
    return graphError(503, 'ServiceUnavailable', 'The service is temporarily unavailable. Try again later.', kind)
  const throttled = (retryAfterMs: number) => {
    const headers: Record<string, string> = state.faults.omit_retry_after
      ? {}
      : { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) }
    return graphError(429, 'TooManyRequests', 'Too many requests', kind, headers)
  }
  if (state.faults.throttle_rate > 0 && Math.random() < state.faults.throttle_rate) return throttled(1000)
  const admitted = state.throttle.admit({ tenant: tenant.settings.tenantId, app: claims.appid }, write, state.limits())
  if (!admitted.ok) return throttled(admitted.retryAfterMs)
  const context = `${base}/${version}/$metadata#`
  // The raw query string: URL.search would hide a leading `??` that Graph tolerates.
  const rawQuery = url.includes('?') ? url.slice(url.indexOf('?') + 1) : ''
  let q: Map<string, string>
  try {
    q = queryOptions(rawQuery, version)
  } catch (error) {
    return graphError(400, 'BadRequest', (error as Error).message, kind)
  }
  const self = `${base}${parsed.pathname}`
  const directory = directoryGraph(tenant, rest, q, context, method)
  if (directory) return directory
  if (rest[0] === GROUP_TYPE.path) return groups(tenant, rest, q, context, self, method, rawQuery)
  if (rest[0] === 'deviceManagement' && rest[1] === 'auditEvents') {
    return write
      ? graphError(405, 'BadRequest', 'Audit events are read-only', kind)
      : auditEvents(tenant, rest.slice(2), q, context, self, rawQuery)
  }
  if (rest.length === 1 && ROOT_PERMISSIONS[rest[0]!]) {
    if (write) return graphError(405, 'BadRequest', `The emulator serves ${rest[0]} read-only.`, kind)
    return root(tenant, rest[0]!, q, context)
  }
  const singleton = SINGLETONS.get(rest.join('/'))
  if (singleton) return singletonResource(tenant, singleton, { method, body, appId: claims.appid }, q, context)
  if (write && rest[0] === 'deviceManagement' && rest[1] === 'templates' && rest[3] === 'createInstance') {
    const intents = resolveCollection(['deviceManagement', 'intents'])!.collection
    if (rest.length !== 4 || method !== 'POST')
      return graphError(400, 'BadRequest', `Resource not found for the segment '${rest.slice(3).join('/')}'.`, kind)
    if (!INTENT_TEMPLATES.some((t) => t.id === rest[2]))
      return graphError(404, 'ResourceNotFound', `No template with id '${rest[2]}'`, kind)
    const needed = GRAPH_WRITE_PERMISSIONS[intents.entries[0]!.permission]
    if (!tenant.permissions.has(needed))
      return graphError(
        403,
        'Forbidden',
        `Application is not authorized to perform this operation. Application must have one of the following scopes: ${needed}`,
        kind,
      )
    const actor = { kind: 'app' as const, appId: claims.appid, appName: tenant.settings.appName }
    return createIntentInstance(
      { tenant, collection: intents, context, actor, correlationId: clientRequestId },
      rest[2]!,
      body,
    )
  }
  if (!resolved) {
    const extra = write ? undefined : extraResource(tenant, rest, q, context)
    return extra ?? graphError(404, 'ResourceNotFound', `Resource not found for the segment '${rest.join('/')}'.`, kind)
  }
  const { collection, tail } = resolved
  const permission = collection.entries[0]!.permission
  if (write) {
    const needed = GRAPH_WRITE_PERMISSIONS[permission]
    if (!tenant.permissions.has(needed))
      return graphError(
        403,
        'Forbidden',
        `Application is not authorized to perform this operation. Application must have one of the following scopes: ${needed}`,
        kind,
      )
  } else if (!hasPermission(tenant, permission)) return forbidden(permission, kind)
  if (write)
    return writeRoute(
      {
        tenant,
        collection,
        context,
        actor: { kind: 'app', appId: claims.appid, appName: tenant.settings.appName },
        correlationId: clientRequestId,
      },
      tail,
      method,
      body,
    )
  try {
    if (tail.length === 0) return list(tenant, collection, q, context, self, rawQuery)
    const found = tenant.find(collection.entries, tail[0]!)
    if (!found || (collection.odataType && found.body['@odata.type'] !== collection.odataType)) {
      return graphError(404, 'ResourceNotFound', `No ${collection.path.split('/').pop()} with id '${tail[0]}'`, kind)
    }
    const entry = collection.entries.find((e) => e.key === found.key)!
    const path = withoutCast(tail, annotatedType(found.body) ?? typeOfPath(collection.path)!)
    if (!path) return graphError(400, 'BadRequest', `Resource not found for the segment '${tail[1]}'.`, kind)
    if (path.length === 1) return object(collection, entry, found, q, context)
    return subResource(tenant, collection, entry, found, path.slice(1), q, context, self, rawQuery)
  } catch (error) {
    if (error instanceof ODataError) return graphError(400, 'BadRequest', error.message, kind)
    throw error
  }
}

/** Graph's Intune roots and the permission reading them needs. */
const ROOT_PERMISSIONS: Record<string, GraphPermission> = {
  deviceManagement: 'DeviceManagementConfiguration.Read.All',
  deviceAppManagement: 'DeviceManagementApps.Read.All',
}

/**
 * `GET deviceManagement` / `deviceAppManagement` (with `$select`): the root entity's structural
 * properties, null when the emulator has nothing for them, and the tenant's settings (the
 * deviceManagementSettings singleton), as the SDK reads them with `deviceManagement?$select=settings`.
 */
function root(tenant: EmulatedTenant, name: string, q: Map<string, string>, context: string): GraphResponse {
  const permission = ROOT_PERMISSIONS[name]!
  if (!hasPermission(tenant, permission)) return forbidden(permission, 'object')
  const fields: Record<string, unknown> = { id: tenant.settings.tenantId }
  if (name === 'deviceManagement') {
    const settings = tenant.find([getPolicyType('deviceManagementSettings')], 'deviceManagementSettings')
    if (settings) {
      const { id: _id, ...body } = settings.body
      fields.settings = body
    }
  }
  const selected = parseSelect(q.get('select'))
  const body = select(conform(fields, name), selected)
  const contextPath = selected ? `${name}(${selected.join(',')})` : name
  return ok({ '@odata.context': `${context}${contextPath}`, ...body }, 'object')
}

/** Properties of a singleton Intune sets itself: a PATCH cannot. */
const SINGLETON_READ_ONLY = new Set(['id', 'lastmodifieddatetime'])

/**
 * A singleton: GET gives its object, or 404 when the tenant has none (the APNs certificate of a
 * tenant that never uploaded one); PATCH changes its properties (Graph's only write there: it is
 * neither created nor deleted), audited like any write.
 */
function singletonResource(
  tenant: EmulatedTenant,
  entry: PolicyTypeEntry,
  request: { method: string; body: unknown; appId: string },
  q: Map<string, string>,
  context: string,
): GraphResponse {
  const segment = entry.path.split('/').pop()!
  if (request.method !== 'GET') {
    if (request.method !== 'PATCH')
      return graphError(
        405,
        'BadRequest',
        `No HTTP resource was found that matches ${request.method} ${segment}: use GET or PATCH.`,
        'write',
      )
    const needed = GRAPH_WRITE_PERMISSIONS[entry.permission]
    if (!tenant.permissions.has(needed))
      return graphError(
        403,
        'Forbidden',
        `Application is not authorized to perform this operation. Application must have one of the following scopes: ${needed}`,
        'write',
      )
    const before = tenant.find([entry], entry.singleton!.id)
    if (!before) return graphError(404, 'ResourceNotFound', `Resource not found for the segment '${segment}'.`, 'write')
    if (request.body === null || typeof request.body !== 'object' || Array.isArray(request.body))
      return graphError(400, 'BadRequest', 'The request body must be a JSON object.', 'write')
    const fields = request.body as Record<string, unknown>
    for (const name of Object.keys(fields)) {
      if (name === '@odata.type') continue
      if (SINGLETON_READ_ONLY.has(name.toLowerCase()))
        return graphError(400, 'BadRequest', `The property '${name}' is read-only and cannot be set.`, 'write')
      if (!(name in before.body))
        return graphError(
          400,
          'BadRequest',
          `The property '${name}' does not exist on type 'microsoft.graph.${entry.key}'.`,
          'write',
        )
    }
    const { after } = tenant.patch(before.body.id, fields)!
    tenant.audit.record({
      operation: 'Patch',
      entry,
      object: after.body,
      actor: { kind: 'app', appId: request.appId, appName: tenant.settings.appName },
      modified: modifiedProperties(before.body, after.body),
    })
    return { status: 204, kind: 'write', headers: { 'request-id': randomUUID() }, body: null }
  }
  // A singleton's GET is the whole of its type, as a collection's listing is: counted as a list read.
  if (!hasPermission(tenant, entry.permission)) return forbidden(entry.permission, 'list')
  const found = tenant.find([entry], entry.singleton!.id)
  if (!found) return graphError(404, 'ResourceNotFound', `Resource not found for the segment '${segment}'.`, 'list')
  const { id, ...fields } = found.body
  const body = WITHOUT_ID.has(entry.key) ? fields : { id, ...fields }
  return ok({ '@odata.context': `${context}${entry.path}`, ...select(body, parseSelect(q.get('select'))) }, 'list')
}

/** The catalog collection a path starts with (the longest match: `identity/conditionalAccess/policies`), and the rest. */
function resolveCollection(rest: string[]): { collection: Collection; tail: string[] } | undefined {
  for (let n = Math.min(3, rest.length); n >= 1; n--) {
    const collection = COLLECTIONS.get(rest.slice(0, n).join('/'))
    if (collection) return { collection, tail: rest.slice(n) }
  }
  return undefined
}

function classify(rest: string[], resolved: { tail: string[] } | undefined, write: boolean): PathKind {
  if (write) return 'write'
  if (rest[0] === GROUP_TYPE.path) return 'group'
  const tail = resolved ? resolved.tail.length : rest.length - 1
  return tail <= 0 ? 'list' : tail === 1 ? 'object' : 'subresource'
}

/** Whether a listed collection can expand assignments: not through the base collection of platform-specific types. */
const canExpandAssignments = (collection: Collection, entry: PolicyTypeEntry) =>
  entry.assignments !== null &&
  (collection.odataType !== undefined || (!entry.itemCollections && collection.path === entry.path))

/** The navigation property `name` names on an entry, case-insensitively; undefined when it has none. */
function navigation(collection: Collection, entry: PolicyTypeEntry, name: string, listed = false): string | undefined {
  const lower = name.toLowerCase()
  // Lists expand assignments only where Graph does (intents, scripts and others need a read per object).
  if (lower === 'assignments')
    return canExpandAssignments(collection, entry) && (!listed || entry.assignments === 'expand')
      ? 'assignments'
      : undefined
  return entry.details.find((d) => d.name.toLowerCase() === lower)?.name
}

function present(
  o: TenantObject,
  options: {
    expand: string[]
    listed: boolean
    entry: PolicyTypeEntry
    context: string
    collectionPath: string
    fields: string[] | null
  },
) {
  const body: Record<string, unknown> = select({ ...o.body }, options.fields)
  if (options.listed) for (const omitted of options.entry.listOmits ?? []) if (omitted in body) body[omitted] = null
  for (const nav of options.expand) {
    body[`${nav}@odata.context`] = `${options.context}${options.collectionPath}('${o.body.id}')/${nav}`
    body[nav] = nav === 'assignments' ? (o.assignments ?? []) : o.children(nav)
  }
  return body
}

/** `$expand` resolved against the entries: Graph refuses a navigation property the type does not have. */
function expansions(
  collection: Collection,
  entries: readonly PolicyTypeEntry[],
  q: Map<string, string>,
  listed: boolean,
): string[] | GraphResponse {
  const names: string[] = []
  for (const item of parseExpand(q.get('expand'))) {
    const resolved = entries.map((e) => navigation(collection, e, item.name, listed))
    if (resolved.some((r) => r === undefined)) {
      const entry = entries[resolved.findIndex((r) => r === undefined)]!
      return graphError(
        400,
        'BadRequest',
        `Could not find a property named '${item.name}' on type 'microsoft.graph.${entry.key}'${listed ? ` listed by ${collection.path}` : ''}.`,
        listed ? 'list' : 'object',
      )
    }
    names.push(resolved[0]!)
  }
  return names
}

function list(
  tenant: EmulatedTenant,
  collection: Collection,
  q: Map<string, string>,
  context: string,
  self: string,
  rawQuery: string,
): GraphResponse {
  const filterText = q.get('filter')
  let entries = collection.entries
  let filter: FilterNode | null = null
  if (filterText !== undefined) {
    try {
      filter = parseFilter(filterText)
    } catch (error) {
      return graphError(400, 'BadRequest', `Invalid filter clause: ${(error as Error).message}`, 'list')
    }
    // Every property is served now (issue 23): one the type and its derived types lack is refused, not ignored.
    const type = typeOfPath(collection.path)!
    const unknown = unknownFilterProperty(filter, type)
    if (unknown !== undefined) {
      return graphError(
        400,
        'BadRequest',
        `Could not find a property named '${unknown}' on type 'microsoft.graph.${type}'.`,
        'list',
      )
    }
    // A catalog type's own filter reads only that type's objects (the result is the same, the scan shorter).
    const match = collection.entries.find((e) => e.listFilter === filterText)
    if (match) entries = [match]
  }
  const top = parseTop(q.get('top'), MAX_TOP)
  if (top === 'invalid') return graphError(400, 'BadRequest', `Invalid $top: an integer from 1 to ${MAX_TOP}`, 'list')
  const expand = expansions(collection, entries, q, true)
  if (!Array.isArray(expand)) return expand
  const pageSize = Math.min(top ?? entries[0]!.pageSize, ...entries.map((e) => e.pageSize))
  const position = decodePosition(q.get('skiptoken') ?? null)
  if (position === undefined || (position !== null && !isPosition(position)))
    return graphError(400, 'BadRequest', 'Invalid $skiptoken', 'list')
  const fields = parseSelect(q.get('select'))
  const items: Record<string, unknown>[] = []
  let cursor: [number, number] | null = position ?? [0, 0]
  // A platform-specific or filtered collection keeps reading until the page fills.
  while (cursor && items.length < pageSize) {
    const page = tenant.page(entries, { excludeBuiltIns: false, position: cursor, size: pageSize - items.length })
    for (const o of page.items) {
      if (collection.odataType && o.body['@odata.type'] !== collection.odataType) continue
      if (!matches(filter, o.body)) continue
      const entry = entries.find((e) => e.key === o.key)!
      items.push(present(o, { expand, listed: true, entry, context, collectionPath: collection.path, fields }))
    }
    cursor = page.next
  }
  const response: Record<string, unknown> = { '@odata.context': `${context}${collection.path}` }
  if (cursor) response['@odata.nextLink'] = nextLink(self, rawQuery, encodePosition(cursor))
  response.value = items
  return ok(response, 'list')
}

/** The next page's link: the request's own query with the `$skiptoken` replaced. */
export function nextLink(self: string, rawQuery: string, token: string): string {
  const kept = rawQuery
    .replace(/^\?+/, '')
    .split('&')
    .filter((p) => p !== '' && !/^\??\$?skiptoken=/i.test(p))
  return `${self}?${[...kept, `$skiptoken=${token}`].join('&')}`
}

const isPosition = (p: unknown): p is [number, number] =>
  Array.isArray(p) && p.length === 2 && p.every((n) => Number.isInteger(n) && (n as number) >= 0)

function object(
  collection: Collection,
  entry: PolicyTypeEntry,
  o: TenantObject,
  q: Map<string, string>,
  context: string,
): GraphResponse {
  const expand = expansions(collection, [entry], q, false)
  if (!Array.isArray(expand)) return expand
  const body = present(o, {
    expand,
    listed: false,
    entry,
    context,
    collectionPath: collection.path,
    fields: parseSelect(q.get('select')),
  })
  return ok({ '@odata.context': `${context}${collection.path}/$entity`, ...body }, 'object')
}

/** A page of `all` from the `$skiptoken` position, `$top` (up to `maxTop`) or `pageSize` at a time. */
function pageOf(
  all: readonly unknown[],
  q: Map<string, string>,
  sizes: { pageSize: number; maxTop: number },
  contextUrl: string,
  self: string,
  rawQuery: string,
): GraphResponse {
  const top = parseTop(q.get('top'), sizes.maxTop)
  if (top === 'invalid')
    return graphError(400, 'BadRequest', `Invalid $top: an integer from 1 to ${sizes.maxTop}`, 'subresource')
  const size = top ?? sizes.pageSize
  const start = Number(decodePosition(q.get('skiptoken') ?? null) ?? 0)
  if (!Number.isInteger(start) || start < 0) return graphError(400, 'BadRequest', 'Invalid $skiptoken', 'subresource')
  const response: Record<string, unknown> = { '@odata.context': contextUrl }
  if (start + size < all.length) response['@odata.nextLink'] = nextLink(self, rawQuery, encodePosition(start + size))
  response.value = all.slice(start, start + size)
  return ok(response, 'subresource')
}

/**
 * Below an object: `{nav}` (a paged sub-collection), `{nav}/{childId}`, and
 * `{nav}/{childId}/{childNav}` (e.g. a definition value's presentationValues).
 */
function subResource(
  tenant: EmulatedTenant,
  collection: Collection,
  entry: PolicyTypeEntry,
  o: TenantObject,
  path: string[],
  q: Map<string, string>,
  context: string,
  self: string,
  rawQuery: string,
): GraphResponse {
  const objectContext = `${context}${collection.path}('${o.body.id}')`
  const [navName, childId, childNav, ...more] = path as [string, string | undefined, string | undefined, ...string[]]
  if (entry.key === 'endpointSecurityIntent' && navName === 'categories')
    return intentCategories(o, path.slice(1), q, objectContext)
  const plainText = /^getOmaSettingPlainTextValue\(secretReferenceValueId='([^']*)'\)$/i.exec(navName)
  if (plainText && collection.path === 'deviceManagement/deviceConfigurations' && path.length === 1)
    return omaPlainText(tenant, o, plainText[1]!, context)
  const nav = navigation(collection, entry, navName)
  if (!nav) return graphError(400, 'BadRequest', `Resource not found for the segment '${navName}'.`, 'subresource')
  const all = nav === 'assignments' ? (o.assignments ?? []) : o.children(nav)
  if (childId === undefined) {
    const detail = entry.details.find((d) => d.name === nav)
    const pageSize = detail?.pageSize ?? SUB_PAGE
    const expanded =
      nav === 'settings' && parseExpand(q.get('expand')).some((e) => e.name === 'settingDefinitions')
        ? all.map(withSettingDefinitions)
        : all
    return pageOf(
      expanded,
      q,
      { pageSize, maxTop: detail?.maxTop ?? pageSize },
      `${objectContext}/${nav}`,
      self,
      rawQuery,
    )
  }
  const child = all.find((c) => c.id === childId)
  if (!child)
    return graphError(
      404,
      'ResourceNotFound',
      `No ${nav} with id '${childId}' under '${String(o.body.id)}'.`,
      'subresource',
    )
  if (childNav === undefined)
    return ok({ '@odata.context': `${objectContext}/${nav}/$entity`, ...child }, 'subresource')
  const nested = Object.keys(child).find((k) => k.toLowerCase() === childNav.toLowerCase())
  if (more.length > 0 || !nested || !Array.isArray(child[nested]))
    return graphError(400, 'BadRequest', `Resource not found for the segment '${childNav}'.`, 'subresource')
  const wantsPresentation = parseExpand(q.get('expand')).some((e) => e.name.toLowerCase() === 'presentation')
  const values = (child[nested] as Record<string, unknown>[]).map((v) =>
    wantsPresentation && nested === 'presentationValues' ? { ...v, presentation: presentationOf(v) } : v,
  )
  return pageOf(
    values,
    q,
    { pageSize: SUB_PAGE, maxTop: SUB_PAGE },
    `${objectContext}/${nav}('${childId}')/${nested}`,
    self,
    rawQuery,
  )
}

/**
 * `deviceConfigurations/{id}/getOmaSettingPlainTextValue(secretReferenceValueId='…')`: the clear
 * value of an encrypted OMA-URI setting, which needs the ReadWrite permission ("This API involves
 * potential secret values", https://learn.microsoft.com/graph/api/intune-deviceconfig-deviceconfiguration-getomasettingplaintextvalue).
 */
function omaPlainText(tenant: EmulatedTenant, o: TenantObject, reference: string, context: string): GraphResponse {
  const needed = GRAPH_WRITE_PERMISSIONS['DeviceManagementConfiguration.Read.All']
  if (!tenant.permissions.has(needed))
    return graphError(
      403,
      'Forbidden',
      `Application is not authorized to perform this operation. Application must have one of the following scopes: ${needed}`,
      'subresource',
    )
  const value = tenant.secretValue(o, reference)
  if (value === undefined)
    return graphError(
      404,
      'ResourceNotFound',
      `No secret with reference '${reference}' in '${o.body.id}'.`,
      'subresource',
    )
  return ok({ '@odata.context': `${context}Edm.String`, value }, 'subresource')
}

/**
 * A groups `$filter` the emulator can evaluate: comparisons and the functions it knows on the
 * group's own properties (IntuneCD finds a group by `displayName eq '…'`, issue 23 item 8). A
 * property groups do not have, or anything it cannot evaluate, is refused, never ignored: an
 * ignored filter returns every group, and a client takes the first as its match.
 */
function groupFilter(text: string | undefined): FilterNode | null | ODataError {
  if (text === undefined) return null
  let node: FilterNode
  try {
    node = parseFilter(text)
  } catch (error) {
    return error instanceof ODataError ? error : new ODataError(String(error))
  }
  const bad = unknownFilterProperty(node, 'group')
  if (bad === undefined) return node
  return new ODataError(
    `Unsupported or invalid query filter clause specified for property '${bad}' of resource 'Group'.`,
  )
}

function groups(
  tenant: EmulatedTenant,
  rest: string[],
  q: Map<string, string>,
  context: string,
  self: string,
  method: string,
  rawQuery: string,
): GraphResponse {
  if (
    !hasPermission(tenant, GROUP_TYPE.permission) &&
    !tenant.permissions.has('GroupMember.Read.All') &&
    !tenant.permissions.has('Directory.Read.All')
  )
    return forbidden(GROUP_TYPE.permission, 'group')
  if (method !== 'GET') return graphError(405, 'Request_BadRequest', 'The emulator serves groups read-only', 'group')
  const fields = parseSelect(q.get('select'))
  if (rest.length === 1) {
    const top = parseTop(q.get('top'), MAX_TOP)
    if (top === 'invalid') return graphError(400, 'Request_BadRequest', 'Invalid $top', 'group')
    const filter = groupFilter(q.get('filter'))
    if (filter instanceof ODataError) return graphError(400, 'Request_UnsupportedQuery', filter.message, 'group')
    const start = Number(decodePosition(q.get('skiptoken') ?? null) ?? 0)
    const page = tenant.groupsPage(Number.isInteger(start) ? start : 0, Math.min(top ?? 100, MAX_TOP), filter)
    const response: Record<string, unknown> = { '@odata.context': `${context}groups` }
    if (page.next !== null) response['@odata.nextLink'] = nextLink(self, rawQuery, encodePosition(page.next))
    response.value = page.items.map((g) => select(g, fields))
    return ok(response, 'group')
  }
  const group = rest.length === 2 ? tenant.group(rest[1]!) : undefined
  if (!group || group === 'deleted') {
    return graphError(
      404,
      'Request_ResourceNotFound',
      `Resource '${rest[1]}' does not exist or one of its queried reference-property objects are not present.`,
      'group',
    )
  }
  return ok(
    { '@odata.context': `${context}groups${fields ? `(${fields.join(',')})` : ''}/$entity`, ...select(group, fields) },
    'group',
  )
}
