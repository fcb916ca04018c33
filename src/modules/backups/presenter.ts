import { z } from 'zod'
import { BACKUP_KINDS, BACKUP_STATUSES } from '../../db/schema.ts'
import { diffResponse } from '../inventory/history-presenter.ts'
import type { BackupListRow } from './repository.ts'
import { MISSING_PREVIEW } from './store.ts'

const sourceTenant = z.object({ id: z.string(), name: z.string(), entra_tenant_id: z.string() })
const missingEntry = z.object({
  type: z.string(),
  id: z.string(),
  name: z.string(),
  code: z.string(),
  message: z.string(),
})

export const backupResponse = z
  .object({
    id: z.string(),
    name: z.string(),
    status: z
      .enum(BACKUP_STATUSES)
      .describe('running while its run reads; partial when objects are missing (listed in the manifest)'),
    protected: z.boolean(),
    labels: z.array(z.string()),
    origin: z.enum(['created', 'imported']),
    kind: z
      .enum(BACKUP_KINDS)
      .describe(
        "backup (a backup run, by a person or a schedule), import, version (a version restore's snapshot) or system (another run's)",
      ),
    item_count: z.number(),
    counts_by_type: z.record(z.string(), z.number()),
    missing: z
      .array(missingEntry)
      .describe(`The first ${MISSING_PREVIEW} missing objects; all of them: GET …/backups/{id}/missing`),
    missing_count: z.number().describe('How many objects the set misses'),
    source_tenant: sourceTenant
      .nullable()
      .describe(
        'The tenant the set was taken from; for an import only when its signature proves it came from this workspace',
      ),
    source: z
      .object({ claimed: sourceTenant.nullable(), verified: z.boolean() })
      .describe(
        'What the manifest says of its source; verified when this workspace made it (or signed the imported file)',
      ),
    initiator_name: z.string().nullable(),
    created_at: z.string(),
    completed_at: z.string().nullable(),
    run_id: z.string().nullable(),
  })
  .meta({ id: 'BackupSet' })

export type BackupResponse = z.output<typeof backupResponse>

/** A stored manifest's source as the response shape; fields a manifest lacks (a version snapshot's) are empty. */
function claimedSource(value: unknown): z.output<typeof sourceTenant> | null {
  if (value === null || typeof value !== 'object') return null
  const field = (key: string) => {
    const v = (value as Record<string, unknown>)[key]
    return typeof v === 'string' ? v : ''
  }
  return field('id') === '' ? null : { id: field('id'), name: field('name'), entra_tenant_id: field('entra_tenant_id') }
}

/** Entries shaped as the response says, whatever a stored manifest holds (a response never fails to serialise). */
const missingOf = (entries: unknown[]) =>
  entries.flatMap((e) => {
    const parsed = missingEntry.safeParse(e)
    return parsed.success ? [parsed.data] : []
  })

export function presentBackup({ set, initiatorName }: BackupListRow): BackupResponse {
  type StoredManifest = {
    missing?: unknown
    source_tenant?: unknown
    source_verified?: unknown
    initiator?: { name?: unknown }
  }
  const manifest = (set.manifest ?? {}) as StoredManifest
  const claimed = claimedSource(manifest.source_tenant)
  // An import's source is what its file says, unless this workspace signed the file (ADR 022).
  const verified = set.origin === 'imported' ? manifest.source_verified === true : claimed !== null
  const initiator = typeof manifest.initiator?.name === 'string' ? manifest.initiator.name : 'System'
  return {
    id: set.id,
    name: set.name,
    status: set.status,
    protected: set.protected,
    labels: set.labels,
    origin: set.origin,
    kind: set.kind,
    item_count: set.itemCount,
    counts_by_type: set.countsByType,
    missing: missingOf(Array.isArray(manifest.missing) ? manifest.missing.slice(0, MISSING_PREVIEW) : []),
    missing_count: set.missingCount,
    source_tenant: verified ? claimed : null,
    source: { claimed, verified },
    initiator_name: initiatorName ?? (set.initiatorUserId === null ? initiator : null),
    created_at: set.createdAt.toISOString(),
    completed_at: set.completedAt?.toISOString() ?? null,
    run_id: set.runId,
  }
}

export const missingResponse = missingEntry.meta({ id: 'BackupMissingObject' })

export const backupItemResponse = z
  .object({ type: z.string(), id: z.string(), display_name: z.string(), sha256: z.string() })
  .meta({ id: 'BackupItem' })

export const backupItemDetailResponse = backupItemResponse
  .extend({
    payload: z.record(z.string(), z.unknown()),
    assignments: z.array(z.record(z.string(), z.unknown())),
    current: z
      .object({
        item_id: z.string(),
        sha256: z.string(),
        payload: z.record(z.string(), z.unknown()),
        assignments: z.array(z.record(z.string(), z.unknown())),
      })
      .nullable()
      .describe("The tenant's current version (its inventory), null when the object is no longer there"),
    changed: z.boolean().describe('The current version differs from the backed-up one'),
    changes: diffResponse.shape.changes.describe(
      'From the backed-up content to the current one (everything removed when the object is gone)',
    ),
  })
  .meta({ id: 'BackupItemDetail' })
