import { infiniteQueryOptions, queryOptions } from '@tanstack/react-query'
import { api } from '../../lib/api.ts'
import type { Page, Run, RunOutcome, RunStatus } from '../../lib/types.ts'

export type RunFilters = { type?: string | null; status?: RunStatus | null; outcome?: RunOutcome | null; initiator?: string | null }

export const runsQuery = (tenantId: string, filters: RunFilters) =>
  infiniteQueryOptions({
    queryKey: ['runs', tenantId, filters],
    queryFn: ({ pageParam, signal }) =>
      api<Page<Run>>(`/api/tenants/${tenantId}/operation-runs`, { signal, query: { ...filters, cursor: pageParam, limit: 50 } }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  })

export const runQuery = (tenantId: string, runId: string) =>
  queryOptions({
    queryKey: ['run', tenantId, runId],
    queryFn: ({ signal }) => api<Run>(`/api/tenants/${tenantId}/operation-runs/${encodeURIComponent(runId)}`, { signal }),
  })

export const cancelRun = (tenantId: string, runId: string) =>
  api<Run>(`/api/tenants/${tenantId}/operation-runs/${encodeURIComponent(runId)}/cancel`, { method: 'POST' })

