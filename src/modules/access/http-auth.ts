import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from '../../lib/config.ts'
import type { Database } from '../../db/engine.ts'
import { AppError, forbidden, notFound, unauthenticated } from '../../lib/errors.ts'
import { UUID_PATTERN } from '../../lib/ids.ts'
import { authenticate, type Principal } from './authenticate.ts'
import { type Capability, type TenantAccess, authorize, can } from './policy.ts'
import { findMembership } from './repository.ts'
import type { Actor } from '../audit/record-audit-event.ts'
import { SESSION_DAYS } from './sign-in.ts'
import { type ScopeKey, scopeAllows, scopeAllowsMethod } from './token-scope.ts'
import { groupTenantIds } from '../tenant-groups/repository.ts'

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The capability a tenant route needs, checked before the body and query are validated, so
     * a caller who may not use the route learns nothing from its validation errors (403 first).
     */
    capability?: Capability
    /** For a route outside tenants: what the caller's token must allow (`workspace.admin`: and the caller must be an admin), checked as early. */
    scope?: ScopeKey
  }
}

export const SESSION_COOKIE = 'ta_session'
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

const bearerOf = (request: FastifyRequest) => {
  const header = request.headers.authorization
  if (!header) return undefined
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
  if (!match) throw unauthenticated('The Authorization header must be "Bearer <personal API token>"')
  return match[1]
}

export type Auth = ReturnType<typeof createAuth>

export type AuthOptions = {
  /** Re-reads an Entra session's claims and applies the role rules (modules/entra/entra-sign-in.ts `recheckSession`). */
  recheckEntraSession?: (principal: Principal) => Promise<'applied' | 'ended' | 'deferred'>
}

export function createAuth(db: Database, config: Config, options: AuthOptions = {}) {
  const stepUp = config.entra
    ? { maxAgeMinutes: config.entra.stepUpMaxAgeMinutes, acrs: config.entra.stepUpAcrs }
    : null
  const roleCheckMs = (config.entra?.roleCheckMinutes ?? 60) * 60_000

  /** An Entra session whose roles were last read more than ENTRA_ROLE_CHECK_MINUTES ago is checked against Entra first. */
  async function checkedWithEntra(principal: Principal, credentials: { session?: string }): Promise<Principal> {
    const checked = principal.session?.rolesCheckedAt
    if (!options.recheckEntraSession || !principal.session?.identityId) return principal
    if (checked && Date.now() - checked.getTime() < roleCheckMs) return principal
    const outcome = await options.recheckEntraSession(principal)
    if (outcome === 'ended')
      throw unauthenticated('Microsoft Entra ID no longer signs you in (account disabled or removed): sign in again')
    return (await authenticate(db, credentials)) ?? principal
  }
  const publicOrigin = config.publicUrl ? new URL(config.publicUrl).origin : undefined
  const principals = new WeakMap<FastifyRequest, Principal>()
  const memberships = new WeakMap<FastifyRequest, TenantAccess>()

  /**
   * CSRF: a cookie is sent by the browser whoever asks it to, so a cookie-authenticated
   * mutation must come from our own origin. Browsers send Origin on every non-GET request;
   * a request without it (or from elsewhere) is refused. Bearer tokens are not ambient
   * credentials and need no such check.
   */
  function assertSameOrigin(request: FastifyRequest) {
    const origin = request.headers.origin
    const fetchSite = request.headers['sec-fetch-site']
    const own = `${request.protocol}://${request.host}`
    if (origin ? origin === own || origin === publicOrigin : fetchSite === 'same-origin') return
    throw new AppError(
      403,
      'csrf_rejected',
      'Cross-site request refused: send the request from the TenantAtlas origin, or use an API token',
    )
  }

  async function principalOf(request: FastifyRequest): Promise<Principal> {
    const cached = principals.get(request)
    if (cached) return cached
    const bearer = bearerOf(request)
    const session = bearer ? undefined : request.cookies[SESSION_COOKIE]
    const found = await authenticate(db, { bearer, session })
    const principal = found && (await checkedWithEntra(found, { session }))
    if (!principal)
      throw unauthenticated(
        bearer
          ? 'The API token is invalid or revoked'
          : session
            ? 'Your session has expired: sign in again'
            : undefined,
      )
    if (principal.via === 'session' && !SAFE_METHODS.has(request.method)) assertSameOrigin(request)
    if (!scopeAllowsMethod(principal.scope, request.method))
      throw forbidden('This API token is read-only: it cannot change anything')
    principals.set(request, principal)
    return principal
  }

  /**
   * A token's scope narrows what its owner may do; a session has the owner's full rights. A
   * read-only token reads whatever its owner may (it changes nothing: principalOf refuses that).
   */
  function assertScope(request: FastifyRequest, principal: Principal, key: ScopeKey) {
    if (principal.scope.kind === 'read' && SAFE_METHODS.has(request.method)) return
    if (!scopeAllows(principal.scope, key)) throw forbidden(`This API token's scope does not include ${key}`)
  }

  /** The caller's role in a tenant, or a 404 that does not reveal whether the tenant exists. */
  async function membershipOf(request: FastifyRequest, tenantId: string): Promise<TenantAccess> {
    const cached = memberships.get(request)
    if (cached?.tenantId === tenantId) return cached
    const principal = await principalOf(request)
    const membership = UUID_PATTERN.test(tenantId) ? await findMembership(db, tenantId, principal.user.id) : undefined
    if (!membership || !(await inTokenGroup(principal, tenantId))) throw notFound('Tenant')
    const access: TenantAccess = {
      tenantId,
      userId: principal.user.id,
      role: membership.role,
      scope: principal.scope,
      freshness: {
        via: principal.via,
        authTime: principal.session?.authTime ?? null,
        acrs: principal.session?.acrs ?? [],
        entra: Boolean(principal.session?.identityId),
        policy: stepUp,
      },
    }
    memberships.set(request, access)
    return access
  }

  /** A token limited to a tenant group reaches only that group's tenants (today's members of the group). */
  async function inTokenGroup(principal: Pick<Principal, 'tenantGroupId'>, tenantId: string) {
    if (!principal.tenantGroupId) return true
    return (await groupTenantIds(db, principal.tenantGroupId)).includes(tenantId)
  }

  /** Each request's tenant access decisions, by tenant and capability. */
  const decisions = new WeakMap<FastifyRequest, Map<string, Promise<{ principal: Principal; access: TenantAccess }>>>()

  return {
    assertSameOrigin,

    /** The memberships a principal may see: all of them, or a group-limited token's group's. */
    async visibleMemberships<T extends { tenant: { id: string } }>(principal: Principal, rows: T[]): Promise<T[]> {
      if (!principal.tenantGroupId) return rows
      const ids = new Set(await groupTenantIds(db, principal.tenantGroupId))
      return rows.filter((row) => ids.has(row.tenant.id))
    },
    principalOf,

    actorOf: (request: FastifyRequest, principal: Principal): Actor => ({
      kind: principal.via === 'token' ? 'token' : 'user',
      userId: principal.user.id,
      ip: request.ip,
    }),

    membershipOf,

    /**
     * The caller's access to a tenant with one capability checked: 404 outside their tenants, 403
     * for a missing capability. The capability is the route's `config.capability` unless named (a
     * route that checks a second one, or none in its config); decided once per request — the check
     * before validation and the handler's call share it.
     */
    tenantAccess(request: FastifyRequest, tenantId: string, capability?: Capability) {
      const wanted = capability ?? request.routeOptions.config.capability
      if (!wanted) throw new Error(`${request.routeOptions.url ?? request.url} has no config.capability to check`)
      const decided =
        decisions.get(request) ?? new Map<string, Promise<{ principal: Principal; access: TenantAccess }>>()
      decisions.set(request, decided)
      const key = `${tenantId}\n${wanted}`
      let decision = decided.get(key)
      if (!decision) {
        decision = (async () => {
          const principal = await principalOf(request)
          const access = await membershipOf(request, tenantId)
          authorize(access, wanted)
          assertScope(request, principal, wanted)
          return { principal, access }
        })()
        decided.set(key, decision)
      }
      return decision
    },

    assertScope,

    /** For long-lived responses (SSE): is the caller still signed in and still allowed, right now? */
    async stillAllowed(request: FastifyRequest, tenantId: string, capability: Capability): Promise<boolean> {
      const bearer = bearerOf(request)
      const principal = await authenticate(db, {
        bearer,
        session: bearer ? undefined : request.cookies[SESSION_COOKIE],
      }).catch(() => null)
      if (!principal) return false
      const membership = await findMembership(db, tenantId, principal.user.id)
      return (
        membership !== undefined &&
        (await inTokenGroup(principal, tenantId)) &&
        can(membership.role, capability) &&
        (principal.scope.kind === 'read' || scopeAllows(principal.scope, capability))
      )
    },

    async requireAdmin(request: FastifyRequest) {
      const principal = await principalOf(request)
      if (!principal.user.isAdmin) throw new AppError(403, 'forbidden', 'Only a workspace admin can do this')
      assertScope(request, principal, 'workspace.admin')
      return principal
    },

    setSessionCookie(request: FastifyRequest, reply: FastifyReply, token: string) {
      void reply.setCookie(SESSION_COOKIE, token, {
        httpOnly: true,
        sameSite: 'lax',
        secure: request.protocol === 'https',
        path: '/',
        maxAge: SESSION_DAYS * 24 * 60 * 60,
      })
    },

    clearSessionCookie(request: FastifyRequest, reply: FastifyReply) {
      void reply.clearCookie(SESSION_COOKIE, {
        httpOnly: true,
        sameSite: 'lax',
        secure: request.protocol === 'https',
        path: '/',
      })
    },
  }
}
