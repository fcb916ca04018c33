import type { Bodies, Schemas } from './api-types.ts'
import { api } from './api.ts'

/** Plans a restore into `targetTenantId`: the backups page starts one, the restore feature reviews and executes it. */
export const createRestorePlan = (targetTenantId: string, body: Bodies['POST /api/tenants/{tenantId}/restore-plans']) =>
  api<Schemas['RestorePlan']>(`/api/tenants/${targetTenantId}/restore-plans`, { method: 'POST', body })
