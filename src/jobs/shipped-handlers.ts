import type { ShippedOperationType } from '../modules/operations/catalog.ts'
import type { Handlers } from './handlers.ts'

/** The handler of every shipped operation type, from the module that owns it. */
export const shippedHandlers: Handlers<ShippedOperationType> = {}
