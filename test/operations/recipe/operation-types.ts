import { z } from 'zod'
import type { OperationSpec } from '../../../src/modules/operations/catalog.ts'

/**
 * A test-only operation type added by following docs/ARCHITECTURE.md, "Add an operation type",
 * alone: this catalog entry, the handler in ./jobs.ts, and one line each where the catalog and
 * the handlers are assembled (test/operations/platform.test.ts plays src/operation-types.ts).
 */
export const recipeOperationTypes = {
  'recipe.stamp': {
    label: 'Stamp targets',
    description: 'Stamps each target with a marker, and reports one result per target.',
    capability: 'inventory.sync',
    cancellable: true,
    rerunnable: true,
    schedulable: true,
    input: z.strictObject({
      targets: z.number({ error: 'must be a number' }).int().min(0).max(200_000),
      fail_every: z.number().int().min(2).optional(),
    }),
    failureCodes: { target_locked: 'Unlock the target in Intune (it is being edited elsewhere), then re-run.' },
    idempotent: true,
    maxAttempts: 3,
  },
} as const satisfies Record<string, OperationSpec>
