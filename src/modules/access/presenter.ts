import type { ApiTokenRow, UserRow } from '../../db/schema.ts'

export const presentUser = (user: UserRow) => ({
  id: user.id,
  email: user.email,
  name: user.name,
  is_admin: user.isAdmin,
})

export const presentApiToken = (token: ApiTokenRow) => ({
  id: token.id,
  name: token.name,
  display_prefix: token.displayPrefix,
  created_at: token.createdAt.toISOString(),
  last_used_at: token.lastUsedAt?.toISOString() ?? null,
  scope: token.scope,
  expires_at: token.expiresAt?.toISOString() ?? null,
  tenant_group_id: token.tenantGroupId,
})
