import { randomBytes, randomUUID } from 'node:crypto'
import { z } from 'zod'
import { findPolicyType, getPolicyType, GRAPH_PERMISSIONS, GRAPH_WRITE_PERMISSIONS } from '../graph/policy-types.ts'
import { actorFrom, actorInput, modifiedProperties } from './audit-log.ts'
import { EmulatedTenant } from './emulated-tenant.ts'
import { DEFAULT_FAULTS, Stats, type EmulatorState } from './emulator-state.ts'
import type { Reply } from './login-routes.ts'
import { TenantModel } from './tenant-model.ts'
import { directoryControl } from './directory-routes.ts'

/**
 * The control API under `/_emulator` (docs/emulator.md): tests, benchmarks and the demo
 * create tenants, change them, grant permissions, inject faults and read statistics.
 */

const MAX_OBJECTS = 2_000_000
/** What a new tenant's app is granted unless the request says otherwise: every read and write the catalog needs. */
export const DEFAULT_GRANTS: readonly string[] = [...GRAPH_PERMISSIONS, ...Object.values(GRAPH_WRITE_PERMISSIONS)]

export const newTenantInput = z.object({
  seed: z.union([z.string(), z.number()]).transform(String).default('1'),
  policies: z.number().int().min(0).max(MAX_OBJECTS).default(200),
  client_id: z
    .string()
    .min(1)
    .default(() => randomUUID()),
  client_secret: z
    .string()
    .min(1)
    .default(() => randomBytes(24).toString('base64url')),
  permissions: z.array(z.string()).optional(),
  /** Extensions: a fixed Entra tenant id, and a short token lifetime for refresh tests. */
  tenant_id: z.string().min(1).optional(),
  token_lifetime_s: z.number().int().min(1).max(86_400).default(3600),
  /** The app registration's name, the actor of its Graph writes in the audit log. */
  app_name: z.string().min(1).max(256).default('TenantAtlas'),
})
export type NewTenantInput = z.input<typeof newTenantInput>

const faultsInput = z.strictObject({
  latency_ms: z.number().min(0).max(60_000).optional(),
  jitter_ms: z.number().min(0).max(60_000).optional(),
  error_rate: z.number().min(0).max(1).optional(),
  throttle_rate: z.number().min(0).max(1).optional(),
  unavailable_paths: z.array(z.string().min(1)).max(100).optional(),
  throttle_scale: z.number().positive().max(1000).optional(),
  omit_retry_after: z.boolean().optional(),
  throttle_window_ms: z.number().int().min(10).max(3_600_000).optional(),
  drop_response_rate: z.number().min(0).max(1).optional(),
})

/** Per-tenant faults (`PUT /_emulator/tenants/{id}/faults`). */
const tenantFaultsInput = z.strictObject({
  /** Audit events are listed only this long after their change (Intune's log lags by minutes). */
  audit_delay_ms: z.number().int().min(0).max(86_400_000),
})

const permissionsInput = z.union([
  z.array(z.string()),
  z.object({ permissions: z.array(z.string()) }).transform((v) => v.permissions),
])

const error = (status: number, code: string, message: string): Reply => ({ status, body: { error: { code, message } } })

function invalid(result: { error: z.ZodError }): Reply {
  return error(
    400,
    'invalid_request',
    result.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
  )
}

export function summary(tenant: EmulatedTenant) {
  return {
    tenant_id: tenant.settings.tenantId,
    client_id: tenant.settings.clientId,
    seed: tenant.model.seed,
    policies: tenant.model.size,
    permissions: [...tenant.permissions].sort(),
    token_lifetime_s: tenant.settings.tokenLifetimeSeconds,
    app_name: tenant.settings.appName,
    group_count: tenant.model.groupCount,
    counts: Object.fromEntries(tenant.model.counts),
  }
}

/** Creates a tenant (also used in-process by `serve` and tests). */
export function createTenant(state: EmulatorState, raw: NewTenantInput): EmulatedTenant {
  const input = newTenantInput.parse(raw)
  const tenantId = input.tenant_id ?? TenantModel.tenantIdFor(input.seed, input.policies, input.client_id)
  if (state.tenants.has(tenantId)) throw new Error(`Tenant ${tenantId} already exists`)
  const tenant = new EmulatedTenant(input.seed, input.policies, {
    tenantId,
    clientId: input.client_id,
    clientSecret: input.client_secret,
    permissions: input.permissions ?? DEFAULT_GRANTS,
    tokenLifetimeSeconds: input.token_lifetime_s,
    appName: input.app_name,
  })
  state.tenants.set(tenantId, tenant)
  return tenant
}

/** Routes `/_emulator/...`; `parts` are the segments after `_emulator`. Returns a stream for the inventory. */
export function handleControl(
  state: EmulatorState,
  method: string,
  parts: string[],
  body: unknown,
  query = new URLSearchParams(),
): Reply | { stream: Iterable<string> } {
  const [resource, id, sub, itemId] = parts
  const directory = directoryControl(state, method, parts, body)
  if (directory) return directory
  if (resource === 'faults') {
    if (method === 'GET') return { status: 200, body: state.faults }
    if (method !== 'PUT') return error(405, 'method_not_allowed', 'Use GET or PUT')
    const parsed = faultsInput.safeParse(body ?? {})
    if (!parsed.success) return invalid(parsed)
    state.faults = {
      ...DEFAULT_FAULTS,
      ...Object.fromEntries(Object.entries(parsed.data).filter(([, v]) => v !== undefined)),
    }
    return { status: 200, body: state.faults }
  }
  if (resource === 'stats') {
    if (method === 'DELETE') {
      state.stats = new Stats()
      return { status: 204, body: null }
    }
    return { status: 200, body: state.stats.toJSON() }
  }
  if (resource === 'throttle' && method === 'DELETE') {
    state.throttle.reset()
    return { status: 204, body: null }
  }
  if (resource !== 'tenants') return error(404, 'not_found', 'Unknown control resource')
  if (id === undefined) {
    if (method === 'GET') return { status: 200, body: { data: [...state.tenants.values()].map(summary) } }
    if (method !== 'POST') return error(405, 'method_not_allowed', 'Use POST')
    const parsed = newTenantInput.safeParse(body ?? {})
    if (!parsed.success) return invalid(parsed)
    const tenantId =
      parsed.data.tenant_id ?? TenantModel.tenantIdFor(parsed.data.seed, parsed.data.policies, parsed.data.client_id)
    if (state.tenants.has(tenantId))
      return error(409, 'conflict', `Tenant ${tenantId} already exists: use another client_id or tenant_id`)
    return { status: 201, body: summary(createTenant(state, parsed.data)) }
  }
  const tenant = state.tenants.get(id)
  if (!tenant) return error(404, 'not_found', `No emulated tenant ${id}`)
  if (sub === undefined) {
    if (method === 'GET') return { status: 200, body: summary(tenant) }
    if (method === 'DELETE') {
      state.tenants.delete(id)
      return { status: 204, body: null }
    }
    return error(405, 'method_not_allowed', 'Use GET or DELETE')
  }
  if (sub === 'permissions' && method === 'PUT') {
    const parsed = permissionsInput.safeParse(body)
    if (!parsed.success) return invalid(parsed)
    tenant.permissions = new Set(parsed.data)
    return { status: 200, body: { permissions: [...tenant.permissions].sort() } }
  }
  if (sub === 'faults') {
    if (method === 'GET') return { status: 200, body: { audit_delay_ms: tenant.audit.delayMs } }
    if (method !== 'PUT') return error(405, 'method_not_allowed', 'Use GET or PUT')
    const parsed = tenantFaultsInput.safeParse(body ?? {})
    if (!parsed.success) return invalid(parsed)
    tenant.audit.delayMs = parsed.data.audit_delay_ms
    return { status: 200, body: { audit_delay_ms: tenant.audit.delayMs } }
  }
  if (sub === 'retired_setting_definitions' && method === 'PUT') {
    const parsed = z.array(z.string().min(1)).max(10_000).safeParse(body)
    if (!parsed.success) return invalid(parsed)
    tenant.retiredSettingDefinitions = new Set(parsed.data)
    return { status: 200, body: { retired_setting_definitions: [...tenant.retiredSettingDefinitions].sort() } }
  }
  if (sub === 'inventory' && method === 'GET') {
    const include = query.get('include')
    if (include !== null && include !== 'content')
      return error(400, 'invalid_request', `include: only 'content' is supported`)
    return { stream: inventoryJson(tenant, include === 'content') }
  }
  if (sub === 'items') return items(tenant, method, itemId, body)
  return error(404, 'not_found', 'Unknown control resource')
}

/**
 * Control-API changes to a tenant's objects (PATCH also renames an Entra group). Each Intune change is recorded in Intune's audit log with the
 * request's `actor` (`{user_principal_name}` or `{app_name, app_id?}`; default a fixed test admin).
 */
function items(tenant: EmulatedTenant, method: string, itemId: string | undefined, body: unknown): Reply {
  const { actor: rawActor, ...fields } =
    typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {}
  const parsedActor = actorInput.optional().safeParse(rawActor)
  if (!parsedActor.success)
    return error(400, 'invalid_request', `actor: ${parsedActor.error.issues.map((i) => i.message).join('; ')}`)
  const actor = actorFrom(parsedActor.data)
  if (itemId === undefined) {
    if (method !== 'POST') return error(405, 'method_not_allowed', 'Use POST')
    const { type, ...rest } = fields
    const entry = typeof type === 'string' ? findPolicyType(type) : undefined
    if (!entry || !entry.listable) return error(400, 'invalid_request', `type: one of the catalog's listable keys`)
    // A singleton is added back only after a DELETE: a tenant has one at most.
    if (entry.singleton && tenant.find([entry], entry.singleton.id))
      return error(409, 'conflict', `${entry.key} is a singleton and exists: PATCH /items/${entry.singleton.id}`)
    const created = tenant.add(entry, rest)
    tenant.audit.record({
      operation: 'Create',
      entry,
      object: created.body,
      actor,
      modified: modifiedProperties(null, created.body),
    })
    return { status: 201, body: { type: entry.key, ...created.body } }
  }
  if (method === 'PATCH') {
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      return error(400, 'invalid_request', 'body: a JSON object')
    const patched = tenant.patch(itemId, fields)
    if (!patched) {
      // An Entra group (a rename): not an Intune change, so no Intune audit event.
      const group = tenant.patchGroup(itemId, fields)
      return group
        ? { status: 200, body: { type: 'group', ...group.after } }
        : error(404, 'not_found', `No item ${itemId}`)
    }
    const { before, after } = patched
    const modified = modifiedProperties(before.body, after.body)
    if ('assignments' in fields)
      modified.push(...modifiedProperties({ assignments: before.assignments }, { assignments: after.assignments }))
    for (const name of Object.keys((fields.children as object | undefined) ?? {}))
      modified.push(...modifiedProperties({ [name]: before.children(name) }, { [name]: after.children(name) }))
    tenant.audit.record({ operation: 'Patch', entry: getPolicyType(after.key), object: after.body, actor, modified })
    return { status: 200, body: { type: after.key, ...after.body } }
  }
  if (method === 'DELETE') {
    const deleted = tenant.delete(itemId)
    if (!deleted) return error(404, 'not_found', `No item ${itemId}`)
    tenant.audit.record({ operation: 'Delete', entry: getPolicyType(deleted.key), object: deleted.body, actor })
    return { status: 204, body: null }
  }
  return error(405, 'method_not_allowed', 'Use PATCH or DELETE')
}

/** The ground truth as a JSON stream, so a 100,000-object tenant is never one string in memory. */
function* inventoryJson(tenant: EmulatedTenant, content: boolean): Generator<string> {
  yield '{"objects":['
  let first = true
  let chunk = ''
  for (const o of tenant.inventory({ content })) {
    chunk += (first ? '' : ',') + JSON.stringify(o)
    first = false
    if (chunk.length > 64_000) {
      yield chunk
      chunk = ''
    }
  }
  yield `${chunk}]}`
}
