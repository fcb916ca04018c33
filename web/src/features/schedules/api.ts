import { queryOptions } from '@tanstack/react-query'
import type { Bodies, Responses } from '../../lib/api-types.ts'
import { api } from '../../lib/api.ts'
import type { Schedule } from '../../lib/types.ts'

export const schedulesQuery = (tenantId: string) =>
  queryOptions({
    queryKey: ['schedules', tenantId],
    queryFn: ({ signal }) =>
      api<Responses['GET /api/tenants/{tenantId}/schedules']>(`/api/tenants/${tenantId}/schedules`, { signal }),
  })

export type NewSchedule = Bodies['POST /api/tenants/{tenantId}/schedules']
export type ScheduleChange = Bodies['PATCH /api/tenants/{tenantId}/schedules/{scheduleId}']

export const createSchedule = (tenantId: string, body: NewSchedule) =>
  api<Schedule>(`/api/tenants/${tenantId}/schedules`, { method: 'POST', body })
export const updateSchedule = (tenantId: string, id: string, body: ScheduleChange) =>
  api<Schedule>(`/api/tenants/${tenantId}/schedules/${encodeURIComponent(id)}`, { method: 'PATCH', body })
export const deleteSchedule = (tenantId: string, id: string) =>
  api<null>(`/api/tenants/${tenantId}/schedules/${encodeURIComponent(id)}`, { method: 'DELETE' })
export const runScheduleNow = (tenantId: string, id: string) =>
  api<Responses['POST /api/tenants/{tenantId}/schedules/{scheduleId}/run']>(
    `/api/tenants/${tenantId}/schedules/${encodeURIComponent(id)}/run`,
    { method: 'POST' },
  )
