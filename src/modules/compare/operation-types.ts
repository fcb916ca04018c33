import { z } from 'zod'
import type { OperationSpec } from '../operations/catalog.ts'

export const compareRunInput = z.strictObject({
  comparison_id: z.uuid({ error: 'must be a comparison id (a UUID)' }),
})

/** The compare module's operation type (issue 27): a comparison too large to answer inline. */
export const compareOperationTypes = {
  // Idempotent: a re-queued attempt deletes the rows written so far and starts over.
  'compare.run': {
    label: 'Compare',
    description:
      'Compares two configuration states (a tenant now or at a point in time, a backup set): only left, only right, different, same.',
    capability: 'tenant.view',
    cancellable: true,
    rerunnable: false,
    schedulable: false,
    input: compareRunInput,
    failureCodes: {
      comparison_missing: 'The comparison was deleted before it was computed: start a new one.',
    },
    idempotent: true,
    maxAttempts: 3,
    perTenantConcurrency: 2,
  },
} as const satisfies Record<string, OperationSpec>
