import type { Database } from '../../db/engine.ts'
import type { BaselineRow } from '../../db/schema.ts'
import { notFound, validationError } from '../../lib/errors.ts'
import { type Actor, recordAuditEvent } from '../audit/record-audit-event.ts'
import { addObjects } from './create-baseline.ts'
import { findEntry, lockBaseline, snapshotVersion, storeContents, updateEntryRow } from './repository.ts'
import type { BaselineFrom, UpdateEntryBody } from './schemas.ts'
import { resolveFrom, versionObject } from './sources.ts'

/**
 * Every change of a baseline's entries makes a new immutable version (ADR 029): the baseline row is
 * locked, the entries change, the snapshot of the result is written as version N+1, audited.
 */
async function inNewVersion(
  db: Database,
  baseline: BaselineRow,
  actor: Actor,
  userId: string | null,
  summary: string,
  change: (tx: Parameters<Parameters<Database['transaction']>[0]>[0], version: number) => Promise<void>,
) {
  return db.transaction(async (tx) => {
    const locked = await lockBaseline(tx, baseline.id)
    if (!locked) throw notFound('Baseline')
    const version = locked.version + 1
    await change(tx, version)
    await snapshotVersion(tx, baseline.id, version, summary, userId)
    await recordAuditEvent(tx, actor, {
      tenantId: baseline.homeTenantId,
      action: 'baseline.version_created',
      subject: { type: 'baseline', id: baseline.id },
      metadata: { version, summary },
    })
    return version
  })
}

export async function addEntries(
  db: Database,
  baseline: BaselineRow,
  actor: Actor,
  userId: string | null,
  from: BaselineFrom,
  canUse: (tenantId: string) => Promise<void>,
) {
  const { tenantId, objects } = await resolveFrom(db, from, canUse)
  let ids: string[] = []
  await inNewVersion(db, baseline, actor, userId, `Added ${objects.length} entries`, async (tx, version) => {
    ids = await addObjects(tx, baseline.id, tenantId, objects, version)
  })
  return ids
}

export async function removeEntry(
  db: Database,
  baseline: BaselineRow,
  actor: Actor,
  userId: string | null,
  entryId: string,
) {
  const entry = await findEntry(db, baseline.id, entryId)
  if (!entry) throw notFound('Baseline entry')
  await inNewVersion(db, baseline, actor, userId, `Removed ${entry.displayName}`, async (tx, version) => {
    await updateEntryRow(tx, entry.id, { removedInVersion: version })
  })
}

/** Changes what an entry compares, its ignore rules, or re-pins it to another version of its source item. */
export async function updateEntry(
  db: Database,
  baseline: BaselineRow,
  actor: Actor,
  userId: string | null,
  entryId: string,
  body: UpdateEntryBody,
) {
  const entry = await findEntry(db, baseline.id, entryId)
  if (!entry) throw notFound('Baseline entry')
  if (body.compare?.mode === 'settings' && (body.compare.settings ?? []).length === 0)
    throw validationError([{ field: 'compare.settings', message: 'name at least one setting path with mode settings' }])
  let pinned: Awaited<ReturnType<typeof versionObject>>
  if (body.repin !== undefined) {
    if (!entry.sourceItemId)
      throw validationError([{ field: 'repin', message: 'the entry has no source item in the inventory to re-pin to' }])
    pinned = await versionObject(db, entry.sourceTenantId, entry.sourceItemId, body.repin)
    if (!pinned) throw validationError([{ field: 'repin', message: 'is not a version of the entry’s source item' }])
  }
  const what = [
    body.compare ? 'compare' : null,
    body.ignore ? 'ignore rules' : null,
    pinned ? 're-pinned' : null,
  ].filter(Boolean)
  await inNewVersion(db, baseline, actor, userId, `${entry.displayName}: ${what.join(', ')}`, async (tx) => {
    if (pinned)
      await storeContents(tx, [
        { contentHash: pinned.contentHash, payload: pinned.payload, assignments: pinned.assignments },
      ])
    await updateEntryRow(tx, entry.id, {
      ...(body.compare ? { compare: body.compare } : {}),
      ...(body.ignore ? { ignore: body.ignore } : {}),
      ...(pinned
        ? {
            contentHash: pinned.contentHash,
            sourceVersionId: pinned.versionId,
            displayName: pinned.displayName,
            odataType: pinned.odataType,
          }
        : {}),
    })
  })
}
