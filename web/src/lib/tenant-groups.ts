import { queryOptions } from '@tanstack/react-query'
import type { Responses } from './api-types.ts'
import { api } from './api.ts'

/** The workspace's tenant groups: the overview filters by them, the tenant picker and compare's sides search them. */
export const tenantGroupsQuery = queryOptions({
  queryKey: ['tenant-groups'],
  queryFn: ({ signal }) => api<Responses['GET /api/tenant-groups']>('/api/tenant-groups', { signal }),
})
