import type { Database } from '../../db/engine.ts'
import type { UserRow } from '../../db/schema.ts'
import { sha256 } from '../../lib/crypto.ts'
import { unauthenticated } from '../../lib/errors.ts'
import { findSessionUser, findTokenUser, touchSession, touchToken } from './repository.ts'
import { FULL_SCOPE, storedScope, type TokenScope } from './token-scope.ts'

export type Principal = {
  user: UserRow
  via: 'session' | 'token'
  credentialId: string
  /** What the credential may do within what its owner may (a session: everything). */
  scope: TokenScope
  /** When the credential stops working (a token: null for never). */
  expiresAt: Date | null
  /** A session's sign-in: when the person last authenticated, how, and when Entra last vouched for their roles. */
  session?: SessionFacts
  /** A token limited to the tenants of one tenant group (null: every tenant of its owner). */
  tenantGroupId: string | null
}

export type SessionFacts = {
  authTime: Date | null
  acrs: string[]
  /** Set for a Microsoft (Entra ID) sign-in. */
  identityId: string | null
  refreshToken: string | null
  rolesCheckedAt: Date | null
}

/**
 * Resolves a bearer API token or a session cookie to the user behind it, or null. An expired
 * token is a 401 that says so, so a script's owner knows to make a new one.
 */
export async function authenticate(
  db: Database,
  credentials: { bearer?: string | undefined; session?: string | undefined },
): Promise<Principal | null> {
  if (credentials.bearer) {
    const row = await findTokenUser(db, sha256(credentials.bearer))
    if (!row) return null
    if (row.expiresAt && row.expiresAt.getTime() <= Date.now()) {
      throw unauthenticated(`The API token expired on ${row.expiresAt.toISOString()}: create a new one`)
    }
    if (!row.lastUsedAt || Date.now() - row.lastUsedAt.getTime() > 60_000) await touchToken(db, row.tokenId)
    return {
      user: row.user,
      via: 'token',
      credentialId: row.tokenId,
      scope: storedScope(row.scope),
      expiresAt: row.expiresAt,
      tenantGroupId: row.tenantGroupId,
    }
  }
  if (credentials.session) {
    const row = await findSessionUser(db, sha256(credentials.session))
    if (!row) return null
    if (Date.now() - row.lastSeenAt.getTime() > 60_000) await touchSession(db, row.sessionId)
    return {
      user: row.user,
      via: 'session',
      credentialId: row.sessionId,
      scope: FULL_SCOPE,
      expiresAt: null,
      session: {
        authTime: row.authTime,
        acrs: row.acrs,
        identityId: row.identityId,
        refreshToken: row.refreshToken,
        rolesCheckedAt: row.rolesCheckedAt,
      },
      tenantGroupId: null,
    }
  }
  return null
}
