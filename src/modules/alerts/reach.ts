import type { Executor } from '../../db/engine.ts'
import type { AlertRuleTenants } from '../../db/schema.ts'
import { forbidden } from '../../lib/errors.ts'
import type { Principal } from '../access/authenticate.ts'
import { can } from '../access/policy.ts'
import { listMemberships } from '../access/repository.ts'

/**
 * Who may manage what of alerts (`alerts.manage`, ADR 030): a workspace admin everything; a tenant
 * owner the rules whose tenants are all theirs, and the deliveries of their tenants.
 */
export type AlertsReach = { admin: true } | { admin: false; tenantIds: ReadonlySet<string> }

export async function alertsReach(db: Executor, principal: Principal): Promise<AlertsReach> {
  if (principal.user.isAdmin) return { admin: true }
  const memberships = await listMemberships(db, principal.user.id)
  const owned = memberships.filter((m) => can(m.role, 'alerts.manage')).map((m) => m.tenant.id)
  if (owned.length === 0) throw forbidden('Managing alerts needs a workspace admin, or the owner of a tenant')
  return { admin: false, tenantIds: new Set(owned) }
}

export function requireAdmin(reach: AlertsReach): void {
  if (!reach.admin) throw forbidden('Only a workspace admin can manage alert channels')
}

/** A rule is within reach when every tenant it names is the caller's (all tenants and tenant groups: admins only). */
export const ruleWithin = (reach: AlertsReach, tenants: AlertRuleTenants) =>
  reach.admin || ('tenant_ids' in tenants && tenants.tenant_ids.every((id) => reach.tenantIds.has(id)))
