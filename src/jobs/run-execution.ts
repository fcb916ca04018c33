import { and, eq, sql } from 'drizzle-orm'
import type { Logger } from 'pino'
import type { Database } from '../db/engine.ts'
import { operationRuns, type OperationRunRow, type RunFailure, type RunUnit } from '../db/schema.ts'
import { addCounts, mergeCounts, type SummaryCounts } from '../modules/operations/counts.ts'
import { publishRunUpdated } from '../modules/operations/live.ts'

/** Thrown by throwIfCancelled(): the handler stops, the run ends `cancelled`. */
export class RunCancelledError extends Error {
  override name = 'RunCancelledError'
  constructor() {
    super('The run was cancelled')
  }
}

/** This worker no longer owns the run (it was re-queued or finished elsewhere): stop, write nothing. */
export class RunOwnershipLostError extends Error {
  override name = 'RunOwnershipLostError'
  constructor(runId: string, attempt: number) {
    super(`Run ${runId} attempt ${attempt} is no longer owned by this worker`)
  }
}

/** An error a handler throws on purpose, with the failure code to record. */
export class RunFailureError extends Error {
  override name = 'RunFailureError'
  readonly code: string
  readonly subject: string | null
  constructor(code: string, message: string, subject: string | null = null) {
    super(message)
    this.code = code
    this.subject = subject
  }
}

export type UnitResult = {
  key: string
  status: RunUnit['status']
  counts?: Record<string, number>
  durationMs: number
  error?: { code: string; message: string } | null
}

/**
 * What a handler holds while it runs: the run's context, progress and unit reporting, and the
 * cancellation signal. Every write is fenced on (run id, attempt, running), so a worker whose run
 * was taken from it cannot write to the new attempt; writes are serialised in call order.
 */
export class RunExecution<C extends Record<string, unknown> = Record<string, unknown>> {
  readonly run: OperationRunRow
  /**
   * For the handler's own work. progress(), recordUnit() and addFailure() write through their own
   * connection: they are not part of a transaction of yours (nor rolled back with it).
   */
  readonly db: Database
  readonly log: Logger
  readonly #controller = new AbortController()
  #cancelled = false
  #lost = false
  #counts: SummaryCounts
  #units: RunUnit[] = []
  #failures: RunFailure[] = []
  #writes: Promise<unknown> = Promise.resolve()

  constructor(run: OperationRunRow, db: Database, log: Logger) {
    this.run = run
    this.db = db
    this.log = log
    this.#counts = { ...(run.summaryCounts as SummaryCounts) }
  }

  get context(): C {
    return this.run.context as C
  }
  get attempt() {
    return this.run.attempt
  }
  /** Aborted on cancellation, on lost ownership and on shutdown: pass it to fetches and timers. */
  get signal(): AbortSignal {
    return this.#controller.signal
  }
  get cancelled() {
    return this.#cancelled
  }
  get lost() {
    return this.#lost
  }
  get counts(): Readonly<SummaryCounts> {
    return this.#counts
  }
  get units(): readonly RunUnit[] {
    return this.#units
  }
  get failures(): readonly RunFailure[] {
    return this.#failures
  }

  throwIfCancelled(): void {
    if (this.#lost) throw new RunOwnershipLostError(this.run.id, this.run.attempt)
    if (this.#cancelled) throw new RunCancelledError()
  }

  /** Sets absolute counts (allow-listed keys, monotonic, processed ≤ total). */
  progress(counts: SummaryCounts): Promise<void> {
    this.#counts = mergeCounts(this.#counts, counts)
    return this.#write({ summaryCounts: this.#counts })
  }

  /** Adds to counts. */
  increment(delta: SummaryCounts): Promise<void> {
    this.#counts = addCounts(this.#counts, delta)
    return this.#write({ summaryCounts: this.#counts })
  }

  /** Records one unit's result (re-recording a key replaces it), and counts it as processed. */
  recordUnit(result: UnitResult): Promise<void> {
    const unit: RunUnit = {
      key: result.key,
      status: result.status,
      counts: result.counts ?? {},
      duration_ms: Math.round(result.durationMs),
      error: result.error ? { code: result.error.code, message: result.error.message.slice(0, 1000) } : null,
    }
    const previous = this.#units.find((u) => u.key === unit.key)
    // Counted once per unit: a re-recorded unit keeps its first status in the counters, which may
    // only grow while the run is active. Counts first, so a refused write changes nothing.
    if (!previous) {
      const delta: Record<string, number> = { processed: 1 }
      delta[unit.status] = 1
      this.#counts = addCounts(this.#counts, delta)
    }
    this.#units = [...this.#units.filter((u) => u.key !== unit.key), unit]
    return this.#write({ units: this.#units, summaryCounts: this.#counts })
  }

  addFailure(failure: { code: string; message: string; subject?: string | null }): Promise<void> {
    this.#failures = [...this.#failures, { code: failure.code, message: failure.message.slice(0, 1000), subject: failure.subject ?? null }]
    return this.#write({ failures: this.#failures })
  }

  /** @internal the engine: the heartbeat saw a cancel request, or the live channel did. */
  requestCancel() {
    if (this.#cancelled) return
    this.#cancelled = true
    this.#controller.abort(new RunCancelledError())
  }

  /** @internal the engine: the run is no longer ours. */
  markLost() {
    if (this.#lost) return
    this.#lost = true
    this.#controller.abort(new RunOwnershipLostError(this.run.id, this.run.attempt))
  }

  /** Waits for the writes issued so far. */
  async flush(): Promise<void> {
    await this.#writes.catch(() => {})
  }

  #write(set: Partial<Pick<OperationRunRow, 'summaryCounts' | 'units' | 'failures'>>): Promise<void> {
    const next = this.#writes.then(async () => {
      if (this.#lost) throw new RunOwnershipLostError(this.run.id, this.run.attempt)
      const updated = await this.db.transaction(async (tx) => {
        const [row] = await tx
          .update(operationRuns)
          .set({ ...set, heartbeatAt: sql`now()` })
          .where(and(eq(operationRuns.id, this.run.id), eq(operationRuns.attempt, this.run.attempt), eq(operationRuns.status, 'running')))
          .returning()
        if (row) await publishRunUpdated(tx, row)
        return row
      })
      if (!updated) {
        this.markLost()
        throw new RunOwnershipLostError(this.run.id, this.run.attempt)
      }
      if (updated.cancelRequestedAt) this.requestCancel()
    })
    this.#writes = next.catch(() => {})
    return next
  }
}
