import type { Database } from '../../db/engine.ts'
import type { UserRow } from '../../db/schema.ts'
import { sha256 } from '../../lib/crypto.ts'
import { findSessionUser, findTokenUser, touchSession, touchToken } from './repository.ts'

export type Principal = {
  user: UserRow
  via: 'session' | 'token'
  credentialId: string
}

/** Resolves a bearer API token or a session cookie to the user behind it, or null. */
export async function authenticate(db: Database, credentials: { bearer?: string | undefined; session?: string | undefined }): Promise<Principal | null> {
  if (credentials.bearer) {
    const row = await findTokenUser(db, sha256(credentials.bearer))
    if (!row) return null
    if (!row.lastUsedAt || Date.now() - row.lastUsedAt.getTime() > 60_000) await touchToken(db, row.tokenId)
    return { user: row.user, via: 'token', credentialId: row.tokenId }
  }
  if (credentials.session) {
    const row = await findSessionUser(db, sha256(credentials.session))
    if (!row) return null
    if (Date.now() - row.lastSeenAt.getTime() > 60_000) await touchSession(db, row.sessionId)
    return { user: row.user, via: 'session', credentialId: row.sessionId }
  }
  return null
}
