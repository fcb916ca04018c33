import type { Database } from '../../db/engine.ts'
import { sha256 } from '../../lib/crypto.ts'
import { recordAuditEvent } from '../audit/record-audit-event.ts'
import { revokeSessionByHash } from './repository.ts'

/** Revokes the session server-side, so a copied cookie stops working too. */
export async function signOut(db: Database, sessionToken: string, ip: string | null) {
  await db.transaction(async (tx) => {
    const session = await revokeSessionByHash(tx, sha256(sessionToken))
    if (!session) return
    await recordAuditEvent(
      tx,
      { kind: 'user', userId: session.userId, ip },
      {
        action: 'auth.signed_out',
        subject: { type: 'session', id: session.id },
      },
    )
  })
}
