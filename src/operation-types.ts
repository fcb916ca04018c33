import type { GraphClient } from './graph/graph-client.ts'
import type { TokenProvider } from './graph/token-provider.ts'
import type { SecretBox } from './lib/crypto.ts'
import { backupOperationTypes } from './modules/backups/operation-types.ts'
import { createBackupHandler } from './modules/backups/create-backup.ts'
import { createPruneHandler } from './modules/backups/prune.ts'
import { createCompareHandler } from './modules/compare/compare-run.ts'
import { compareOperationTypes } from './modules/compare/operation-types.ts'
import { createDocsExportHandler } from './modules/documentation/export-run.ts'
import { documentationOperationTypes } from './modules/documentation/operation-types.ts'
import { createBulkHandler } from './modules/bulk/bulk-run.ts'
import { bulkOperationTypes } from './modules/bulk/operation-types.ts'
import { inventoryOperationTypes } from './modules/inventory/operation-types.ts'
import { createInventorySyncHandler } from './modules/inventory/sync.ts'
import { createRestoreHandler } from './modules/restore/execute.ts'
import { restoreOperationTypes } from './modules/restore/operation-types.ts'
import { createDriftEvaluateHandler } from './modules/baselines/drift-run.ts'
import { baselineOperationTypes } from './modules/baselines/operation-types.ts'
import { createCatalog } from './modules/operations/catalog.ts'
import type { Handlers } from './modules/operations/handlers.ts'

/**
 * The shipped operation types: each module's catalog entries and their handlers, assembled here
 * (docs/ARCHITECTURE.md, "Add an operation type"). The engine refuses to start, and
 * test/operations/catalog.test.ts fails, when a type has no handler or a handler no type.
 */
export const shippedCatalog = createCatalog({
  ...inventoryOperationTypes,
  ...backupOperationTypes,
  ...restoreOperationTypes,
  ...bulkOperationTypes,
  ...compareOperationTypes,
  ...documentationOperationTypes,
  ...baselineOperationTypes,
})
export type ShippedOperationType = ReturnType<typeof shippedCatalog.types>[number]

/** The process's services a handler may need; each module's factory takes what it uses. */
export type ShippedHandlerDeps = {
  secrets: SecretBox
  /** Base URL of the Graph emulator for tenants whose cloud is `emulator`. */
  emulatorUrl: string | undefined
  tokens?: TokenProvider | undefined
  graph?: GraphClient | undefined
  /** A quick sync reads a type in full when its last full read is older than this (default 7 days). */
  fullReadAfterMs?: number | undefined
}

/** The handler of every shipped operation type, from the module that owns it. */
export function shippedHandlers(deps: ShippedHandlerDeps): Handlers<ShippedOperationType> {
  const bulk = createBulkHandler(deps)
  return {
    'inventory.sync': createInventorySyncHandler(deps),
    'backup.create': createBackupHandler(deps),
    'backup.prune': createPruneHandler(),
    'restore.execute': createRestoreHandler(deps),
    'compare.run': createCompareHandler(),
    'docs.export': createDocsExportHandler(),
    'drift.evaluate': createDriftEvaluateHandler(),
    ...(Object.fromEntries(Object.keys(bulkOperationTypes).map((type) => [type, bulk])) as Record<
      keyof typeof bulkOperationTypes,
      typeof bulk
    >),
  }
}
