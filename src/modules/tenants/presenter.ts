import type { MembershipRow, Role, TenantRow, UserRow } from '../../db/schema.ts'
import { capabilitiesOf } from '../access/policy.ts'

/** The only shape a tenant leaves the server in: the client secret is never part of it. */
export const presentTenant = (tenant: TenantRow, role: Role | null) => ({
  id: tenant.id,
  name: tenant.name,
  entra_tenant_id: tenant.entraTenantId,
  client_id: tenant.clientId,
  cloud: tenant.cloud,
  has_client_secret: tenant.clientSecretEncrypted.length > 0,
  role,
  capabilities: role ? capabilitiesOf(role) : [],
  created_at: tenant.createdAt.toISOString(),
  updated_at: tenant.updatedAt.toISOString(),
})

export const presentMember = (row: { user: UserRow; membership: MembershipRow }) => ({
  user_id: row.user.id,
  email: row.user.email,
  name: row.user.name,
  role: row.membership.role,
  /** `entra`: granted by a role rule from the person's Entra groups or app roles; `manual`: by a person. */
  source: row.membership.source,
  created_at: row.membership.createdAt.toISOString(),
})
