import { describe, expect, it } from 'vitest'
import { can, canOpenTenantsPage, landingTenant } from './capabilities.ts'
import { matchTenantRoute, switchTenantPath, tenantNavigation } from './route-table.ts'
import type { Capability, Me, MeTenant, Role } from './types.ts'

const CAPS: Record<Role, Capability[]> = {
  owner: [
    'tenant.view',
    'inventory.sync',
    'operations.view',
    'operations.manage',
    'tenant.manage',
    'audit.view',
    'members.manage',
  ],
  manager: ['tenant.view', 'inventory.sync', 'operations.view', 'operations.manage', 'tenant.manage', 'audit.view'],
  operator: ['tenant.view', 'inventory.sync', 'operations.view', 'operations.manage'],
  readonly: ['tenant.view'],
}
const tenant = (role: Role): MeTenant => ({ id: 't1', name: 'Contoso', role, capabilities: CAPS[role] })
const me = (role: Role): Me => ({
  user: { id: 'me', email: 'me@x', name: 'Me', is_admin: false },
  tenants: [tenant(role)],
})

describe('capability gating', () => {
  it('reads what /api/me granted', () => {
    expect(can(tenant('readonly'), 'inventory.sync')).toBe(false)
    expect(can(tenant('operator'), 'inventory.sync')).toBe(true)
    expect(can(undefined, 'tenant.view')).toBe(false)
  })

  it('shows readonly members only the overview, the inventory, its changes, assignments, the backup sets and the findings', () => {
    expect(tenantNavigation(tenant('readonly')).map((i) => i.label)).toEqual([
      'Overview',
      'Inventory',
      'Changes',
      'Assignments',
      'Backups',
      'Findings',
    ])
  })

  it('shows Monitoring → Operations and Schedules to operators, Audit to managers, Members to owners', () => {
    expect(tenantNavigation(tenant('operator')).map((i) => i.label)).toEqual([
      'Overview',
      'Inventory',
      'Changes',
      'Assignments',
      'Backups',
      'Monitoring',
      'Findings',
    ])
    expect(tenantNavigation(tenant('operator'))[5]!.children!.map((c) => c.to)).toEqual([
      '/t/t1/operations',
      '/t/t1/schedules',
    ])
    expect(tenantNavigation(tenant('manager')).map((i) => i.label)).toEqual([
      'Overview',
      'Inventory',
      'Changes',
      'Assignments',
      'Backups',
      'Monitoring',
      'Findings',
      'Audit',
    ])
    expect(tenantNavigation(tenant('owner')).map((i) => i.label)).toEqual([
      'Overview',
      'Inventory',
      'Changes',
      'Assignments',
      'Backups',
      'Monitoring',
      'Findings',
      'Audit',
      'Members',
    ])
  })

  it('matches the contract routes, and keeps the section when switching tenants if the other tenant allows it', () => {
    expect(matchTenantRoute('/t/t1/operations/r1')).toMatchObject({
      route: { key: 'run' },
      params: { tenantId: 't1', runId: 'r1' },
    })
    expect(matchTenantRoute('/t/t1/schedules')?.route.key).toBe('schedules')
    expect(matchTenantRoute('/t/t1/inventory/i1')).toMatchObject({ route: { key: 'item' }, params: { itemId: 'i1' } })
    expect(matchTenantRoute('/t/t1/changes')?.route.key).toBe('changes')
    expect(matchTenantRoute('/t/t1/nowhere')).toBeUndefined()
    const other = (role: Role): MeTenant => ({ ...tenant(role), id: 't2' })
    expect(switchTenantPath('/t/t1/schedules', other('operator'))).toBe('/t/t2/schedules')
    expect(switchTenantPath('/t/t1/audit', other('operator'))).toBe('/t/t2')
    // A run belongs to its tenant: switching leaves for the other tenant's overview.
    expect(switchTenantPath('/t/t1/operations/r1', other('owner'))).toBe('/t/t2')
  })

  it('lands on the tenant used last while still a member of it', () => {
    const two: Me = { ...me('owner'), tenants: [tenant('owner'), { ...tenant('readonly'), id: 't2' }] }
    expect(landingTenant(two, 't2')?.id).toBe('t2')
    expect(landingTenant(two, 'gone')?.id).toBe('t1')
    expect(landingTenant({ ...two, tenants: [] }, 't2')).toBeUndefined()
  })

  it('opens the Tenants page to workspace admins and to those who manage a tenant, not to operators', () => {
    expect(canOpenTenantsPage(me('operator'))).toBe(false)
    expect(canOpenTenantsPage(me('readonly'))).toBe(false)
    expect(canOpenTenantsPage(me('manager'))).toBe(true)
    expect(canOpenTenantsPage({ ...me('readonly'), user: { ...me('readonly').user, is_admin: true } })).toBe(true)
  })
})
