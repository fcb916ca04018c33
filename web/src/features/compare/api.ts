import { queryOptions } from '@tanstack/react-query'
import type { Bodies, Responses } from '../../lib/api-types.ts'
import { api, withQuery } from '../../lib/api.ts'
import type { InventoryItem, Page } from '../../lib/types.ts'

export type ComparisonPage = Responses['GET /api/comparisons/{comparisonId}']
export type NewComparison = Bodies['POST /api/comparisons']
export type ComparisonSide = NewComparison['left']

export const comparisonQuery = (
  id: string,
  filters: { status: string | null; type: string | null; cursor: string | null },
) =>
  queryOptions({
    queryKey: ['comparison', id, filters],
    queryFn: ({ signal }) =>
      api<ComparisonPage>(
        withQuery(`/api/comparisons/${encodeURIComponent(id)}`, {
          status: filters.status ?? undefined,
          type: filters.type ?? undefined,
          cursor: filters.cursor ?? undefined,
          limit: '100',
        }),
        { signal },
      ),
    // A comparison computed by a run: look again until it is ready.
    refetchInterval: (query) => (query.state.data?.comparison.status === 'running' ? 1000 : false),
  })

export type MappingEntry = ComparisonPage['comparison']['mapping'][number]

const KIND_TYPES: Record<MappingEntry['kind'], string> = {
  group: 'group',
  assignment_filter: 'assignmentFilter',
  scope_tag: 'roleScopeTag',
}

/** The right tenant's objects one may pair a left group, filter or scope tag with (the first 200 by name, or those matching `q`). */
export const pairCandidatesQuery = (tenantId: string, kind: MappingEntry['kind'], q: string) =>
  queryOptions({
    queryKey: ['compare', 'candidates', tenantId, kind, q],
    queryFn: ({ signal }) =>
      api<Page<InventoryItem>>(`/api/tenants/${encodeURIComponent(tenantId)}/inventory/items`, {
        signal,
        query: { type: KIND_TYPES[kind], q: q.trim(), limit: 200 },
      }),
  })

/** The side as the API takes it again (without the label it resolved). */
export const sideInputOf = (side: ComparisonPage['comparison']['left']): ComparisonSide =>
  side.backup_id
    ? { backup_id: side.backup_id }
    : side.at
      ? { tenant_id: side.tenant_id, at: side.at }
      : { tenant_id: side.tenant_id }

export const createComparison = (body: NewComparison) =>
  api<Responses['POST /api/comparisons']>('/api/comparisons', { method: 'POST', body })

export const exportUrl = (id: string, format: 'csv' | 'md', filters: { status: string | null; type: string | null }) =>
  withQuery(`/api/comparisons/${encodeURIComponent(id)}/export`, {
    format,
    status: filters.status ?? undefined,
    type: filters.type ?? undefined,
  })

/** A side in a shareable URL: `tenant:ID`, `tenant:ID@ISO-TIME` or `backup:ID` (as the CLI takes it). */
export function sideFromParam(text: string | null): ComparisonSide | null {
  const match = /^(tenant|backup):([^@]+)(?:@(.+))?$/.exec(text ?? '')
  if (!match) return null
  if (match[1] === 'backup') return { backup_id: match[2]! }
  return match[3] ? { tenant_id: match[2]!, at: match[3] } : { tenant_id: match[2]! }
}

export const sideToParam = (side: ComparisonSide) =>
  side.backup_id ? `backup:${side.backup_id}` : `tenant:${side.tenant_id}${side.at ? `@${side.at}` : ''}`
