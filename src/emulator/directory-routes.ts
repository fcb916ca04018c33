import { randomUUID } from 'node:crypto'
import type { EmulatedTenant } from './emulated-tenant.ts'
import type { EmulatorState } from './emulator-state.ts'
import { graphError, hasPermission, ok, select, type GraphResponse } from './graph-routes.ts'
import type { Reply } from './login-routes.ts'
import { parseFilter, matches, parseSelect } from './odata.ts'

/**
 * Entra users, devices and groups with nesting (docs/emulator.md, "Directory"): created through the control
 * API, served to Graph as `/users`, `/devices`, `/groups/{id}` and the transitive membership
 * resources. Kept beside the tenant (a WeakMap), so the generated tenant model is untouched; a group the
 * model generated (one that assignments reference) can be a parent of a directory group, which is how
 * a test nests a user three levels under a group that policies target.
 */

type Principal = {
  kind: 'user' | 'device' | 'group'
  body: Record<string, unknown> & { id: string }
  memberOf: Set<string>
}
type Directory = { byId: Map<string, Principal>; password: Map<string, string>; appRoles: Map<string, string[]> }

const directories = new WeakMap<EmulatedTenant, Directory>()
const directoryOf = (tenant: EmulatedTenant): Directory => {
  let d = directories.get(tenant)
  if (!d) directories.set(tenant, (d = { byId: new Map(), password: new Map(), appRoles: new Map() }))
  return d
}

const GROUP_READ = ['GroupMember.Read.All', 'Group.Read.All', 'Directory.Read.All']
const USER_READ = ['User.Read.All', 'Directory.Read.All']
const DEVICE_READ = ['Device.Read.All', 'Directory.Read.All']
const MAX_TOP = 999

const granted = (tenant: EmulatedTenant, any: string[]) => any.some((p) => hasPermission(tenant, p))
const denied = (any: string[]) =>
  graphError(
    403,
    'Authorization_RequestDenied',
    `Insufficient privileges to complete the operation. Application must have one of the following scopes: ${any.join(', ')}`,
    'object',
  )
const missing = (id: string) =>
  graphError(
    404,
    'Request_ResourceNotFound',
    `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
    'object',
  )

/** A group id the tenant knows: a directory group, or one the tenant model generated (and did not delete). */
export function groupExists(tenant: EmulatedTenant, id: string) {
  if (directoryOf(tenant).byId.get(id)?.kind === 'group') return true
  const generated = tenant.group(id)
  return generated !== undefined && generated !== 'deleted'
}

/** The control API: `POST /_emulator/tenants/{id}/users|groups|devices`; undefined for any other path. */
export function directoryControl(
  state: EmulatorState,
  method: string,
  parts: string[],
  body: unknown,
): Reply | undefined {
  const [resource, tenantId, sub] = parts
  if (resource === 'tenants' && parts.length === 4 && (sub === 'users' || sub === 'groups'))
    return changePrincipal(state, method, tenantId!, sub === 'users' ? 'user' : 'group', parts[3]!, body)
  if (resource !== 'tenants' || parts.length !== 3 || (sub !== 'users' && sub !== 'groups' && sub !== 'devices'))
    return undefined
  const tenant = state.tenants.get(tenantId!)
  if (!tenant) return { status: 404, body: { error: { code: 'not_found', message: `No emulated tenant ${tenantId}` } } }
  if (method !== 'POST') return { status: 405, body: { error: { code: 'method_not_allowed', message: 'Use POST' } } }
  const input = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>
  const invalid = (message: string): Reply => ({ status: 400, body: { error: { code: 'invalid_request', message } } })
  const ids = (field: string): string[] | Reply => {
    const value = input[field] ?? []
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string'))
      return invalid(`${field}: must be a list of ids`)
    return value as string[]
  }
  const name = sub === 'users' ? input.name : input.name
  if (typeof name !== 'string' || name.trim() === '') return invalid('name: is required')
  const directory = directoryOf(tenant)
  const parents = ids(sub === 'groups' ? 'member_of' : 'groups')
  if (!Array.isArray(parents)) return parents
  const unknown = parents.find((g) => !groupExists(tenant, g))
  if (unknown) return invalid(`${sub === 'groups' ? 'member_of' : 'groups'}: no group ${unknown}`)
  const id = randomUUID()
  let principal: Principal
  if (sub === 'users') {
    const upn = input.user_principal_name
    if (typeof upn !== 'string' || !upn.includes('@'))
      return invalid('user_principal_name: must be a UPN (user@domain)')
    const taken = [...directory.byId.values()].some(
      (p) => p.kind === 'user' && String(p.body.userPrincipalName).toLowerCase() === upn.toLowerCase(),
    )
    if (taken) return { status: 409, body: { error: { code: 'conflict', message: `A user ${upn} already exists` } } }
    principal = {
      kind: 'user',
      body: { id, displayName: name, userPrincipalName: upn, mail: upn, accountEnabled: true },
      memberOf: new Set(parents),
    }
    if (typeof input.password === 'string') directory.password.set(id, input.password)
  } else if (sub === 'devices') {
    principal = {
      kind: 'device',
      body: { id, displayName: name, deviceId: randomUUID(), accountEnabled: true, operatingSystem: 'Windows' },
      memberOf: new Set(parents),
    }
  } else {
    principal = {
      kind: 'group',
      body: {
        id,
        displayName: name,
        description: null,
        groupTypes: [],
        mailEnabled: false,
        securityEnabled: true,
        mailNickname: name.replace(/\W/g, ''),
      },
      memberOf: new Set(parents),
    }
  }
  if (sub !== 'devices') {
    const roles = appRolesInput(input.app_roles)
    if (typeof roles === 'string') return invalid(roles)
    if (roles) directory.appRoles.set(id, roles)
  }
  directory.byId.set(id, principal)
  // `members` of a new group: existing directory principals join it.
  if (sub === 'groups') {
    const members = ids('members')
    if (!Array.isArray(members)) return members
    const stranger = members.find((m) => !directory.byId.has(m))
    if (stranger) {
      directory.byId.delete(id)
      return invalid(`members: no user, device or group ${stranger}`)
    }
    for (const m of members) directory.byId.get(m)!.memberOf.add(id)
  }
  return { status: 201, body: presentPrincipal(directory, principal) }
}

const presentPrincipal = (directory: Directory, principal: Principal) => ({
  ...principal.body,
  kind: principal.kind,
  member_of: [...principal.memberOf],
  ...(principal.kind === 'device' ? {} : { app_roles: directory.appRoles.get(principal.body.id) ?? [] }),
})

/** App roles assigned to a user or group: a list of role values (the `value` of the app's appRoles). */
function appRolesInput(value: unknown): string[] | undefined | string {
  if (value === undefined) return undefined
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v === ''))
    return 'app_roles: must be a list of app role values'
  return [...new Set(value as string[])]
}

/**
 * `PATCH /_emulator/tenants/{id}/users/{userId}` (`groups`, `app_roles`, `account_enabled`, `password`) and
 * `PATCH …/groups/{groupId}` (`member_of`, `app_roles`): what an Entra admin changes between two sign-ins;
 * `groups` and `member_of` replace the direct memberships. `GET` on either reads it back.
 */
function changePrincipal(
  state: EmulatorState,
  method: string,
  tenantId: string,
  kind: 'user' | 'group',
  id: string,
  body: unknown,
): Reply {
  const tenant = state.tenants.get(tenantId)
  if (!tenant) return { status: 404, body: { error: { code: 'not_found', message: `No emulated tenant ${tenantId}` } } }
  const directory = directoryOf(tenant)
  const principal = directory.byId.get(id)
  if (principal?.kind !== kind)
    return { status: 404, body: { error: { code: 'not_found', message: `No directory ${kind} ${id}` } } }
  if (method === 'GET') return { status: 200, body: presentPrincipal(directory, principal) }
  if (method !== 'PATCH')
    return { status: 405, body: { error: { code: 'method_not_allowed', message: 'Use GET or PATCH' } } }
  const input = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>
  const invalid = (message: string): Reply => ({ status: 400, body: { error: { code: 'invalid_request', message } } })
  const field = kind === 'user' ? 'groups' : 'member_of'
  const parents = input[field]
  if (parents !== undefined) {
    if (!Array.isArray(parents) || parents.some((g) => typeof g !== 'string'))
      return invalid(`${field}: must be a list of group ids`)
    const unknown = (parents as string[]).find((g) => !groupExists(tenant, g) || g === id)
    if (unknown) return invalid(`${field}: no group ${unknown}`)
  }
  const roles = appRolesInput(input.app_roles)
  if (typeof roles === 'string') return invalid(roles)
  if (input.account_enabled !== undefined && typeof input.account_enabled !== 'boolean')
    return invalid('account_enabled: must be true or false')
  if (input.password !== undefined && typeof input.password !== 'string') return invalid('password: must be text')
  if (parents !== undefined) principal.memberOf = new Set(parents as string[])
  if (roles) directory.appRoles.set(id, roles)
  if (kind === 'user' && typeof input.account_enabled === 'boolean')
    principal.body.accountEnabled = input.account_enabled
  if (kind === 'user' && typeof input.password === 'string') directory.password.set(id, input.password)
  return { status: 200, body: presentPrincipal(directory, principal) }
}

/** A directory user as the sign-in page and the id token see it. */
export type DirectoryUser = {
  id: string
  name: string
  upn: string
  enabled: boolean
  /** Every group the user is in, directly or through nesting. */
  groups: string[]
  /** App roles assigned to the user or to a group the user is a direct member of. */
  appRoles: string[]
}

function asDirectoryUser(tenant: EmulatedTenant, principal: Principal): DirectoryUser {
  const directory = directoryOf(tenant)
  // Entra applies an app role assigned to a group to its direct members only (nested groups do not
  // pass it on): https://learn.microsoft.com/entra/identity-platform/howto-add-app-roles-in-apps
  const roles = [principal.body.id, ...principal.memberOf].flatMap((id) => directory.appRoles.get(id) ?? [])
  return {
    id: principal.body.id,
    name: String(principal.body.displayName),
    upn: String(principal.body.userPrincipalName),
    enabled: principal.body.accountEnabled !== false,
    groups: transitiveGroups(tenant, principal.memberOf),
    appRoles: [...new Set(roles)].sort(),
  }
}

/** The tenant's directory users, in the order they were created. */
export const directoryUsers = (tenant: EmulatedTenant): DirectoryUser[] =>
  [...directoryOf(tenant).byId.values()].filter((p) => p.kind === 'user').map((p) => asDirectoryUser(tenant, p))

/** A directory user by object id or UPN. */
export function directoryUser(tenant: EmulatedTenant, idOrUpn: string): DirectoryUser | undefined {
  const directory = directoryOf(tenant)
  const byId = directory.byId.get(idOrUpn)
  const principal =
    byId?.kind === 'user'
      ? byId
      : [...directory.byId.values()].find(
          (p) => p.kind === 'user' && String(p.body.userPrincipalName).toLowerCase() === idOrUpn.toLowerCase(),
        )
  return principal ? asDirectoryUser(tenant, principal) : undefined
}

/** Whether a password is right for a user: a user created without one signs in with any. */
export function passwordMatches(tenant: EmulatedTenant, userId: string, password: string): boolean {
  const stored = directoryOf(tenant).password.get(userId)
  return stored === undefined || stored === password
}

/** Every group a principal is in, directly or through nesting (cycles end where they started). */
function transitiveGroups(tenant: EmulatedTenant, start: Set<string>): string[] {
  const directory = directoryOf(tenant)
  const seen = new Set<string>()
  const queue = [...start]
  while (queue.length > 0) {
    const id = queue.shift()!
    if (seen.has(id)) continue
    seen.add(id)
    for (const parent of directory.byId.get(id)?.memberOf ?? []) queue.push(parent)
  }
  return [...seen]
}

/** A group as Graph serves it in a membership list: the directory's own, or the generated one. */
function groupBody(tenant: EmulatedTenant, id: string): Record<string, unknown> | undefined {
  const own = directoryOf(tenant).byId.get(id)
  if (own?.kind === 'group') return own.body
  const generated = tenant.group(id)
  return generated && generated !== 'deleted' ? generated : undefined
}

const withType = (kind: Principal['kind'], body: Record<string, unknown>) => ({
  '@odata.type': `#microsoft.graph.${kind}`,
  ...body,
})

function collection(values: Record<string, unknown>[], q: Map<string, string>, context: string): GraphResponse {
  let filter = null
  try {
    filter = q.has('filter') ? parseFilter(q.get('filter')!) : null
  } catch (error) {
    return graphError(400, 'Request_BadRequest', `Invalid filter clause: ${(error as Error).message}`, 'list')
  }
  const top = q.has('top') ? Number(q.get('top')) : MAX_TOP
  if (!Number.isInteger(top) || top < 1 || top > MAX_TOP)
    return graphError(400, 'Request_BadRequest', 'Invalid $top', 'list')
  const fields = parseSelect(q.get('select'))
  // Small directories: one page, as Graph answers when everything fits.
  return ok(
    {
      '@odata.context': context,
      value: values
        .filter((v) => matches(filter, v))
        .slice(0, top)
        .map((v) => select(v, fields)),
    },
    'list',
  )
}

/**
 * Graph reads of the directory: `/users`, `/users/{id|upn}`, `/users/{id}/transitiveMemberOf`,
 * `/devices`, `/devices/{id}/transitiveMemberOf`, `/groups/{id}` of a directory group,
 * `/groups/{id}/transitiveMembers` and `/groups/{id}/transitiveMemberOf`. Undefined for anything
 * else, which the catalog's routes serve.
 */
export function directoryGraph(
  tenant: EmulatedTenant,
  rest: string[],
  q: Map<string, string>,
  context: string,
  method: string,
): GraphResponse | undefined {
  const [collectionName, id, relation] = rest
  const kind =
    collectionName === 'users'
      ? 'user'
      : collectionName === 'devices'
        ? 'device'
        : collectionName === 'groups'
          ? 'group'
          : undefined
  if (!kind || rest.length > 3) return undefined
  const directory = directoryOf(tenant)
  // Groups: the directory's own by id, and the membership relations of any group; the rest is the catalog's.
  if (kind === 'group' && (rest.length === 1 || (rest.length === 2 && directory.byId.get(id!)?.kind !== 'group')))
    return undefined
  if (method !== 'GET')
    return graphError(405, 'Request_BadRequest', 'The emulator serves the directory read-only', 'object')
  const needs = kind === 'user' ? USER_READ : kind === 'device' ? DEVICE_READ : GROUP_READ
  if (!granted(tenant, relation ? GROUP_READ : needs)) return denied(relation ? GROUP_READ : needs)
  const all = [...directory.byId.values()].filter((p) => p.kind === kind)
  if (rest.length === 1)
    return collection(
      all.map((p) => withType(kind, p.body)),
      q,
      `${context}${collectionName}`,
    )
  // A user is addressed by id or by UPN, as Graph allows.
  const principal =
    directory.byId.get(id!) ??
    (kind === 'user'
      ? all.find((p) => String(p.body.userPrincipalName).toLowerCase() === id!.toLowerCase())
      : undefined)
  const isGeneratedGroup = kind === 'group' && !principal && groupBody(tenant, id!) !== undefined
  if (!principal && !isGeneratedGroup) return missing(id!)
  if (rest.length === 2)
    return ok({ '@odata.context': `${context}${collectionName}/$entity`, ...withType(kind, principal!.body) }, 'object')
  if (relation === 'transitiveMemberOf') {
    const start = principal ? principal.memberOf : new Set<string>()
    const groups = transitiveGroups(tenant, start).flatMap((g) => {
      const body = groupBody(tenant, g)
      return body ? [withType('group', body)] : []
    })
    return collection(groups, q, `${context}directoryObjects`)
  }
  if (relation === 'transitiveMembers' && kind === 'group') {
    const members = [...directory.byId.values()].filter(
      (p) => p.body.id !== id && transitiveGroups(tenant, p.memberOf).includes(id!),
    )
    return collection(
      members.map((p) => withType(p.kind, p.body)),
      q,
      `${context}directoryObjects`,
    )
  }
  return graphError(400, 'Request_BadRequest', `Unsupported segment '${relation}'`, 'object')
}
