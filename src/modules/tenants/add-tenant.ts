import type { z } from 'zod'
import type { Database } from '../../db/engine.ts'
import { tenants } from '../../db/schema.ts'
import type { SecretBox } from '../../lib/crypto.ts'
import { conflict } from '../../lib/errors.ts'
import { uuidv7 } from '../../lib/ids.ts'
import { parseInput } from '../../lib/validation.ts'
import { type Actor, recordAuditEvent } from '../audit/record-audit-event.ts'
import { findTenantByEntraId, upsertMembership } from './repository.ts'
import { addTenantInput } from './schemas.ts'

export const secretAssociatedData = (tenantId: string) => `tenant:${tenantId}:client_secret`

/**
 * Connects a Microsoft tenant. A user who adds it through the API becomes its owner; a tenant
 * added from the CLI has no members until `member add`.
 */
export async function addTenant(
  db: Database,
  secrets: SecretBox,
  actor: Actor,
  rawInput: z.input<typeof addTenantInput>,
) {
  const input = parseInput(addTenantInput, rawInput)
  return db.transaction(async (tx) => {
    const alreadyConnected = () => conflict(`Entra tenant ${input.entra_tenant_id} is already connected`)
    if (await findTenantByEntraId(tx, input.entra_tenant_id)) throw alreadyConnected()
    const id = uuidv7()
    const [tenant] = await tx
      .insert(tenants)
      .values({
        id,
        name: input.name,
        entraTenantId: input.entra_tenant_id,
        clientId: input.client_id,
        clientSecretEncrypted: secrets.encrypt(input.client_secret, secretAssociatedData(id)),
        cloud: input.cloud,
      })
      // Two requests for one Entra tenant at once: the loser's insert finds the winner's row.
      .onConflictDoNothing({ target: tenants.entraTenantId })
      .returning()
    if (!tenant) throw alreadyConnected()
    await recordAuditEvent(tx, actor, {
      tenantId: id,
      action: 'tenant.created',
      subject: { type: 'tenant', id },
      metadata: {
        name: input.name,
        entra_tenant_id: input.entra_tenant_id,
        client_id: input.client_id,
        cloud: input.cloud,
      },
    })
    if (actor.userId) {
      await upsertMembership(tx, id, actor.userId, 'owner')
      await recordAuditEvent(tx, actor, {
        tenantId: id,
        action: 'member.added',
        subject: { type: 'user', id: actor.userId },
        metadata: { role: 'owner' },
      })
    }
    return tenant
  })
}
