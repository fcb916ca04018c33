import type { Capability, Me, MeTenant } from './types.ts'

/**
 * The console never re-derives permissions: it reads the capabilities /api/me sends per tenant
 * and offers only what they allow; what the caller may do with a run comes with the run
 * (`abilities`).
 */
export const can = (tenant: Pick<MeTenant, 'capabilities'> | undefined, capability: Capability): boolean =>
  tenant?.capabilities.includes(capability) ?? false

/** Where a tenant member lands: the tenant they used last if they still belong to it. */
export function landingTenant(me: Me, lastUsed: string | null): MeTenant | undefined {
  return me.tenants.find((t) => t.id === lastUsed) ?? me.tenants[0]
}

/** The Tenants page: workspace admins (who add tenants) and whoever manages some tenant's connection. */
export const canOpenTenantsPage = (me: Me): boolean =>
  me.user.is_admin || me.tenants.some((t) => can(t, 'tenant.manage'))
