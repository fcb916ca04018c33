import { z } from 'zod'
import { requiredText } from '../../lib/validation.ts'
import { CAPABILITIES, ROLES } from './policy.ts'

export const signInBody = z.strictObject({
  email: requiredText(254),
  password: requiredText(1024, { trim: false }),
})

export const userResponse = z
  .object({ id: z.string(), email: z.string(), name: z.string(), is_admin: z.boolean() })
  .meta({ id: 'User' })

export const meResponse = z.object({
  user: userResponse,
  tenants: z.array(
    z.object({ id: z.string(), name: z.string(), role: z.enum(ROLES), capabilities: z.array(z.enum(CAPABILITIES)) }),
  ),
})

export const apiTokenResponse = z.object({
  id: z.string(),
  name: z.string(),
  display_prefix: z.string(),
  created_at: z.string(),
  last_used_at: z.string().nullable(),
  scope: z.string().describe('`full`, `read`, or a comma-separated list of capabilities'),
  expires_at: z.string().nullable().describe('null: never expires'),
  tenant_group_id: z.string().nullable().describe('The tenant group the token is limited to (null: every tenant)'),
})

export const createdApiTokenResponse = apiTokenResponse.extend({
  token: z.string().describe('The token itself. Shown this once: store it now.'),
})

export const tokenParams = z.object({ tokenId: z.string() })
