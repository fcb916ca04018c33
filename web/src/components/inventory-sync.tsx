import { Anchor, Text } from '@mantine/core'
import { notifications } from '@mantine/notifications'
import { queryOptions, useMutation } from '@tanstack/react-query'
import { api, errorMessage } from '../lib/api.ts'
import { Link } from '../lib/router.tsx'
import { typeLabel } from '../lib/runs.ts'
import type { PolicyTypeCatalog, Run, Selection } from '../lib/types.ts'
import { useLiveRuns } from './live-runs.tsx'

export const policyTypesQuery = (tenantId: string) =>
  queryOptions({
    queryKey: ['policy-types', tenantId],
    queryFn: ({ signal }) => api<PolicyTypeCatalog>(`/api/tenants/${tenantId}/policy-types`, { signal }),
    staleTime: Infinity,
  })

export type StartedSync = { run: Run; deduplicated: boolean }

export const startInventorySync = (tenantId: string, selection?: Partial<Selection>) =>
  api<StartedSync>(`/api/tenants/${tenantId}/inventory-sync`, { method: 'POST', body: selection ?? {} })

/** The toast (ADR 006) for a run of any type: queued or already running, always with the way to the run. */
export const syncToastTitle = (started: StartedSync) =>
  `${typeLabel(started.run)} ${started.deduplicated ? 'already running' : 'queued'}`

export function showSyncToast(started: StartedSync) {
  notifications.show({
    title: syncToastTitle(started),
    color: started.deduplicated ? 'yellow' : 'indigo',
    autoClose: 8000,
    message: (
      <Text size="sm" component="span">
        {started.deduplicated
          ? 'An identical run is in progress; you can follow it. '
          : 'It runs in the background; follow it in the progress widget. '}
        <Anchor component={Link} to={started.run.links.view} size="sm" data-testid="toast-view-run">
          View run
        </Anchor>
      </Text>
    ),
  })
}

/**
 * Starts an inventory sync and says what happened. Every submission reaches the server: it,
 * not the button, guarantees one run per selection (a double click gets "already running").
 */
export function useStartInventorySync(tenantId: string, onStarted?: (started: StartedSync) => void) {
  const live = useLiveRuns()
  return useMutation({
    mutationFn: (selection?: Partial<Selection>) => startInventorySync(tenantId, selection),
    onSuccess: (started) => {
      showSyncToast(started)
      live?.refresh()
      onStarted?.(started)
    },
    onError: (error) =>
      notifications.show({ title: 'Inventory sync not started', message: errorMessage(error), color: 'red' }),
  })
}
