import { eq } from 'drizzle-orm'
import type { Database } from '../../src/db/engine.ts'
import { backupSets, type BackupSetRow } from '../../src/db/schema.ts'
import { uuidv7 } from '../../src/lib/ids.ts'
import { finishSet, pinObjects, type BackupManifest } from '../../src/modules/backups/store.ts'
import { contentHashOf } from '../../src/modules/backups/zip-import.ts'

export type SeedObject = {
  policyType: string
  externalId: string
  displayName: string
  payload: Record<string, unknown>
  assignments: Record<string, unknown>[]
}

/** A completed set of the given objects, written through the module's own store (no Graph). */
export async function seedBackupSet(
  db: Database,
  tenantId: string,
  objects: readonly SeedObject[],
  options: { name?: string; createdAt?: Date; protected?: boolean } = {},
): Promise<BackupSetRow> {
  const id = uuidv7()
  await db.insert(backupSets).values({
    id,
    tenantId,
    name: options.name ?? 'Seeded',
    status: 'running',
    origin: 'created',
    protected: options.protected ?? false,
    ...(options.createdAt ? { createdAt: options.createdAt } : {}),
  })
  await pinObjects(
    db,
    tenantId,
    id,
    objects.map((o) => ({ ...o, contentHash: contentHashOf(o.payload, o.assignments) })),
  )
  const counts: Record<string, number> = {}
  for (const o of objects) counts[o.policyType] = (counts[o.policyType] ?? 0) + 1
  const manifest: BackupManifest = {
    format: 'tenantatlas-backup',
    version: 1,
    name: options.name ?? 'Seeded',
    source_tenant: { id: tenantId, name: 'Seeded tenant', entra_tenant_id: '00000000-0000-0000-0000-000000000001' },
    created_at: (options.createdAt ?? new Date()).toISOString(),
    initiator: { user_id: null, name: 'System' },
    origin: 'created',
    item_count: objects.length,
    counts_by_type: Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b))),
    missing: [],
  }
  await finishSet(db, id, 'complete', manifest)
  const [row] = await db.select().from(backupSets).where(eq(backupSets.id, id))
  return row!
}
