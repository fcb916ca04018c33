import { queryOptions } from '@tanstack/react-query'
import { api } from '../../lib/api.ts'
import type { Cloud, ConnectionCheck, Member, Page, Role, Tenant } from '../../lib/types.ts'

export const tenantsQuery = queryOptions({
  queryKey: ['tenants'],
  queryFn: ({ signal }) => api<Page<Tenant>>('/api/tenants', { signal }),
})
export const tenantQuery = (tenantId: string) =>
  queryOptions({
    queryKey: ['tenant', tenantId],
    queryFn: ({ signal }) => api<Tenant>(`/api/tenants/${tenantId}`, { signal }),
  })
export const membersQuery = (tenantId: string) =>
  queryOptions({
    queryKey: ['members', tenantId],
    queryFn: ({ signal }) => api<Page<Member>>(`/api/tenants/${tenantId}/members`, { signal }),
  })

export type TenantInput = {
  name: string
  entra_tenant_id: string
  client_id: string
  client_secret: string
  cloud: Cloud
}

export const addTenant = (input: TenantInput) => api<Tenant>('/api/tenants', { method: 'POST', body: input })
export const updateTenant = (tenantId: string, input: Partial<TenantInput>) =>
  api<Tenant>(`/api/tenants/${tenantId}`, { method: 'PATCH', body: input })
export const checkConnection = (tenantId: string) =>
  api<ConnectionCheck>(`/api/tenants/${tenantId}/connection-check`, { method: 'POST' })

export const addMember = (tenantId: string, email: string, role: Role) =>
  api<Member>(`/api/tenants/${tenantId}/members`, { method: 'POST', body: { email, role } })
export const changeRole = (tenantId: string, userId: string, role: Role) =>
  api<Member>(`/api/tenants/${tenantId}/members/${userId}`, { method: 'PATCH', body: { role } })
export const removeMember = (tenantId: string, userId: string) =>
  api<undefined>(`/api/tenants/${tenantId}/members/${userId}`, { method: 'DELETE' })
