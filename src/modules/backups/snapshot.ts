import { eq } from 'drizzle-orm'
import type { Executor } from '../../db/engine.ts'
import { backupSets, tenants, users, type BackupSetRow } from '../../db/schema.ts'
import type { PolicyTypeEntry } from '../../graph/policy-types.ts'
import type { NormalisedItem } from '../inventory/normalise.ts'
import type { RunExecution } from '../operations/run-execution.ts'
import {
  countsOf,
  emptySet,
  ensureSetOfRun,
  finishSet,
  pinObjects,
  backupManifest,
  type BackupManifest,
  type BackupObject,
  type MissingObject,
} from './store.ts'

/**
 * The one path that snapshots objects into a run's backup set (ADR 023): a backup run's and the
 * backup a bulk operation takes before it changes anything. Objects arrive read as a full read
 * reads them (normalised); the set is opened for the run, filled, and closed with its manifest.
 */

/** An object read from Graph as a backup keeps it. */
export const backupObjectOf = (entry: PolicyTypeEntry, item: NormalisedItem): BackupObject => ({
  policyType: entry.key,
  externalId: item.externalId,
  displayName: item.displayName,
  contentHash: item.contentHash,
  payload: item.payload,
  assignments: item.assignments,
})

/**
 * The run's set (created by its first attempt). `labels` and `protected`: a set taken before a
 * change is kept for Undo and labelled with the run. A set an earlier attempt left incomplete is
 * emptied; one it completed is returned as it is (it shows the state before any write).
 */
export async function openRunSet(
  run: RunExecution,
  input: { name: string; labels?: string[]; protected?: boolean },
): Promise<BackupSetRow> {
  const set = await ensureSetOfRun(run.db, {
    tenantId: run.run.tenantId,
    runId: run.run.id,
    name: input.name,
    initiatorUserId: run.run.initiatorUserId,
  })
  if (set.status === 'complete') return set
  await run.transaction(async (tx) => {
    await emptySet(tx, set.id)
    if (input.labels || input.protected)
      await tx
        .update(backupSets)
        .set({ labels: input.labels ?? [], protected: input.protected ?? false })
        .where(eq(backupSets.id, set.id))
  })
  return set
}

/** Pins objects read from Graph in the set (in the run's fenced transaction). */
export async function snapshotInto(run: RunExecution, setId: string, objects: readonly BackupObject[]): Promise<void> {
  await run.transaction((tx) => pinObjects(tx, run.run.tenantId, setId, objects))
}

/** The set's manifest: its tenant, initiator, counts and what could not be read. */
export async function manifestOf(
  db: Executor,
  run: RunExecution,
  backupId: string,
  name: string,
  missing: MissingObject[],
): Promise<BackupManifest> {
  const [tenant] = await db.select().from(tenants).where(eq(tenants.id, run.run.tenantId))
  const [initiator] = run.run.initiatorUserId
    ? await db.select({ name: users.name }).from(users).where(eq(users.id, run.run.initiatorUserId))
    : []
  return backupManifest({
    name,
    source_tenant: { id: run.run.tenantId, name: tenant?.name ?? '', entra_tenant_id: tenant?.entraTenantId ?? '' },
    initiator: { user_id: run.run.initiatorUserId, name: initiator?.name ?? 'System' },
    origin: 'created',
    counts_by_type: await countsOf(db, backupId),
    missing,
  })
}

/** Closes the set with its manifest. */
export async function closeRunSet(
  run: RunExecution,
  set: { id: string; name: string },
  status: 'complete' | 'partial' | 'failed',
  missing: MissingObject[],
): Promise<void> {
  await run.transaction(async (tx) =>
    finishSet(tx, set.id, status, await manifestOf(tx, run, set.id, set.name, missing)),
  )
}
