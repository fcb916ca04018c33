import type { Executor } from '../../db/engine.ts'
import { backupSets } from '../../db/schema.ts'
import { uuidv7 } from '../../lib/ids.ts'
import { backupManifest, pinObjects, type BackupObject } from './store.ts'

/**
 * Pins one version of an item in a one-item set of `tenantId` (kind `version`), for a restore of
 * that version: the set belongs to the tenant the restore writes into, whatever tenant the version
 * came from (nothing is written into a source the caller may only view, ADR 022). Returns its id.
 */
export async function pinVersion(
  tx: Executor,
  input: {
    tenantId: string
    sourceTenantId: string
    versionId: string
    name: string
    initiator: { id: string; name: string }
    object: BackupObject
  },
): Promise<string> {
  const id = uuidv7()
  const name = input.name.slice(0, 200)
  const counts = { [input.object.policyType]: 1 }
  await tx.insert(backupSets).values({
    id,
    tenantId: input.tenantId,
    name,
    status: 'complete',
    origin: 'created',
    kind: 'version',
    initiatorUserId: input.initiator.id,
    itemCount: 1,
    countsByType: counts,
    completedAt: new Date(),
    labels: ['version-restore'],
    manifest: backupManifest({
      name,
      source_tenant: { id: input.sourceTenantId, name: '', entra_tenant_id: '' },
      initiator: { user_id: input.initiator.id, name: input.initiator.name },
      origin: 'created',
      counts_by_type: counts,
      missing: [],
      version_id: input.versionId,
    }),
  })
  await pinObjects(tx, input.tenantId, id, [input.object])
  return id
}
