import { and, eq } from 'drizzle-orm'
import type { Database } from '../../db/engine.ts'
import { backupRetention, backupSets, type BackupSetRow } from '../../db/schema.ts'
import { conflict, notFound } from '../../lib/errors.ts'
import type { SecretBox } from '../../lib/crypto.ts'
import { uuidv7 } from '../../lib/ids.ts'
import type { TenantAccess } from '../access/policy.ts'
import { type Actor, recordAuditEvent } from '../audit/record-audit-event.ts'
import type { OperationsEngine } from '../operations/engine.ts'
import { validatedInput } from '../operations/start-run.ts'
import { defaultBackupName } from './create-backup.ts'
import { backupManifest, contentsOfSets, ensureSetOfRun, finishSet, pinObjects, releaseContents } from './store.ts'
import { DEFAULT_IMPORT_LIMITS, readBackupZip, type ImportLimits } from './zip-import.ts'

/**
 * Starts a `backup.create` run and creates its set in the same transaction, so the 202 names
 * both. The same input while an identical backup is active joins it (`deduplicated`).
 */
export async function startBackup(
  engine: OperationsEngine,
  db: Database,
  request: { tenantId: string; body: unknown; initiatorUserId: string | null; actor: Actor },
) {
  const context = validatedInput(engine.catalog, 'backup.create', request.body) as { name: string | null }
  return engine.startRunWith(async (tx, start) => {
    const started = await start({
      tenantId: request.tenantId,
      type: 'backup.create',
      context,
      initiatorUserId: request.initiatorUserId,
      actor: request.actor,
    })
    const set = await ensureSetOfRun(tx, {
      tenantId: request.tenantId,
      runId: started.run.id,
      name: context.name ?? defaultBackupName(started.run.createdAt),
      initiatorUserId: started.run.initiatorUserId,
      kind: 'backup',
    })
    return { ...started, backup: set }
  })
}

async function lockSet(
  tx: Parameters<Parameters<Database['transaction']>[0]>[0],
  tenantId: string,
  backupId: string,
): Promise<BackupSetRow> {
  const [row] = await tx
    .select()
    .from(backupSets)
    .where(and(eq(backupSets.tenantId, tenantId), eq(backupSets.id, backupId)))
    .for('update')
  if (!row) throw notFound('Backup')
  return row
}

export type BackupChanges = {
  name?: string | undefined
  labels?: string[] | undefined
  protected?: boolean | undefined
}

/** Renames, labels, protects or unprotects a set: the only things about a set that change. */
export async function updateBackup(
  db: Database,
  access: TenantAccess,
  actor: Actor,
  backupId: string,
  changes: BackupChanges,
) {
  await db.transaction(async (tx) => {
    const current = await lockSet(tx, access.tenantId, backupId)
    const set: Partial<BackupSetRow> = {}
    if (changes.name !== undefined) set.name = changes.name
    if (changes.labels !== undefined) set.labels = [...new Set(changes.labels)].sort()
    if (changes.protected !== undefined) set.protected = changes.protected
    if (Object.keys(set).length === 0) return
    await tx.update(backupSets).set(set).where(eq(backupSets.id, current.id))
    await recordAuditEvent(tx, actor, {
      tenantId: access.tenantId,
      action: 'backup.updated',
      subject: { type: 'backup', id: current.id },
      metadata: {
        name: set.name ?? current.name,
        ...('protected' in set ? { protected: set.protected } : {}),
        ...('labels' in set ? { labels: set.labels } : {}),
      },
    })
  })
}

/**
 * Deletes a set (409 while protected or still being written), then garbage-collects the content
 * rows it used that no version and no other set references (ADR 018). Returns how many it freed.
 */
export async function deleteBackup(
  db: Database,
  access: TenantAccess,
  actor: Actor,
  backupId: string,
): Promise<number> {
  const hashes = await db.transaction(async (tx) => {
    const current = await lockSet(tx, access.tenantId, backupId)
    if (current.protected) throw conflict(`Backup "${current.name}" is protected: unprotect it first`)
    if (current.status === 'running')
      throw conflict(`Backup "${current.name}" is still being written: cancel its run, or wait for it`)
    const used = await contentsOfSets(tx, [current.id])
    await tx.delete(backupSets).where(eq(backupSets.id, current.id))
    await recordAuditEvent(tx, actor, {
      tenantId: access.tenantId,
      action: 'backup.deleted',
      subject: { type: 'backup', id: current.id },
      metadata: { name: current.name },
    })
    return used
  })
  return releaseContents(db, access.tenantId, hashes)
}

/**
 * Makes a verified backup ZIP (already on disk) a set of the tenant, marked as imported. One
 * transaction: a file that fails any check stores nothing. What the manifest says of its source
 * tenant is stored as the file's claim; it is `source_verified` only when the manifest carries
 * this workspace's signature (ADR 022). `access.userId` null: a system import (the CLI).
 */
export async function importBackup(
  db: Database,
  access: { tenantId: string; userId: string | null },
  actor: Actor,
  path: string,
  limits: ImportLimits = DEFAULT_IMPORT_LIMITS,
  secrets?: SecretBox,
) {
  return db.transaction(async (tx) => {
    const id = uuidv7()
    await tx.insert(backupSets).values({
      id,
      tenantId: access.tenantId,
      name: 'Import',
      status: 'running',
      origin: 'imported',
      kind: 'import',
      initiatorUserId: access.userId,
    })
    const manifest = await readBackupZip(
      path,
      limits,
      (objects) => pinObjects(tx, access.tenantId, id, objects),
      secrets,
    )
    const stored = backupManifest({
      name: manifest.name,
      source_tenant: manifest.source_tenant,
      source_verified: manifest.verified,
      created_at: manifest.created_at,
      initiator: manifest.initiator,
      origin: 'imported',
      counts_by_type: manifest.counts_by_type,
      missing: manifest.missing,
    })
    await tx.update(backupSets).set({ name: manifest.name }).where(eq(backupSets.id, id))
    await finishSet(tx, id, manifest.missing.length > 0 ? 'partial' : 'complete', stored)
    await recordAuditEvent(tx, actor, {
      tenantId: access.tenantId,
      action: 'backup.imported',
      subject: { type: 'backup', id },
      metadata: {
        name: manifest.name,
        item_count: stored.item_count,
        claimed_source_tenant_id: manifest.source_tenant.id,
        source_verified: manifest.verified,
      },
    })
    return id
  })
}

/** Sets the tenant's retention policy. */
export async function setRetention(
  db: Database,
  access: TenantAccess,
  actor: Actor,
  policy: { keep_last: number; keep_days: number },
) {
  await db.transaction(async (tx) => {
    await tx
      .insert(backupRetention)
      .values({ tenantId: access.tenantId, keepLast: policy.keep_last, keepDays: policy.keep_days })
      .onConflictDoUpdate({
        target: backupRetention.tenantId,
        set: { keepLast: policy.keep_last, keepDays: policy.keep_days, updatedAt: new Date() },
      })
    await recordAuditEvent(tx, actor, {
      tenantId: access.tenantId,
      action: 'backup.retention_set',
      subject: { type: 'tenant', id: access.tenantId },
      metadata: policy,
    })
  })
}
