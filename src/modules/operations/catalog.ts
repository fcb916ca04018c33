import type { z } from 'zod'
import type { Executor } from '../../db/engine.ts'
import type { OperationRunRow, RunOutcome } from '../../db/schema.ts'
import type { Capability } from '../access/policy.ts'

/**
 * The catalog of operation types: the only place a type name is born. Each module declares its
 * types (`modules/<domain>/operation-types.ts`); `src/operation-types.ts` assembles the shipped
 * catalog. The engine refuses to start when a type has no handler (or two), a row whose type is
 * not here renders as "Unknown operation" (ADR 005), and `GET /api/operation-types` serves
 * what the console needs to render any type.
 */
export type OperationSpec = {
  /** What people read: "Inventory sync". Notification titles are built from it. */
  label: string
  /** One line for people: what a run of the type does. */
  description: string
  /** The capability that starts (and re-runs, and schedules) the type. */
  capability: Capability
  cancellable: boolean
  /** Re-running starts the same type with the run's stored input. */
  rerunnable: boolean
  /** A completed run can be undone (a restore from the backup it took first: bulk runs); Undo needs restore.execute. */
  undoable?: boolean
  /** A schedule may start it (as a system run). */
  schedulable: boolean
  /**
   * Validates a start's input. Its output is canonical (the same input written differently gives
   * the same output, and parsing an output again returns it unchanged): it is the run's context,
   * its identity, and what a re-run or a schedule starts again.
   */
  input: z.ZodType<Record<string, unknown>>
  /** What a schedule's input defaults to before validation (e.g. an inventory sync's quick mode); none by default. */
  scheduleDefaults?: (input: Record<string, unknown>) => Record<string, unknown>
  /** The failure codes a run of the type can end with, and what a person should do about each. */
  failureCodes: Readonly<Record<string, string>>
  /** Safe to run again from the start after a lost worker; such runs are re-queued, others fail. */
  idempotent: boolean
  /** Attempts in all (the first plus re-queues after lost workers; graceful hand-backs do not count). */
  maxAttempts: number
  /** At most this many runs of the type execute at once per tenant; the rest wait queued. */
  perTenantConcurrency?: number
  /**
   * Started as a system run (no initiator, so no notification) in the transaction that finishes a
   * run of one of `types` with one of `outcomes`, when `when` says so; its context names that run.
   * How drift evaluation follows every successful sync (ADR 029).
   */
  startsAfter?: FollowUp
}

export type FollowUp = {
  types: readonly string[]
  outcomes: readonly RunOutcome[]
  when: (tx: Executor, run: OperationRunRow) => Promise<boolean>
  context: (run: OperationRunRow) => Record<string, unknown>
}

/** Failure codes the engine itself can record for a run of any type. */
export const ENGINE_FAILURE_CODES = {
  worker_lost: 'The worker stopped while running this operation: run it again.',
  cancel_timeout: 'The operation did not stop after it was cancelled: run it again if it is still needed.',
  unexpected_error:
    'Something went wrong that TenantAtlas did not expect: run it again, and report it if it keeps happening.',
} as const

export const UNKNOWN_OPERATION_LABEL = 'Unknown operation'

export type OperationTypeDescription = Pick<
  OperationSpec,
  'label' | 'description' | 'capability' | 'cancellable' | 'rerunnable' | 'schedulable'
> & {
  type: string
  failure_codes: { code: string; fix: string }[]
}

export type Catalog<K extends string = string> = {
  readonly specs: Readonly<Record<K, OperationSpec>>
  types(): K[]
  has(type: string): type is K
  spec(type: K): OperationSpec
  /** The label for any stored type, known or not: never throws. */
  label(type: string): string
  /** What `GET /api/operation-types` serves: every type, its flags and its failure codes with fixes. */
  describe(): OperationTypeDescription[]
}

const TYPE_NAME = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/

export function createCatalog<K extends string>(specs: Record<K, OperationSpec>): Catalog<K> {
  for (const type of Object.keys(specs)) {
    if (!TYPE_NAME.test(type))
      throw new Error(`Operation type "${type}" must look like "domain.verb" (lowercase, dot-separated)`)
  }
  const has = (type: string): type is K => Object.hasOwn(specs, type)
  const types = () => Object.keys(specs).sort() as K[]
  return {
    specs,
    types,
    has,
    spec: (type) => specs[type],
    label: (type) => (has(type) ? specs[type].label : UNKNOWN_OPERATION_LABEL),
    describe: () =>
      types().map((type) => {
        const spec = specs[type]
        const codes: Record<string, string> = { ...ENGINE_FAILURE_CODES, ...spec.failureCodes }
        return {
          type,
          label: spec.label,
          description: spec.description,
          capability: spec.capability,
          cancellable: spec.cancellable,
          rerunnable: spec.rerunnable,
          schedulable: spec.schedulable,
          failure_codes: Object.entries(codes).map(([code, fix]) => ({ code, fix })),
        }
      }),
  }
}
