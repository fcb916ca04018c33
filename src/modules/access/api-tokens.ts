import { z } from 'zod'
import type { Database } from '../../db/engine.ts'
import { apiTokens } from '../../db/schema.ts'
import { generateToken, sha256 } from '../../lib/crypto.ts'
import { notFound } from '../../lib/errors.ts'
import { uuidv7 } from '../../lib/ids.ts'
import { parseInput } from '../../lib/validation.ts'
import { type Actor, recordAuditEvent } from '../audit/record-audit-event.ts'
import { revokeToken } from './repository.ts'

export const createTokenInput = z.object({ name: z.string().trim().min(1, { error: 'is required' }).max(100) })

/** Creates a personal API token. The secret is returned once and only its hash is kept. */
export async function createApiToken(db: Database, actor: Actor, userId: string, rawInput: z.input<typeof createTokenInput>) {
  const input = parseInput(createTokenInput, rawInput)
  const secret = generateToken('ta_pat')
  return db.transaction(async (tx) => {
    const [token] = await tx
      .insert(apiTokens)
      .values({ id: uuidv7(), userId, name: input.name, tokenHash: sha256(secret), displayPrefix: secret.slice(0, 12) })
      .returning()
    await recordAuditEvent(tx, actor, {
      action: 'token.created',
      subject: { type: 'api_token', id: token!.id },
      metadata: { name: input.name, owner_user_id: userId },
    })
    return { token: token!, secret }
  })
}

export async function revokeApiToken(db: Database, actor: Actor, userId: string, tokenId: string) {
  return db.transaction(async (tx) => {
    const token = await revokeToken(tx, userId, tokenId)
    if (!token) throw notFound('API token')
    await recordAuditEvent(tx, actor, {
      action: 'token.revoked',
      subject: { type: 'api_token', id: token.id },
      metadata: { name: token.name, owner_user_id: userId },
    })
    return token
  })
}
