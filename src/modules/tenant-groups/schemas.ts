import { z } from 'zod'
import { requiredText } from '../../lib/validation.ts'

/** At most this many tenants in one group: an MSP's hundreds fit, an unbounded list does not. */
export const MAX_GROUP_TENANTS = 2_000

const tenantIds = z
  .array(z.guid({ error: 'must be a tenant id' }), { error: 'must be a list of tenant ids' })
  .max(MAX_GROUP_TENANTS, { error: `must hold at most ${MAX_GROUP_TENANTS} tenants` })

export const createTenantGroupBody = z.strictObject({ name: requiredText(100), tenant_ids: tenantIds.default([]) })

export const updateTenantGroupBody = z
  .strictObject({ name: requiredText(100).optional(), tenant_ids: tenantIds.optional() })
  .refine((v) => v.name !== undefined || v.tenant_ids !== undefined, { error: 'name at least one field to change' })

export const tenantGroupParams = z.object({ groupId: z.string() })

export const tenantGroupResponse = z
  .object({
    id: z.string(),
    name: z.string(),
    tenant_ids: z.array(z.string()).describe("The group's tenants the caller belongs to, by tenant name"),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: 'TenantGroup' })

export type CreateTenantGroupBody = z.output<typeof createTenantGroupBody>
export type UpdateTenantGroupBody = z.output<typeof updateTenantGroupBody>
