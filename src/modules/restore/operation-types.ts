import { z } from 'zod'
import type { OperationSpec } from '../operations/catalog.ts'
import { graphFailureCodes } from '../../graph/failure-codes.ts'

export const restoreExecuteInput = z.strictObject({ plan_id: z.uuid({ error: 'must be a restore plan id (a UUID)' }) })

/** The restore module's operation type (issue 15). */
export const restoreOperationTypes = {
  // Idempotent through the write journal: a re-queued attempt writes only what no attempt wrote.
  'restore.execute': {
    label: 'Restore',
    description:
      'Writes a reviewed restore plan to the tenant through Microsoft Graph: each object once, dependencies first, read back into the inventory.',
    capability: 'restore.execute',
    cancellable: true,
    rerunnable: false,
    schedulable: false,
    input: restoreExecuteInput,
    failureCodes: {
      ...graphFailureCodes,
      plan_not_found: 'The restore plan was deleted before the run started: build a new plan.',
      blocked: 'The object cannot be restored (see its reason): fix it in Intune or leave it out of the plan.',
      cancelled: 'The restore was cancelled before this object was written: build a fresh plan to restore the rest.',
      write_unknown:
        'Microsoft Graph did not answer a write, and its audit log shows it was not applied: run the restore again with a fresh plan.',
    },
    idempotent: true,
    maxAttempts: 3,
    perTenantConcurrency: 1,
  },
} as const satisfies Record<string, OperationSpec>
