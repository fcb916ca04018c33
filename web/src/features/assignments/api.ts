import { queryOptions } from '@tanstack/react-query'
import type { Responses } from '../../lib/api-types.ts'
import { api, withQuery } from '../../lib/api.ts'

export type SubjectQuery = { group_id?: string; user?: string; device?: string }

export const assignmentsQuery = (tenantId: string, subject: SubjectQuery) =>
  queryOptions({
    queryKey: ['assignments', tenantId, subject],
    queryFn: ({ signal }) =>
      api<Responses['GET /api/tenants/{tenantId}/assignments']>(
        withQuery(`/api/tenants/${tenantId}/assignments`, subject),
        { signal },
      ),
    enabled: Boolean(subject.group_id ?? subject.user ?? subject.device),
  })
