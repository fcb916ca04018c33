import { queryOptions } from '@tanstack/react-query'
import { api } from '../../lib/api.ts'
import { type BulkSelection, selectionPayload } from '../../lib/bulk-selection.ts'
import type { BulkAction, BulkPlan, BulkSelectionSummary, Run } from '../../lib/types.ts'

/** What the selection holds and which actions the caller may take on it (the server decides). */
export const selectionSummaryQuery = (tenantId: string, selection: BulkSelection) =>
  queryOptions({
    queryKey: ['inventory', tenantId, 'bulk-selection', selectionPayload(selection)],
    queryFn: ({ signal }) =>
      api<BulkSelectionSummary>(`/api/tenants/${tenantId}/bulk-operations/selection`, {
        method: 'POST',
        body: selectionPayload(selection),
        signal,
      }),
  })

export const PREVIEW_ROWS = 200

export const previewBulk = (
  tenantId: string,
  selection: BulkSelection,
  action: BulkAction,
  params: Record<string, unknown>,
) =>
  api<BulkPlan>(`/api/tenants/${tenantId}/bulk-operations`, {
    method: 'POST',
    body: { action, params, ...selectionPayload(selection), dry_run: true, preview_limit: PREVIEW_ROWS },
  })

export const startBulk = (
  tenantId: string,
  selection: BulkSelection,
  action: BulkAction,
  params: Record<string, unknown>,
) =>
  api<{ run: Run; deduplicated: boolean }>(`/api/tenants/${tenantId}/bulk-operations`, {
    method: 'POST',
    body: { action, params, ...selectionPayload(selection), dry_run: false },
  })
