import { infiniteQueryOptions, queryOptions } from '@tanstack/react-query'
import { api } from '../../lib/api.ts'
import type {
  ChangeKind,
  InventoryChange,
  InventoryDiff,
  InventoryItem,
  InventoryItemDetail,
  InventoryVersion,
  Page,
} from '../../lib/types.ts'

export type ItemFilters = { type: string | null; category: string | null; q: string; includeRemoved: boolean }

export const PAGE_SIZE = 50

export const itemsQuery = (tenantId: string, filters: ItemFilters) =>
  infiniteQueryOptions({
    queryKey: ['inventory', tenantId, 'items', filters],
    queryFn: ({ pageParam, signal }) =>
      api<Page<InventoryItem>>(`/api/tenants/${tenantId}/inventory/items`, {
        signal,
        query: {
          type: filters.type,
          category: filters.category,
          q: filters.q.trim(),
          include_removed: filters.includeRemoved,
          cursor: pageParam,
          limit: PAGE_SIZE,
        },
      }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  })

export const itemQuery = (tenantId: string, itemId: string) =>
  queryOptions({
    queryKey: ['inventory', tenantId, 'item', itemId],
    queryFn: ({ signal }) =>
      api<InventoryItemDetail>(`/api/tenants/${tenantId}/inventory/items/${encodeURIComponent(itemId)}`, { signal }),
  })

export const versionsQuery = (tenantId: string, itemId: string) =>
  queryOptions({
    queryKey: ['inventory', tenantId, 'item', itemId, 'versions'],
    queryFn: ({ signal }) =>
      api<{ data: InventoryVersion[] }>(
        `/api/tenants/${tenantId}/inventory/items/${encodeURIComponent(itemId)}/versions`,
        { signal },
      ),
  })

export const diffQuery = (tenantId: string, itemId: string, from: number | null, to: number | null) =>
  queryOptions({
    queryKey: ['inventory', tenantId, 'item', itemId, 'diff', from, to],
    queryFn: ({ signal }) =>
      api<InventoryDiff>(`/api/tenants/${tenantId}/inventory/items/${encodeURIComponent(itemId)}/diff`, {
        signal,
        query: { from, to },
      }),
  })

export type ChangeFilters = { type: string | null; kind: ChangeKind | null; since: string | null }

export const changesQuery = (tenantId: string, filters: ChangeFilters) =>
  infiniteQueryOptions({
    queryKey: ['inventory', tenantId, 'changes', filters],
    queryFn: ({ pageParam, signal }) =>
      api<Page<InventoryChange>>(`/api/tenants/${tenantId}/changes`, {
        signal,
        query: { type: filters.type, kind: filters.kind, since: filters.since, cursor: pageParam, limit: PAGE_SIZE },
      }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  })
