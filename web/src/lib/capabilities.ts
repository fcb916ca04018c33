import type { Capability, Me, MeTenant, Run } from './types.ts'

/**
 * The console never re-derives permissions: it reads the capabilities /api/me sends per
 * tenant and offers only what they allow. The one rule it applies on top is the server's own
 * for cancel/re-run: an operator manages only the runs they started.
 */
export const can = (tenant: Pick<MeTenant, 'capabilities'> | undefined, capability: Capability): boolean =>
  tenant?.capabilities.includes(capability) ?? false

export function canManageRun(me: Me, tenant: MeTenant | undefined, run: Pick<Run, 'initiator'>): boolean {
  if (!tenant || !can(tenant, 'operations.manage')) return false
  return tenant.role !== 'operator' || (run.initiator !== null && run.initiator.id === me.user.id)
}

export type NavItem = { key: string; label: string; to: string; children?: NavItem[] }

/** The tenant navigation, each entry only when the member may open it. */
export function tenantNavigation(tenant: MeTenant): NavItem[] {
  const base = `/t/${tenant.id}`
  const items: NavItem[] = [
    { key: 'home', label: 'Overview', to: base },
    { key: 'inventory', label: 'Inventory', to: `${base}/inventory` },
  ]
  if (can(tenant, 'operations.view')) {
    const operations = { key: 'operations', label: 'Operations', to: `${base}/operations` }
    items.push({ key: 'monitoring', label: 'Monitoring', to: operations.to, children: [operations] })
  }
  if (can(tenant, 'audit.view')) items.push({ key: 'audit', label: 'Audit', to: `${base}/audit` })
  if (can(tenant, 'members.manage')) items.push({ key: 'members', label: 'Members', to: `${base}/members` })
  return items
}

/** Where a tenant member lands: the tenant they used last if they still belong to it. */
export function landingTenant(me: Me, lastUsed: string | null): MeTenant | undefined {
  return me.tenants.find((t) => t.id === lastUsed) ?? me.tenants[0]
}

/** The Tenants page: workspace admins (who add tenants) and whoever manages some tenant's connection. */
export const canOpenTenantsPage = (me: Me): boolean => me.user.is_admin || me.tenants.some((t) => can(t, 'tenant.manage'))
