import { sql } from 'drizzle-orm'
import { z } from 'zod'
import { createCatalog, type OperationSpec } from '../../src/modules/operations/catalog.ts'
import type { Handlers } from '../../src/modules/operations/handlers.ts'
import type { RunExecution } from '../../src/modules/operations/run-execution.ts'

/** A test type: any JSON object as input, cancellable and re-runnable, started with inventory.sync. */
export const testType = (
  spec: Pick<OperationSpec, 'label' | 'idempotent' | 'maxAttempts'> & Partial<OperationSpec>,
): OperationSpec => ({
  description: `${spec.label}, for the tests`,
  capability: 'inventory.sync',
  cancellable: true,
  rerunnable: true,
  schedulable: false,
  input: z.record(z.string(), z.unknown()),
  failureCodes: {},
  ...spec,
})

/** Operation types registered by the tests (the shipped catalog has its own test). */
export const testCatalog = createCatalog({
  'test.noop': testType({ label: 'No-op', idempotent: true, maxAttempts: 3, schedulable: true }),
  'test.units': testType({ label: 'Unit run', idempotent: true, maxAttempts: 3 }),
  'test.block': testType({ label: 'Blocking run', idempotent: true, maxAttempts: 2, schedulable: true }),
  'test.once': testType({ label: 'One-shot run', idempotent: false, maxAttempts: 1 }),
  'test.serial': testType({ label: 'Serial run', idempotent: true, maxAttempts: 3, perTenantConcurrency: 1 }),
  'test.dberror': testType({ label: 'Database error run', idempotent: true, maxAttempts: 1 }),
})
export type TestType = ReturnType<typeof testCatalog.types>[number]

type Gate = { promise: Promise<void>; release(): void }
const gates = new Map<string, Gate>()

/** A gate a blocking handler waits at until the test opens it. */
export function gate(name: string): Gate {
  let gate = gates.get(name)
  if (!gate) {
    let release!: () => void
    const promise = new Promise<void>((resolve) => (release = resolve))
    gate = { promise, release }
    gates.set(name, gate)
  }
  return gate
}

/** What handlers did, for assertions: which attempt started, and what its last write met. */
export const journal: { runId: string; attempt: number; event: string }[] = []

const aborted = (signal: AbortSignal) =>
  new Promise<never>((_, reject) =>
    signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }),
  )

async function block(run: RunExecution<{ gate?: string; ignoreCancel?: boolean }>) {
  journal.push({ runId: run.run.id, attempt: run.attempt, event: 'started' })
  const waiting = gate(run.context.gate ?? run.run.id).promise
  try {
    await (run.context.ignoreCancel ? waiting : Promise.race([waiting, aborted(run.signal)]))
  } catch (error) {
    // Stopped while waiting (cancelled, or its run was taken from it), before its write.
    journal.push({ runId: run.run.id, attempt: run.attempt, event: `stopped: ${(error as Error).name}` })
    throw error
  }
  try {
    await run.progress({ total: 1, processed: 1 })
    journal.push({ runId: run.run.id, attempt: run.attempt, event: 'wrote' })
  } catch (error) {
    journal.push({ runId: run.run.id, attempt: run.attempt, event: `write refused: ${(error as Error).name}` })
    throw error
  }
}

export const testHandlers: Handlers<TestType> = {
  'test.noop': async () => {},
  'test.units': async (
    run: RunExecution<{ units?: { key: string; status: 'succeeded' | 'failed' | 'skipped' }[]; badKey?: boolean }>,
  ) => {
    const units = run.context.units ?? []
    await run.progress({ total: units.length })
    if (run.context.badKey) await run.progress({ bogus: 1 } as never)
    for (const unit of units) {
      run.throwIfCancelled()
      await run.recordUnit({
        key: unit.key,
        status: unit.status,
        counts: { created: 1 },
        durationMs: 5,
        error:
          unit.status === 'succeeded' ? null : { code: 'missing_permission', message: `No permission for ${unit.key}` },
      })
      if (unit.status !== 'succeeded')
        await run.addFailure({
          code: 'missing_permission',
          message: `No permission for ${unit.key}`,
          subject: unit.key,
        })
      if (unit.status === 'succeeded') await run.increment({ created: 1 })
    }
  },
  'test.block': block,
  'test.once': block,
  'test.serial': block,
  // A real database error whose parameter (and PostgreSQL's message) carries a secret.
  'test.dberror': async (run: RunExecution<{ secret?: string; unique?: boolean }>) => {
    if (run.context.unique) {
      await run.db.execute(
        sql`CREATE TEMP TABLE IF NOT EXISTS dberror_probe (v text CONSTRAINT dberror_probe_v_key UNIQUE)`,
      )
      await run.db.execute(
        sql`INSERT INTO dberror_probe (v) VALUES (${run.context.secret ?? ''}), (${run.context.secret ?? ''})`,
      )
    }
    await run.db.execute(sql`SELECT ${run.context.secret ?? ''}::int AS n`)
  },
}
