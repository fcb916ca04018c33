import { eq } from 'drizzle-orm'
import type { z } from 'zod'
import type { Database } from '../../db/engine.ts'
import { tenants } from '../../db/schema.ts'
import type { SecretBox } from '../../lib/crypto.ts'
import { conflict, notFound } from '../../lib/errors.ts'
import { parseInput } from '../../lib/validation.ts'
import { type Actor, recordAuditEvent } from '../audit/record-audit-event.ts'
import { secretAssociatedData } from './add-tenant.ts'
import { findTenant, findTenantByEntraId } from './repository.ts'
import { updateTenantInput } from './schemas.ts'

/** Edits a tenant's connection. The audit event names the changed fields, never the secret. */
export async function updateTenant(
  db: Database,
  secrets: SecretBox,
  actor: Actor,
  tenantId: string,
  rawInput: z.input<typeof updateTenantInput>,
) {
  const input = parseInput(updateTenantInput, rawInput)
  return db.transaction(async (tx) => {
    const current = await findTenant(tx, tenantId)
    if (!current) throw notFound('Tenant')
    if (input.entra_tenant_id && input.entra_tenant_id !== current.entraTenantId) {
      const other = await findTenantByEntraId(tx, input.entra_tenant_id)
      if (other) throw conflict(`Entra tenant ${input.entra_tenant_id} is already connected`)
    }
    const [tenant] = await tx
      .update(tenants)
      .set({
        name: input.name,
        entraTenantId: input.entra_tenant_id,
        clientId: input.client_id,
        cloud: input.cloud,
        clientSecretEncrypted: input.client_secret
          ? secrets.encrypt(input.client_secret, secretAssociatedData(tenantId))
          : undefined,
        updatedAt: new Date(),
      })
      .where(eq(tenants.id, tenantId))
      .returning()
    const changed = Object.entries(input)
      .filter(([, value]) => value !== undefined)
      .map(([field]) => field)
      .sort()
    const visible = Object.fromEntries(
      Object.entries(input).filter(([field, v]) => field !== 'client_secret' && v !== undefined),
    )
    await recordAuditEvent(tx, actor, {
      tenantId,
      action: 'tenant.updated',
      subject: { type: 'tenant', id: tenantId },
      metadata: { changed, ...visible },
    })
    return tenant!
  })
}

/** The decrypted client secret, for the Graph layer only. */
export const readClientSecret = (secrets: SecretBox, tenant: { id: string; clientSecretEncrypted: string }) =>
  secrets.decrypt(tenant.clientSecretEncrypted, secretAssociatedData(tenant.id))
