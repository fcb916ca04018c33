import { queryOptions } from '@tanstack/react-query'
import { api } from '../../lib/api.ts'
import type { Notification, NotificationPage } from '../../lib/types.ts'

export const notificationsQuery = queryOptions({
  queryKey: ['notifications'],
  queryFn: ({ signal }) => api<NotificationPage>('/api/notifications', { signal, query: { limit: 20 } }),
  // Live: refetched when a run ends (LiveRunsProvider); this is the safety net for other tenants' runs.
  refetchInterval: 60_000,
})

export const markRead = (id: string) =>
  api<Notification>(`/api/notifications/${encodeURIComponent(id)}/read`, { method: 'POST' })
export const markAllRead = () =>
  api<{ updated: number; unread_count: number }>('/api/notifications/read-all', { method: 'POST' })
