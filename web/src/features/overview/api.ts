import { queryOptions } from '@tanstack/react-query'
import type { Bodies, Responses } from '../../lib/api-types.ts'
import { api, withQuery } from '../../lib/api.ts'
import type { TenantGroup } from '../../lib/types.ts'

export const overviewQuery = (tenantGroupId: string | null) =>
  queryOptions({
    queryKey: ['overview', tenantGroupId],
    queryFn: ({ signal }) =>
      api<Responses['GET /api/overview']>(withQuery('/api/overview', { tenant_group_id: tenantGroupId ?? undefined }), {
        signal,
      }),
    // The health dots of the tenant picker read the same data: a minute old is fresh enough for a dot.
    staleTime: 60_000,
  })

export { tenantGroupsQuery } from '../../lib/tenant-groups.ts'

export type NewTenantGroup = Bodies['POST /api/tenant-groups']
export type TenantGroupChange = Bodies['PATCH /api/tenant-groups/{groupId}']

export const createTenantGroup = (body: NewTenantGroup) =>
  api<TenantGroup>('/api/tenant-groups', { method: 'POST', body })
export const updateTenantGroup = (id: string, body: TenantGroupChange) =>
  api<TenantGroup>(`/api/tenant-groups/${encodeURIComponent(id)}`, { method: 'PATCH', body })
export const deleteTenantGroup = (id: string) =>
  api<null>(`/api/tenant-groups/${encodeURIComponent(id)}`, { method: 'DELETE' })
