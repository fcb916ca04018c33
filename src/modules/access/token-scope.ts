import { CAPABILITIES, type Capability } from './policy.ts'

/**
 * What a personal API token may do (docs/cli.md, docs/api.md). `full` is everything its owner may do;
 * `read` is what the owner may see, and no change at all; a list names capabilities. Whatever the
 * scope, a token never does more than its owner may at the time of use: the owner's role is
 * checked first, the scope narrows it.
 *
 * Besides the tenant capabilities, two keys cover what is not a tenant's: `tokens.manage`
 * (create and revoke API tokens) and `workspace.admin` (add tenants and users; admins only).
 * `destructive` lets a token execute a restore, bulk-delete and delete a backup set when step-up is
 * on (ADR 028): a `full` token does not, since a token cannot show a fresh sign-in.
 */
export const ACCOUNT_SCOPES = ['tokens.manage', 'workspace.admin', 'destructive'] as const
export type ScopeKey = Capability | (typeof ACCOUNT_SCOPES)[number]
export const SCOPE_KEYS: readonly ScopeKey[] = [...CAPABILITIES, ...ACCOUNT_SCOPES]

export type TokenScope = { kind: 'full' } | { kind: 'read' } | { kind: 'list'; keys: ScopeKey[] }

/** What a read-only token sees. */
export const READ_CAPABILITIES: readonly Capability[] = ['tenant.view', 'operations.view', 'audit.view']

export const FULL_SCOPE: TokenScope = { kind: 'full' }

/** Parses `full`, `read` or `CAP,CAP…`; returns an error message for anything else. */
export function parseScope(text: string): TokenScope | { error: string } {
  const value = text.trim()
  if (value === 'full' || value === '') return FULL_SCOPE
  if (value === 'read') return { kind: 'read' }
  const keys = [
    ...new Set(
      value
        .split(',')
        .map((k) => k.trim())
        .filter(Boolean),
    ),
  ]
  const unknown = keys.filter((k) => !(SCOPE_KEYS as readonly string[]).includes(k))
  if (unknown.length > 0)
    return {
      error: `unknown capability ${unknown.join(', ')} (use full, read, or a list of: ${SCOPE_KEYS.join(', ')})`,
    }
  return { kind: 'list', keys: SCOPE_KEYS.filter((k) => keys.includes(k)) }
}

/** The stored (and presented) form: `full`, `read`, or the capabilities in catalog order, comma-separated. */
export const formatScope = (scope: TokenScope) => (scope.kind === 'list' ? scope.keys.join(',') : scope.kind)

/** A stored scope; an unreadable one allows nothing. */
export function storedScope(text: string): TokenScope {
  const scope = parseScope(text)
  return 'error' in scope ? { kind: 'list', keys: [] } : scope
}

export function scopeAllows(scope: TokenScope, key: ScopeKey): boolean {
  if (scope.kind === 'full') return true
  if (scope.kind === 'read') return (READ_CAPABILITIES as readonly string[]).includes(key)
  return scope.keys.includes(key)
}

/** A read-only token changes nothing: every method but GET, HEAD and OPTIONS is refused. */
export const scopeAllowsMethod = (scope: TokenScope, method: string) =>
  scope.kind !== 'read' || ['GET', 'HEAD', 'OPTIONS'].includes(method)

/** Whether `inner` grants nothing beyond `outer` (a token creating a token passes on at most its own scope). */
export function scopeWithin(inner: TokenScope, outer: TokenScope): boolean {
  if (outer.kind === 'full') return true
  if (inner.kind === 'full') return false
  return (inner.kind === 'read' ? READ_CAPABILITIES : inner.keys).every((k) => scopeAllows(outer, k))
}
