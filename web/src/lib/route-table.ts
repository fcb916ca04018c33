import { matchPath } from './router.tsx'
import type { Capability, MeTenant } from './types.ts'

/**
 * The console's tenant routes, the one place they are named (the README's "Web console"): the router renders
 * them, the navigation lists the ones with a `nav` entry, the preloader fetches a path's page,
 * and the tenant switcher keeps the section when the other tenant allows it.
 */
export const TENANT_ROUTES = [
  { key: 'home', pattern: '/t/:tenantId', capability: 'tenant.view', nav: { label: 'Overview' } },
  { key: 'inventory', pattern: '/t/:tenantId/inventory', capability: 'tenant.view', nav: { label: 'Inventory' } },
  { key: 'item', pattern: '/t/:tenantId/inventory/:itemId', capability: 'tenant.view' },
  { key: 'changes', pattern: '/t/:tenantId/changes', capability: 'tenant.view', nav: { label: 'Changes' } },
  { key: 'assignments', pattern: '/t/:tenantId/assignments', capability: 'tenant.view', nav: { label: 'Assignments' } },
  { key: 'backups', pattern: '/t/:tenantId/backups', capability: 'tenant.view', nav: { label: 'Backups' } },
  { key: 'backup', pattern: '/t/:tenantId/backups/:backupId', capability: 'tenant.view' },
  { key: 'restore', pattern: '/t/:tenantId/restore/:planId', capability: 'tenant.view' },
  {
    key: 'operations',
    pattern: '/t/:tenantId/operations',
    capability: 'operations.view',
    nav: { label: 'Operations', group: 'Monitoring' },
  },
  { key: 'run', pattern: '/t/:tenantId/operations/:runId', capability: 'operations.view' },
  {
    key: 'schedules',
    pattern: '/t/:tenantId/schedules',
    capability: 'operations.view',
    nav: { label: 'Schedules', group: 'Monitoring' },
  },
  { key: 'findings', pattern: '/t/:tenantId/findings', capability: 'tenant.view', nav: { label: 'Findings' } },
  { key: 'audit', pattern: '/t/:tenantId/audit', capability: 'audit.view', nav: { label: 'Audit' } },
  { key: 'members', pattern: '/t/:tenantId/members', capability: 'members.manage', nav: { label: 'Members' } },
] as const satisfies readonly {
  key: string
  pattern: string
  capability: Capability
  nav?: { label: string; group?: string }
}[]

export type TenantRoute = (typeof TENANT_ROUTES)[number]
export type TenantRouteKey = TenantRoute['key']

/** The tenant route a path is, with its parameters. */
export function matchTenantRoute(pathname: string): { route: TenantRoute; params: Record<string, string> } | undefined {
  for (const route of TENANT_ROUTES) {
    const params = matchPath(route.pattern, pathname)
    if (params) return { route, params }
  }
  return undefined
}

export const tenantPath = (route: TenantRoute, tenantId: string) => route.pattern.replace(':tenantId', tenantId)

const allowed = (tenant: Pick<MeTenant, 'capabilities'>, route: TenantRoute) =>
  tenant.capabilities.includes(route.capability)

export type NavItem = { key: string; label: string; to: string; children?: NavItem[] }

/** The tenant navigation, each entry only when the member may open it; grouped entries under their group. */
export function tenantNavigation(tenant: MeTenant): NavItem[] {
  const items: NavItem[] = []
  for (const route of TENANT_ROUTES) {
    if (!('nav' in route) || !allowed(tenant, route)) continue
    const item = { key: route.key, label: route.nav.label, to: tenantPath(route, tenant.id) }
    const group = 'group' in route.nav ? route.nav.group : undefined
    if (!group) {
      items.push(item)
      continue
    }
    const existing = items.find((i) => i.label === group && i.children)
    if (existing) existing.children!.push(item)
    else items.push({ key: group.toLowerCase(), label: group, to: item.to, children: [item] })
  }
  return items
}

/** Switching tenants keeps the section (Inventory, Operations, Schedules, …) when the other tenant allows it; else its overview. */
export function switchTenantPath(pathname: string, target: MeTenant): string {
  const match = matchTenantRoute(pathname)
  const section = match && 'nav' in match.route && allowed(target, match.route) ? match.route : undefined
  return section ? tenantPath(section, target.id) : `/t/${target.id}`
}
