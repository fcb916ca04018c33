import { z } from 'zod'
import type { ComparisonRow } from '../../db/schema.ts'
import { runViewPath } from '../operations/links.ts'

const sideResponse = z
  .object({
    tenant_id: z.string(),
    label: z.string(),
    at: z.string().optional(),
    backup_id: z.string().optional(),
  })
  .meta({ id: 'ComparisonSideResolved' })

const rowObject = z
  .object({ id: z.string(), name: z.string(), odata_type: z.string().nullable(), item_id: z.string().optional() })
  .nullable()

export const comparisonRowResponse = z
  .object({
    position: z.number(),
    status: z.enum(['only_left', 'only_right', 'different', 'same']),
    policy_type: z.string(),
    left: rowObject,
    right: rowObject,
    changes: z.array(
      z.object({
        path: z.string(),
        label: z.string(),
        kind: z.enum(['added', 'removed', 'changed']),
        before: z.unknown(),
        after: z.unknown(),
      }),
    ),
  })
  .meta({ id: 'ComparisonRow' })

export const comparisonResponse = z
  .object({
    id: z.string(),
    status: z.enum(['running', 'ready', 'failed']),
    left: sideResponse,
    right: sideResponse,
    run_id: z.string().nullable(),
    counts: z.object({
      only_left: z.number(),
      only_right: z.number(),
      different: z.number(),
      same: z.number(),
      total: z.number(),
      by_type: z.record(z.string(), z.record(z.string(), z.number())),
    }),
    mapping: z.array(
      z.object({
        kind: z.enum(['group', 'assignment_filter', 'scope_tag']),
        left_id: z.string(),
        left_name: z.string().nullable(),
        right_id: z.string().nullable(),
        right_name: z.string().nullable(),
        source: z.enum(['name', 'user']).describe('`name`: proposed by name; `user`: a pair given in the request'),
      }),
    ),
    created_at: z.string(),
    completed_at: z.string().nullable(),
    links: z.object({ view: z.string(), run: z.string().nullable() }),
  })
  .meta({ id: 'Comparison' })

export type ComparisonJson = z.infer<typeof comparisonResponse>
export type ComparisonRowJson = z.infer<typeof comparisonRowResponse>

const EMPTY_COUNTS = { only_left: 0, only_right: 0, different: 0, same: 0, total: 0, by_type: {} }

export function presentComparison(c: ComparisonRow): ComparisonJson {
  return {
    id: c.id,
    status: c.status,
    left: c.left as ComparisonJson['left'],
    right: c.right as ComparisonJson['right'],
    run_id: c.runId,
    counts: { ...EMPTY_COUNTS, ...(c.counts as Partial<ComparisonJson['counts']>) },
    // Before it is computed the row holds only the person's pairs; comparisons stored before `source` existed are by name.
    mapping: (c.mapping as Partial<ComparisonJson['mapping'][number]>[]).map((m) => ({
      kind: m.kind!,
      left_id: m.left_id!,
      left_name: m.left_name ?? null,
      right_id: m.right_id ?? null,
      right_name: m.right_name ?? null,
      source: m.source ?? 'name',
    })),
    created_at: c.createdAt.toISOString(),
    completed_at: c.completedAt?.toISOString() ?? null,
    links: {
      view: `/compare/${c.id}`,
      run: c.runId ? runViewPath(c.leftTenantId, c.runId) : null,
    },
  }
}
