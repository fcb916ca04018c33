import { bulkOperationTypes } from '../../src/modules/bulk/operation-types.ts'
import type { RunHandler } from '../../src/modules/operations/handlers.ts'

const noop: RunHandler = async () => {}

/** Handlers for the bulk types in tests where no worker runs (handlers are never called). */
export const bulkNoopHandlers = Object.fromEntries(
  Object.keys(bulkOperationTypes).map((type) => [type, noop]),
) as Record<keyof typeof bulkOperationTypes, RunHandler>
