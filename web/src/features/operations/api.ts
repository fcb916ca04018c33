import { infiniteQueryOptions, queryOptions } from '@tanstack/react-query'
import { api } from '../../lib/api.ts'
import type { Page, Run, RunItem, RunItemStatus, RunOutcome, RunStatus } from '../../lib/types.ts'

export type RunFilters = {
  type?: string | null
  status?: RunStatus | null
  outcome?: RunOutcome | null
  initiator?: string | null
}

export const runsQuery = (tenantId: string, filters: RunFilters) =>
  infiniteQueryOptions({
    queryKey: ['runs', tenantId, filters],
    queryFn: ({ pageParam, signal }) =>
      api<Page<Run>>(`/api/tenants/${tenantId}/operation-runs`, {
        signal,
        query: { ...filters, cursor: pageParam, limit: 50 },
      }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  })

export const runQuery = (tenantId: string, runId: string) =>
  queryOptions({
    queryKey: ['run', tenantId, runId],
    queryFn: ({ signal }) =>
      api<Run>(`/api/tenants/${tenantId}/operation-runs/${encodeURIComponent(runId)}`, { signal }),
  })

export const cancelRun = (tenantId: string, runId: string) =>
  api<Run>(`/api/tenants/${tenantId}/operation-runs/${encodeURIComponent(runId)}/cancel`, { method: 'POST' })

export const rerunRun = (tenantId: string, runId: string) =>
  api<{ run: Run; deduplicated: boolean }>(
    `/api/tenants/${tenantId}/operation-runs/${encodeURIComponent(runId)}/rerun`,
    { method: 'POST' },
  )

/** A run's per-item results, oldest first, optionally of one status; keyset pages of 100. */
/** `written` (succeeded or failed) and `blocked` are groups the API filters by too. */
export type RunItemFilter = RunItemStatus | 'written' | 'blocked'

export const runItemsQuery = (tenantId: string, runId: string, status: RunItemFilter | null) =>
  infiniteQueryOptions({
    queryKey: ['run-items', tenantId, runId, status],
    queryFn: ({ pageParam, signal }) =>
      api<Page<RunItem>>(`/api/tenants/${tenantId}/operation-runs/${encodeURIComponent(runId)}/items`, {
        signal,
        query: { status, cursor: pageParam, limit: 100 },
      }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  })
