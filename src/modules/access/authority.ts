import { forbidden } from '../../lib/errors.ts'
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
