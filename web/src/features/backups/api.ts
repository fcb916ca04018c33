import { queryOptions } from '@tanstack/react-query'
import type { Bodies, Responses } from '../../lib/api-types.ts'
import { api } from '../../lib/api.ts'
import type { BackupItemDetail, BackupSet } from '../../lib/types.ts'

export { backupsQuery } from '../../lib/backup-sets.ts'

export const backupQuery = (tenantId: string, backupId: string) =>
  queryOptions({
    queryKey: ['backups', tenantId, backupId],
    queryFn: ({ signal }) =>
      api<BackupSet>(`/api/tenants/${tenantId}/backups/${encodeURIComponent(backupId)}`, { signal }),
  })

export const backupItemsQuery = (tenantId: string, backupId: string, filters: { type: string | null; q: string }) =>
  queryOptions({
    queryKey: ['backups', tenantId, backupId, 'items', filters],
    queryFn: ({ signal }) => {
      const params = new URLSearchParams({ limit: '200' })
      if (filters.type) params.set('type', filters.type)
      if (filters.q) params.set('q', filters.q)
      return api<Responses['GET /api/tenants/{tenantId}/backups/{backupId}/items']>(
        `/api/tenants/${tenantId}/backups/${encodeURIComponent(backupId)}/items?${params}`,
        { signal },
      )
    },
  })

export const backupItemQuery = (tenantId: string, backupId: string, item: { type: string; id: string }) =>
  queryOptions({
    queryKey: ['backups', tenantId, backupId, 'item', item.type, item.id],
    queryFn: ({ signal }) =>
      api<BackupItemDetail>(
        `/api/tenants/${tenantId}/backups/${encodeURIComponent(backupId)}/item?${new URLSearchParams({ type: item.type, id: item.id })}`,
        { signal },
      ),
  })

export type NewBackup = NonNullable<Bodies['POST /api/tenants/{tenantId}/backups']>
export type BackupChange = Bodies['PATCH /api/tenants/{tenantId}/backups/{backupId}']

export const createBackup = (tenantId: string, body: NewBackup) =>
  api<Responses['POST /api/tenants/{tenantId}/backups']>(`/api/tenants/${tenantId}/backups`, { method: 'POST', body })
export const updateBackup = (tenantId: string, id: string, body: BackupChange) =>
  api<BackupSet>(`/api/tenants/${tenantId}/backups/${encodeURIComponent(id)}`, { method: 'PATCH', body })
export const deleteBackup = (tenantId: string, id: string) =>
  api<null>(`/api/tenants/${tenantId}/backups/${encodeURIComponent(id)}`, { method: 'DELETE' })
export const exportUrl = (tenantId: string, id: string) =>
  `/api/tenants/${tenantId}/backups/${encodeURIComponent(id)}/export`
/** A backup ZIP from the user's disk, sent as a form (multipart, field `file`): streamed to disk by the server. */
export const importBackupZip = (tenantId: string, file: File) => {
  const form = new FormData()
  form.append('file', file, file.name)
  return api<BackupSet>(`/api/tenants/${tenantId}/backups/import`, { method: 'POST', body: form })
}
