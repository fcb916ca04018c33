import { z } from 'zod'
import { FINDING_KINDS, FINDING_SEVERITIES, type FindingRow } from '../../db/schema.ts'
import { presentedState } from './repository.ts'

export const FINDING_PRESENTED_STATES = ['open', 'acknowledged', 'excepted', 'resolved', 'unknown'] as const

export const findingResponse = z
  .object({
    id: z.string(),
    baseline_id: z.string(),
    entry_id: z.string(),
    item_id: z.string().nullable(),
    path: z.string().describe('The setting path (the version diff’s); empty for a missing object'),
    label: z.string(),
    kind: z.enum(FINDING_KINDS),
    expected: z.unknown(),
    actual: z.unknown(),
    severity: z.enum(FINDING_SEVERITIES),
    state: z.enum(FINDING_PRESENTED_STATES),
    first_seen_at: z.string(),
    last_seen_at: z.string(),
    resolved_at: z.string().nullable(),
    reopened_count: z.number(),
    caused_by: z
      .object({
        version_id: z.string().nullable(),
        changed_by: z.record(z.string(), z.unknown()).nullable(),
      })
      .nullable(),
    acknowledged: z.object({ by: z.string().nullable(), by_name: z.string().nullable(), at: z.string() }).nullable(),
    exception: z
      .object({ value: z.unknown(), reason: z.string(), approved_by: z.string(), expires_at: z.string().nullable() })
      .nullable(),
  })
  .meta({ id: 'Finding' })

export function presentFinding(
  row: FindingRow,
  acknowledgedByName: string | null = null,
): z.infer<typeof findingResponse> {
  return {
    id: row.id,
    baseline_id: row.baselineId,
    entry_id: row.entryId,
    item_id: row.itemId,
    path: row.path,
    label: row.label,
    kind: row.kind,
    expected: row.expected ?? null,
    actual: row.actual ?? null,
    severity: row.severity,
    state: presentedState(row),
    first_seen_at: row.firstSeenAt.toISOString(),
    last_seen_at: row.lastSeenAt.toISOString(),
    resolved_at: row.resolvedAt?.toISOString() ?? null,
    reopened_count: row.reopenedCount,
    caused_by: row.causedBy
      ? {
          version_id: row.causedBy.version_id,
          changed_by: row.causedBy.changed_by ?? null,
        }
      : null,
    acknowledged: row.acknowledgedAt
      ? { by: row.acknowledgedBy, by_name: acknowledgedByName, at: row.acknowledgedAt.toISOString() }
      : null,
    exception: row.exception,
  }
}
