import type { ShippedOperationType } from '../modules/operations/catalog.ts'
import { createInventorySyncHandler, type InventorySyncDeps } from '../modules/inventory/sync.ts'
import type { Handlers } from './handlers.ts'

/** What the shipped handlers need from the process: the secret box, the Graph emulator's URL. */
export type ShippedHandlerDeps = InventorySyncDeps

/** The handler of every shipped operation type, from the module that owns it. */
export function shippedHandlers(deps: ShippedHandlerDeps): Handlers<ShippedOperationType> {
  return { 'inventory.sync': createInventorySyncHandler(deps) }
}
