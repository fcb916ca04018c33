import { z } from 'zod'
import type { OperationSpec } from '../operations/catalog.ts'
import { hasEnabledAssignment } from './repository.ts'

export const driftEvaluateInput = z.strictObject({
  sync_run_id: z
    .uuid({ error: 'must be an inventory sync run id (a UUID)' })
    .optional()
    .describe('Set when the evaluation follows a sync (a system run attributed to it)'),
})

/** The baselines module's operation types (issue 25, ADR 029). */
export const baselineOperationTypes = {
  // Idempotent: an evaluation reconciles findings with what the inventory says now; running it again changes nothing.
  'drift.evaluate': {
    label: 'Drift evaluation',
    description:
      "Compares the tenant's objects with every enabled baseline assigned to it, setting by setting, and updates the findings.",
    capability: 'findings.manage',
    cancellable: true,
    rerunnable: true,
    schedulable: true,
    input: driftEvaluateInput,
    failureCodes: {},
    idempotent: true,
    maxAttempts: 3,
    perTenantConcurrency: 1,
    startsAfter: {
      types: ['inventory.sync'],
      outcomes: ['succeeded', 'partially_succeeded'],
      when: (tx, run) => hasEnabledAssignment(tx, run.tenantId),
      context: (run) => ({ sync_run_id: run.id }),
    },
  },
} as const satisfies Record<string, OperationSpec>
