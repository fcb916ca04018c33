import type { Database, Executor } from '../../db/engine.ts'
import type { EntryCompare } from '../../db/schema.ts'
import { uuidv7 } from '../../lib/ids.ts'
import { type Actor, recordAuditEvent } from '../audit/record-audit-event.ts'
import { insertBaseline, insertEntries, snapshotVersion, storeContents } from './repository.ts'
import type { CreateBaselineBody } from './schemas.ts'
import { resolveFrom, type SourceObject } from './sources.ts'

/** A new entry compares the whole object with its assignments; the default ignore rules always apply. */
export const DEFAULT_COMPARE: EntryCompare = { mode: 'whole', assignments: true }

/** Entries for these objects, added in `version`. */
export async function addObjects(
  tx: Executor,
  baselineId: string,
  sourceTenantId: string,
  objects: readonly SourceObject[],
  version: number,
) {
  await storeContents(
    tx,
    objects.map((o) => ({ contentHash: o.contentHash, payload: o.payload, assignments: o.assignments })),
  )
  const ids = objects.map(() => uuidv7())
  await insertEntries(
    tx,
    objects.map((o, i) => ({
      id: ids[i]!,
      baselineId,
      policyType: o.policyType,
      displayName: o.displayName,
      odataType: o.odataType,
      sourceTenantId,
      sourceItemId: o.itemId,
      sourceExternalId: o.externalId,
      sourceVersionId: o.versionId,
      sourceBackupId: o.backupId,
      contentHash: o.contentHash,
      compare: DEFAULT_COMPARE,
      ignore: [],
      addedInVersion: version,
    })),
  )
  return ids
}

/**
 * Creates a baseline from objects picked in a tenant or from a backup set (version 1). Its home is
 * the source tenant: `canUse` refuses a caller who may not manage baselines there.
 */
export async function createBaseline(
  db: Database,
  actor: Actor,
  userId: string | null,
  body: CreateBaselineBody,
  canUse: (tenantId: string) => Promise<void>,
): Promise<string> {
  const { tenantId, objects } = await resolveFrom(db, body.from, canUse)
  const id = uuidv7()
  await db.transaction(async (tx) => {
    await insertBaseline(tx, {
      id,
      name: body.name,
      description: body.description ?? '',
      homeTenantId: tenantId,
      version: 1,
      createdBy: userId,
    })
    await addObjects(tx, id, tenantId, objects, 1)
    await snapshotVersion(tx, id, 1, `Created with ${objects.length} entries`, userId)
    await recordAuditEvent(tx, actor, {
      tenantId,
      action: 'baseline.created',
      subject: { type: 'baseline', id },
      metadata: { name: body.name, entries: objects.length, from: body.from },
    })
  })
  return id
}
