import { createHash, randomUUID } from 'node:crypto'
import { z } from 'zod'
import { displayNameOf, type PolicyTypeEntry } from '../graph/policy-types.ts'
import type { EmulatedTenant } from './emulated-tenant.ts'
import {
  decodePosition,
  encodePosition,
  forbidden,
  graphError,
  hasPermission,
  nextLink,
  ok,
  parseTop,
  type GraphResponse,
} from './graph-routes.ts'
import { matches, ODataError, parseFilter, parseSelect, propertyName, type FilterNode } from './odata.ts'

/**
 * Intune's audit log (`/deviceManagement/auditEvents`,
 * https://learn.microsoft.com/graph/api/intune-auditing-auditevent-list): one event per change
 * to an emulated tenant, whether made through its Graph write APIs (the app is the actor) or
 * through the control API (a named user or app; by default a fixed test admin).
 */

/** Listing audit events needs DeviceManagementApps.Read.All (or .ReadWrite.All), as Graph documents. */
export const AUDIT_PERMISSION = 'DeviceManagementApps.Read.All'
export const DEFAULT_ADMIN = 'admin@contoso.example'
/** Intune's own first-party app, the application a portal user acts through. */
const INTUNE_PORTAL_APP = { id: '5926fc8e-304e-4f59-8bed-58ca97cc39a4', name: 'Microsoft Intune portal extension' }
const PAGE_SIZE = 100
const MAX_TOP = 999

export type AuditOperation = 'Create' | 'Patch' | 'Delete' | 'Action'

/** Who made a change: a user (through the Intune portal) or an application (client credentials). */
export type Actor = { kind: 'user'; userPrincipalName: string } | { kind: 'app'; appId: string; appName: string }

/** The control API's `actor` field. */
export const actorInput = z
  .strictObject({
    user_principal_name: z.string().min(1).max(256).optional(),
    app_name: z.string().min(1).max(256).optional(),
    app_id: z.string().min(1).max(128).optional(),
  })
  .refine((a) => (a.user_principal_name === undefined) !== (a.app_name === undefined), {
    message: 'name either user_principal_name or app_name',
  })

export function actorFrom(input: z.infer<typeof actorInput> | undefined): Actor {
  if (!input) return { kind: 'user', userPrincipalName: DEFAULT_ADMIN }
  if (input.user_principal_name !== undefined) return { kind: 'user', userPrincipalName: input.user_principal_name }
  return { kind: 'app', appName: input.app_name!, appId: input.app_id ?? stableGuid(`app:${input.app_name}`) }
}

/** A GUID derived from a name, so the same user or app always has the same id. */
function stableGuid(name: string): string {
  const h = createHash('sha256').update(name).digest('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`
}

function auditActor(actor: Actor): Record<string, unknown> {
  const base = { '@odata.type': 'microsoft.graph.auditActor', ipAddress: null, userPermissions: ['*'] }
  if (actor.kind === 'user') {
    return {
      ...base,
      type: 'ItPro',
      auditActorType: 'ItPro',
      applicationId: INTUNE_PORTAL_APP.id,
      applicationDisplayName: INTUNE_PORTAL_APP.name,
      userPrincipalName: actor.userPrincipalName,
      servicePrincipalName: null,
      userId: stableGuid(`user:${actor.userPrincipalName}`),
    }
  }
  return {
    ...base,
    type: 'Application',
    auditActorType: 'Application',
    applicationId: actor.appId,
    applicationDisplayName: actor.appName,
    userPrincipalName: null,
    servicePrincipalName: actor.appName,
    userId: null,
  }
}

/** The component Intune files a type's events under: deviceConfigurations → DeviceConfiguration. */
export function componentOf(entry: PolicyTypeEntry): string {
  const last = entry.path.split('/').pop()!
  const singular = last.endsWith('ies') ? `${last.slice(0, -3)}y` : last.replace(/s$/, '')
  return singular.charAt(0).toUpperCase() + singular.slice(1)
}

/** Intune's audit categories, by the permission that guards a type. */
function categoryOf(entry: PolicyTypeEntry): string {
  if (entry.path.includes('Compliance')) return 'Compliance'
  switch (entry.permission) {
    case 'DeviceManagementApps.Read.All':
      return 'Application'
    case 'DeviceManagementRBAC.Read.All':
      return 'Role'
    case 'DeviceManagementServiceConfig.Read.All':
      return 'Enrollment'
    case 'DeviceManagementConfiguration.Read.All':
    case 'DeviceManagementScripts.Read.All':
      return 'DeviceConfiguration'
    default:
      return 'Other'
  }
}

const auditValue = (v: unknown): string | null =>
  v === undefined || v === null ? null : typeof v === 'string' ? v : JSON.stringify(v)

/** The properties a change touched, as Intune lists them (values as strings). */
export function modifiedProperties(
  before: Record<string, unknown> | null,
  after: Record<string, unknown> | null,
): Record<string, unknown>[] {
  const names = new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})])
  const out: Record<string, unknown>[] = []
  for (const name of names) {
    if (name.startsWith('@odata')) continue
    const [oldValue, newValue] = [auditValue(before?.[name]), auditValue(after?.[name])]
    if (oldValue !== newValue)
      out.push({ '@odata.type': 'microsoft.graph.auditProperty', displayName: name, oldValue, newValue })
  }
  return out
}

export type AuditChange = {
  operation: AuditOperation
  /** The action's name for `Action` events (e.g. `assign`). */
  action?: string
  entry: PolicyTypeEntry
  object: Record<string, unknown>
  actor: Actor
  modified?: Record<string, unknown>[]
  correlationId?: string
}

type StoredEvent = { seq: number; time: number; body: Record<string, unknown> }

export class AuditLog {
  readonly #events: StoredEvent[] = []
  #seq = 0
  #lastTime = 0
  /**
   * Fault `audit_delay_ms` (per tenant, `PUT /_emulator/tenants/{id}/faults`): an event is listed
   * only this long after its change, as Intune's log lags behind its writes. Applied when the log
   * is read, so setting it back to 0 shows every event at once.
   */
  delayMs = 0

  record(change: AuditChange): Record<string, unknown> {
    const component = componentOf(change.entry)
    const activity = `${change.operation === 'Action' ? (change.action ?? 'Action') : change.operation} ${component}`
    // Strictly increasing times, so a `ge` filter from an event's time never misses a later one.
    const time = Math.max(Date.now(), this.#lastTime + 1)
    this.#lastTime = time
    const body = {
      '@odata.type': '#microsoft.graph.auditEvent',
      id: randomUUID(),
      displayName: activity,
      componentName: component,
      actor: auditActor(change.actor),
      activity,
      activityDateTime: new Date(time).toISOString(),
      activityType: activity,
      activityOperationType: change.operation,
      activityResult: 'Success',
      correlationId: change.correlationId ?? randomUUID(),
      resources: [
        {
          '@odata.type': 'microsoft.graph.auditResource',
          displayName: displayNameOf(change.entry, change.object),
          modifiedProperties: change.modified ?? [],
          type: component,
          auditResourceType: `Microsoft.Management.Services.Api.${component}`,
          resourceId: String(change.object.id),
        },
      ],
      category: categoryOf(change.entry),
    }
    this.#events.push({ seq: ++this.#seq, time, body })
    return body
  }

  get size() {
    return this.#events.length
  }

  all(): readonly Record<string, unknown>[] {
    return this.#events.map((e) => e.body)
  }

  /** Whether Graph lists the event yet (`delayMs`). */
  #visible(e: StoredEvent, now: number): boolean {
    return this.delayMs <= 0 || e.time + this.delayMs <= now
  }

  find(id: string) {
    const now = Date.now()
    return this.#events.find((e) => e.body.id === id && this.#visible(e, now))?.body
  }

  /** Events matching `filter`, ordered by `orderBy` (events in recording order by default). */
  query(filter: FilterNode | null, orderBy: { property: string; descending: boolean } | null): StoredEvent[] {
    const now = Date.now()
    const selected = this.#events.filter((e) => this.#visible(e, now) && matches(filter, e.body))
    if (orderBy) {
      const key = (e: StoredEvent) => {
        const name = propertyName(e.body, orderBy.property)
        return name === undefined ? null : (e.body[name] as string | number | null)
      }
      selected.sort((a, b) => {
        const [x, y] = [key(a), key(b)]
        const c = x === y ? a.seq - b.seq : x === null ? -1 : y === null ? 1 : x < y ? -1 : 1
        return orderBy.descending ? -c : c
      })
    }
    return selected
  }
}

function parseOrderBy(text: string | undefined): { property: string; descending: boolean } | null {
  if (text === undefined) return null
  const m = /^\s*([A-Za-z][\w]*)(?:\s+(asc|desc))?\s*$/i.exec(text)
  if (!m) throw new ODataError(`Invalid $orderby '${text}': one property, optionally followed by asc or desc.`)
  return { property: m[1]!, descending: m[2]?.toLowerCase() === 'desc' }
}

const ORDERABLE = new Set([
  'activitydatetime',
  'displayname',
  'componentname',
  'activity',
  'activitytype',
  'activityoperationtype',
  'activityresult',
  'category',
  'id',
  'correlationid',
])

/** `GET /deviceManagement/auditEvents[/{id}]`. Pages continue after the last event served, so new events never shift a page. */
export function auditEvents(
  tenant: EmulatedTenant,
  tail: string[],
  q: Map<string, string>,
  context: string,
  self: string,
  rawQuery: string,
): GraphResponse {
  if (!hasPermission(tenant, AUDIT_PERMISSION)) return forbidden(AUDIT_PERMISSION, 'list')
  const fields = parseSelect(q.get('select'))
  const pick = (body: Record<string, unknown>) => {
    if (!fields) return body
    const out: Record<string, unknown> = { '@odata.type': body['@odata.type'], id: body.id }
    for (const f of fields) {
      const name = propertyName(body, f)
      if (name !== undefined) out[name] = body[name]
    }
    return out
  }
  if (tail.length === 1) {
    const event = tenant.audit.find(tail[0]!)
    return event
      ? ok({ '@odata.context': `${context}deviceManagement/auditEvents/$entity`, ...pick(event) }, 'object')
      : graphError(404, 'ResourceNotFound', `No auditEvent with id '${tail[0]}'`, 'object')
  }
  if (tail.length > 1)
    return graphError(400, 'BadRequest', `Resource not found for the segment '${tail[1]}'.`, 'subresource')
  let filter: FilterNode | null = null
  let orderBy: ReturnType<typeof parseOrderBy>
  try {
    const text = q.get('filter')
    if (text !== undefined) filter = parseFilter(text)
    orderBy = parseOrderBy(q.get('orderby'))
  } catch (error) {
    return graphError(400, 'BadRequest', `Invalid query: ${(error as Error).message}`, 'list')
  }
  if (orderBy && !ORDERABLE.has(orderBy.property.toLowerCase()))
    return graphError(400, 'BadRequest', `Order by '${orderBy.property}' is not supported.`, 'list')
  const top = parseTop(q.get('top'), MAX_TOP)
  if (top === 'invalid') return graphError(400, 'BadRequest', `Invalid $top: an integer from 1 to ${MAX_TOP}`, 'list')
  const after = decodePosition(q.get('skiptoken') ?? null)
  if (after === undefined || (after !== null && !Number.isInteger(after)))
    return graphError(400, 'BadRequest', 'Invalid $skiptoken', 'list')
  let events: StoredEvent[]
  try {
    events = tenant.audit.query(filter, orderBy)
  } catch (error) {
    if (error instanceof ODataError) return graphError(400, 'BadRequest', error.message, 'list')
    throw error
  }
  const start = after === null ? 0 : events.findIndex((e) => e.seq === after) + 1
  const size = top ?? PAGE_SIZE
  const page = events.slice(start, start + size)
  const response: Record<string, unknown> = { '@odata.context': `${context}deviceManagement/auditEvents` }
  if (start + size < events.length)
    response['@odata.nextLink'] = nextLink(self, rawQuery, encodePosition(page.at(-1)!.seq))
  response.value = page.map((e) => pick(e.body))
  return ok(response, 'list')
}
