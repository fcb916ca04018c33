import { z } from 'zod'
import type { OperationSpec } from '../operations/catalog.ts'

const source = z
  .strictObject({
    now: z.literal(true, { error: 'must be true' }).optional(),
    at: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date and time' }).optional(),
    backup_id: z.uuid({ error: 'must be a backup set id (a UUID)' }).optional(),
    baseline_id: z.uuid({ error: 'must be a baseline id (a UUID)' }).optional(),
  })
  .superRefine((s, ctx) => {
    const named = [s.now, s.at, s.backup_id, s.baseline_id].filter((v) => v !== undefined).length
    if (named !== 1)
      ctx.addIssue({ code: 'custom', message: 'name exactly one of now, at, backup_id or baseline_id', path: [] })
  })

/** Canonical: the source with its one key (`at` as UTC ISO), the format, the flag, and the appendix's date. */
export const docsExportInput = z
  .strictObject({
    source: source.default({ now: true }),
    format: z.enum(['markdown', 'html'], { error: 'must be markdown or html' }),
    include_assignments: z.boolean({ error: 'must be true or false' }).default(true),
    changed_since: z.iso
      .datetime({ offset: true, error: 'must be an ISO 8601 date and time' })
      .optional()
      .describe('Adds the appendix "changed since": the change history from then to the source\'s time'),
  })
  .transform((input): Record<string, unknown> => ({
    source: input.source.at !== undefined ? { at: new Date(input.source.at).toISOString() } : input.source,
    format: input.format,
    include_assignments: input.include_assignments,
    ...(input.changed_since ? { changed_since: new Date(input.changed_since).toISOString() } : {}),
  }))
  .meta({ id: 'DocumentationExport' })

export type DocsExportContext = {
  source: { now?: true; at?: string; backup_id?: string; baseline_id?: string }
  format: 'markdown' | 'html'
  include_assignments: boolean
  changed_since?: string
}

/** The documentation module's operation type (issue 27). */
export const documentationOperationTypes = {
  // Idempotent: a re-queued attempt deletes what it wrote and writes the document again.
  'docs.export': {
    label: 'Documentation export',
    description:
      'Writes readable documentation of a tenant (now or at a point in time) or a backup set: a Markdown ZIP or one HTML file.',
    capability: 'tenant.view',
    cancellable: true,
    rerunnable: true,
    schedulable: true,
    input: docsExportInput,
    failureCodes: {
      source_missing: 'The backup set the documentation was made from was deleted: choose another source.',
    },
    idempotent: true,
    maxAttempts: 3,
    perTenantConcurrency: 1,
  },
} as const satisfies Record<string, OperationSpec>
