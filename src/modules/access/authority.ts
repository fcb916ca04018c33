import { AppError, forbidden } from '../../lib/errors.ts'
import { authorize, can, type Capability, type TenantAccess } from './policy.ts'
import { FULL_SCOPE, formatScope, scopeAllows, type TokenScope } from './token-scope.ts'

/**
 * The one rule for starting or changing anything (issue 22, ADR 022): may this principal use this
 * capability in this tenant? Both the role and the token's scope must allow it; the narrower wins.
 * Every start path asks it with the capability of the operation type it starts: the direct start
 * (the route's capability), a re-run, a schedule's create and update, a schedule firing (for its
 * creator, at every slot), Undo. A read-only token never starts anything.
 */
export function authorizeStart(access: TenantAccess, capability: Capability): void {
  authorize(access, capability)
  const scope = access.scope ?? FULL_SCOPE
  if (scope.kind === 'read' || !scopeAllows(scope, capability)) {
    throw forbidden(`This API token's scope does not include ${capability}`)
  }
}

/** The same rule as a question, with its answer's reason (null: allowed); for a schedule's creator at fire time. */
export function whyNot(role: TenantAccess['role'] | undefined, scope: TokenScope, capability: Capability) {
  if (role === undefined) return 'its creator is no longer a member of the tenant'
  if (!can(role, capability)) return `its creator's role (${role}) no longer allows ${capability}`
  if (scope.kind === 'read' || !scopeAllows(scope, capability)) {
    return `the API token it was created with (scope ${formatScope(scope)}) does not allow ${capability}`
  }
  return null
}

/** What needs a fresh sign-in (issue 28): changes that destroy or overwrite a tenant's configuration. */
export const DESTRUCTIVE_ACTIONS = ['restore.execute', 'bulk.delete', 'backups.delete', 'findings.approve'] as const
export type DestructiveAction = (typeof DESTRUCTIVE_ACTIONS)[number]

/**
 * The same rule's second half for destructive actions (ADR 028), asked by every path that starts one
 * after `authorizeStart` or the route's capability check: a session must have authenticated within
 * the policy's minutes (or carry its Conditional Access context); an API token must have been given
 * the `destructive` scope by name (`full` is not enough). 403 `step_up_required` tells the console to
 * send the person through sign-in again and resume.
 */
export function authorizeDestructive(access: TenantAccess, action: DestructiveAction, now = Date.now()): void {
  const freshness = access.freshness
  if (!freshness?.policy) return
  const policy = freshness.policy
  if (freshness.via === 'token') {
    if (access.scope?.kind !== 'list' || !access.scope.keys.includes('destructive'))
      throw forbidden(`An API token can perform ${action} only when its scope names destructive explicitly`)
    return
  }
  const fresh = policy.acrs
    ? freshness.acrs.includes(policy.acrs)
    : freshness.authTime !== null && now - freshness.authTime.getTime() <= policy.maxAgeMinutes * 60_000
  if (fresh) return
  throw new AppError(
    403,
    'step_up_required',
    policy.acrs
      ? `${action} needs a sign-in that meets the authentication context ${policy.acrs}: sign in again`
      : `${action} needs a sign-in within the last ${policy.maxAgeMinutes} minutes: sign in again`,
    {
      action,
      max_age_seconds: policy.maxAgeMinutes * 60,
      acrs: policy.acrs ?? null,
      sign_in: freshness.entra ? 'microsoft' : 'password',
    },
  )
}
