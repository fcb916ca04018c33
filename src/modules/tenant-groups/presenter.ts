import type { z } from 'zod'
import type { VisibleTenantGroup } from './repository.ts'
import type { tenantGroupResponse } from './schemas.ts'

export const presentTenantGroup = (group: VisibleTenantGroup): z.output<typeof tenantGroupResponse> => ({
  id: group.id,
  name: group.name,
  tenant_ids: group.tenantIds,
  created_at: group.createdAt.toISOString(),
  updated_at: group.updatedAt.toISOString(),
})
