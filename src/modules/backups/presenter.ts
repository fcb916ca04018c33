import { z } from 'zod'
import { BACKUP_STATUSES } from '../../db/schema.ts'
import { diffResponse } from '../inventory/history-presenter.ts'
import type { BackupListRow } from './repository.ts'

export const backupResponse = z
  .object({
    id: z.string(),
    name: z.string(),
    status: z.enum(BACKUP_STATUSES).describe('running while its run reads; partial when objects are missing (listed in the manifest)'),
    protected: z.boolean(),
    labels: z.array(z.string()),
    origin: z.enum(['created', 'imported']),
    item_count: z.number(),
    counts_by_type: z.record(z.string(), z.number()),
    missing: z.array(z.object({ type: z.string(), id: z.string(), name: z.string(), code: z.string(), message: z.string() })),
    source_tenant: z.object({ id: z.string(), name: z.string(), entra_tenant_id: z.string() }).nullable(),
    initiator_name: z.string().nullable(),
    created_at: z.string(),
    completed_at: z.string().nullable(),
    run_id: z.string().nullable(),
  })
  .meta({ id: 'BackupSet' })

export type BackupResponse = z.output<typeof backupResponse>

export function presentBackup({ set, initiatorName }: BackupListRow): BackupResponse {
  const manifest = (set.manifest ?? {}) as { missing?: BackupResponse['missing']; source_tenant?: BackupResponse['source_tenant']; initiator?: { name?: string } }
  return {
    id: set.id,
    name: set.name,
    status: set.status,
    protected: set.protected,
    labels: set.labels,
    origin: set.origin,
    item_count: set.itemCount,
    counts_by_type: set.countsByType,
    missing: manifest.missing ?? [],
    source_tenant: manifest.source_tenant ?? null,
    initiator_name: initiatorName ?? (set.initiatorUserId === null ? (manifest.initiator?.name ?? 'System') : null),
    created_at: set.createdAt.toISOString(),
    completed_at: set.completedAt?.toISOString() ?? null,
    run_id: set.runId,
  }
}

export const backupItemResponse = z.object({ type: z.string(), id: z.string(), display_name: z.string(), sha256: z.string() }).meta({ id: 'BackupItem' })

export const backupItemDetailResponse = backupItemResponse
  .extend({
    payload: z.record(z.string(), z.unknown()),
    assignments: z.array(z.record(z.string(), z.unknown())),
    current: z
      .object({ item_id: z.string(), sha256: z.string(), payload: z.record(z.string(), z.unknown()), assignments: z.array(z.record(z.string(), z.unknown())) })
      .nullable()
      .describe("The tenant's current version (its inventory), null when the object is no longer there"),
    changed: z.boolean().describe('The current version differs from the backed-up one'),
    changes: diffResponse.shape.changes.describe('From the backed-up content to the current one (everything removed when the object is gone)'),
  })
  .meta({ id: 'BackupItemDetail' })
