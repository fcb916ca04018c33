import { z } from 'zod'
import { requiredText } from '../../lib/validation.ts'
import { CAPABILITIES, ROLES } from '../access/policy.ts'

export const CLOUDS = ['global', 'usgov', 'usgovdod', 'china', 'emulator'] as const

const guid = (what: string) => z.guid({ error: `must be the ${what} as a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)` })

export const tenantFields = {
  name: requiredText(200),
  entra_tenant_id: guid('Entra tenant id'),
  client_id: guid("app registration's client id"),
  client_secret: requiredText(1024, { trim: false }),
  cloud: z.enum(CLOUDS, { error: `must be one of ${CLOUDS.join(', ')}` }),
}

export const addTenantInput = z.strictObject({ ...tenantFields, cloud: tenantFields.cloud.default('global') })
export const updateTenantInput = z
  .strictObject({
    name: tenantFields.name.optional(),
    entra_tenant_id: tenantFields.entra_tenant_id.optional(),
    client_id: tenantFields.client_id.optional(),
    client_secret: tenantFields.client_secret.optional(),
    cloud: tenantFields.cloud.optional(),
  })
  .refine((v) => Object.values(v).some((x) => x !== undefined), { error: 'name at least one field to change' })

export const roleSchema = z.enum(ROLES, { error: `must be one of ${ROLES.join(', ')}` })
export const addMemberInput = z.strictObject({
  email: z.email({ error: 'must be an e-mail address' }),
  role: roleSchema,
})
export const updateMemberInput = z.strictObject({ role: roleSchema })

export const memberParams = z.object({ tenantId: z.string(), userId: z.string() })

export const tenantResponse = z.object({
  id: z.string(),
  name: z.string(),
  entra_tenant_id: z.string(),
  client_id: z.string(),
  cloud: z.enum(CLOUDS),
  has_client_secret: z.boolean(),
  role: z.enum(ROLES).nullable(),
  capabilities: z.array(z.enum(CAPABILITIES)),
  created_at: z.string(),
  updated_at: z.string(),
})

export const memberResponse = z.object({
  user_id: z.string(),
  email: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  source: z.enum(['manual', 'entra']).describe('entra: granted by an Entra role rule; manual: by a person'),
  created_at: z.string(),
})
