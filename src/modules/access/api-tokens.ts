import { z } from 'zod'
import type { Database } from '../../db/engine.ts'
import { apiTokens } from '../../db/schema.ts'
import { generateToken, sha256 } from '../../lib/crypto.ts'
import { forbidden, notFound, validationError } from '../../lib/errors.ts'
import { uuidv7 } from '../../lib/ids.ts'
import { addDays } from '../../lib/time.ts'
import { parseInput, requiredText } from '../../lib/validation.ts'
import { type Actor, recordAuditEvent } from '../audit/record-audit-event.ts'
import { findUserById, revokeToken } from './repository.ts'
import { formatScope, parseScope, scopeAllows, scopeWithin, type TokenScope } from './token-scope.ts'
import { listVisibleTenantGroups } from '../tenant-groups/repository.ts'

export const DEFAULT_TOKEN_DAYS = 90
export const MAX_TOKEN_DAYS = 3650

export const createTokenInput = z.object({
  name: requiredText(100),
  scope: z
    .string({ error: 'must be full, read or a comma-separated list of capabilities' })
    .max(1000, { error: 'must be at most 1000 characters' })
    .default('full')
    .describe('`full` (everything you may do; the default), `read`, or a comma-separated list of capabilities'),
  expires_in_days: z
    .union([z.int().min(1).max(MAX_TOKEN_DAYS), z.literal('never')], {
      error: `must be a whole number of days from 1 to ${MAX_TOKEN_DAYS}, or "never" (workspace admins)`,
    })
    .default(DEFAULT_TOKEN_DAYS)
    .describe(`Days until the token expires (default ${DEFAULT_TOKEN_DAYS}), or "never" (workspace admins only)`),
  tenant_group_id: z
    .uuid({ error: 'must be a tenant group id (a UUID)' })
    .optional()
    .describe('Limit the token to the tenants of this tenant group (one you can see); others are a 404 to it'),
})

/** The token a request came with, when a token creates a token: the new one gets no more scope, and no longer life. */
export type CreatingToken = { scope: TokenScope; expiresAt: Date | null; tenantGroupId: string | null }

/** Creates a personal API token. The secret is returned once and only its hash is kept. */
export async function createApiToken(
  db: Database,
  actor: Actor,
  userId: string,
  rawInput: z.input<typeof createTokenInput>,
  creatingToken?: CreatingToken,
) {
  const input = parseInput(createTokenInput, rawInput)
  const scope = parseScope(input.scope)
  if ('error' in scope) throw validationError([{ field: 'scope', message: scope.error }])
  if (creatingToken && !scopeAllows(creatingToken.scope, 'tokens.manage'))
    throw forbidden("This API token's scope does not allow creating tokens (tokens.manage)")
  if (creatingToken && !scopeWithin(scope, creatingToken.scope)) {
    throw forbidden(`A token can create tokens with at most its own scope (${formatScope(creatingToken.scope)})`)
  }
  const owner = await findUserById(db, userId)
  if (!owner) throw notFound('User')
  if (input.expires_in_days === 'never' && !owner.isAdmin) {
    throw validationError([
      { field: 'expires_in_days', message: '"never" is for workspace admins only: choose a number of days' },
    ])
  }
  if (!owner.isAdmin && scope.kind === 'list' && scope.keys.includes('workspace.admin')) {
    throw validationError([{ field: 'scope', message: 'workspace.admin is for workspace admins only' }])
  }
  // A token limited to a group makes tokens limited to that group, never wider.
  const tenantGroupId = input.tenant_group_id ?? creatingToken?.tenantGroupId ?? null
  if (creatingToken?.tenantGroupId && tenantGroupId !== creatingToken.tenantGroupId)
    throw forbidden('A token limited to a tenant group can create tokens limited to the same group only')
  if (tenantGroupId) {
    const [group] = await listVisibleTenantGroups(db, userId, { all: owner.isAdmin, groupId: tenantGroupId })
    if (!group) throw validationError([{ field: 'tenant_group_id', message: 'no tenant group with this id is yours' }])
  }
  let expiresAt = input.expires_in_days === 'never' ? null : addDays(new Date(), input.expires_in_days)
  // A token made by a token does not outlive it.
  if (creatingToken?.expiresAt && (expiresAt === null || expiresAt > creatingToken.expiresAt))
    expiresAt = creatingToken.expiresAt

  const secret = generateToken('ta_pat')
  return db.transaction(async (tx) => {
    const [token] = await tx
      .insert(apiTokens)
      .values({
        id: uuidv7(),
        userId,
        name: input.name,
        tokenHash: sha256(secret),
        displayPrefix: secret.slice(0, 12),
        scope: formatScope(scope),
        expiresAt,
        tenantGroupId,
      })
      .returning()
    await recordAuditEvent(tx, actor, {
      action: 'token.created',
      subject: { type: 'api_token', id: token!.id },
      metadata: {
        name: input.name,
        owner_user_id: userId,
        scope: formatScope(scope),
        expires_at: expiresAt?.toISOString() ?? null,
        tenant_group_id: tenantGroupId,
      },
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
