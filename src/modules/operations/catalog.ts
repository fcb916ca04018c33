/**
 * The catalog of operation types: the only place a type name is born. Start calls and job
 * handlers are typed from it, the engine refuses to start when a type has no handler (or two),
 * and a row whose type is not here renders as "Unknown operation" (DESIGN.md §3).
 */
export type OperationSpec = {
  /** What people read: "Inventory sync". Notification titles are built from it. */
  label: string
  /** Safe to run again from the start after a lost worker; such runs are re-queued, others fail. */
  idempotent: boolean
  /** Attempts in all (the first plus re-queues after lost workers). */
  maxAttempts: number
  /** At most this many runs of the type execute at once per tenant; the rest wait queued. */
  perTenantConcurrency?: number
}

/** The shipped operation types; each has its handler in src/jobs/shipped-handlers.ts. */
export const SHIPPED_OPERATIONS = {
  // Idempotent: every write is keyed by the Graph object id, so a re-queued sync starts over safely.
  'inventory.sync': { label: 'Inventory sync', idempotent: true, maxAttempts: 3, perTenantConcurrency: 1 },
} as const satisfies Record<string, OperationSpec>

export const UNKNOWN_OPERATION_LABEL = 'Unknown operation'

export type Catalog<K extends string = string> = {
  readonly specs: Readonly<Record<K, OperationSpec>>
  types(): K[]
  has(type: string): type is K
  spec(type: K): OperationSpec
  /** The label for any stored type, known or not: never throws. */
  label(type: string): string
}

const TYPE_NAME = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/

export function createCatalog<K extends string>(specs: Record<K, OperationSpec>): Catalog<K> {
  for (const type of Object.keys(specs)) {
    if (!TYPE_NAME.test(type)) throw new Error(`Operation type "${type}" must look like "domain.verb" (lowercase, dot-separated)`)
  }
  const has = (type: string): type is K => Object.hasOwn(specs, type)
  return {
    specs,
    types: () => Object.keys(specs) as K[],
    has,
    spec: (type) => specs[type],
    label: (type) => (has(type) ? specs[type].label : UNKNOWN_OPERATION_LABEL),
  }
}

export const shippedCatalog = createCatalog(SHIPPED_OPERATIONS)
export type ShippedOperationType = keyof typeof SHIPPED_OPERATIONS
