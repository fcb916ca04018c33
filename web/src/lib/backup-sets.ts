import { queryOptions } from '@tanstack/react-query'
import type { Responses } from './api-types.ts'
import { api } from './api.ts'

/** A tenant's backup sets, newest first: the backups page lists them, compare and documentation pick from them. */
export const backupsQuery = (tenantId: string) =>
  queryOptions({
    queryKey: ['backups', tenantId],
    queryFn: ({ signal }) =>
      api<Responses['GET /api/tenants/{tenantId}/backups']>(`/api/tenants/${tenantId}/backups?limit=200`, { signal }),
  })
