import { queryOptions } from '@tanstack/react-query'
import type { Bodies, Responses, Schemas } from '../../lib/api-types.ts'
import { api } from '../../lib/api.ts'

export type RestorePlan = Schemas['RestorePlan']
export type RestorePlanItem = RestorePlan['items'][number]
export type RestoreMapping = RestorePlan['mapping'][number]
export type RestorePlanChange = Bodies['PATCH /api/tenants/{tenantId}/restore-plans/{planId}']

const planPath = (tenantId: string, planId: string) =>
  `/api/tenants/${tenantId}/restore-plans/${encodeURIComponent(planId)}`

export const restorePlanQuery = (tenantId: string, planId: string) =>
  queryOptions({
    queryKey: ['restore-plans', tenantId, planId],
    queryFn: ({ signal }) => api<RestorePlan>(planPath(tenantId, planId), { signal }),
  })

export { createRestorePlan } from '../../lib/restore-plans.ts'
export const updateRestorePlan = (tenantId: string, planId: string, body: RestorePlanChange) =>
  api<RestorePlan>(planPath(tenantId, planId), { method: 'PATCH', body })
export const executeRestorePlan = (tenantId: string, planId: string) =>
  api<Responses['POST /api/tenants/{tenantId}/restore-plans/{planId}/execute']>(
    `${planPath(tenantId, planId)}/execute`,
    { method: 'POST' },
  )
