import { and, eq, sql } from 'drizzle-orm'
import type { Logger } from 'pino'
import type { Database, Executor } from '../../db/engine.ts'
import {
  operationRuns,
  type OperationRunRow,
  type RunFailure,
  type RunItemStatus,
  type RunOutcome,
  type RunUnit,
} from '../../db/schema.ts'
import { addCounts, mergeCounts, type SummaryCounts } from './counts.ts'
import { fencedTransaction } from './lifecycle.ts'
import { publishRunUpdated } from './live.ts'
import { RunCancelledError, RunOwnershipLostError } from './run-errors.ts'

export type UnitResult = {
  key: string
  status: RunUnit['status']
  counts?: Record<string, number>
  durationMs: number
  error?: { code: string; message: string } | null
  mode?: 'full' | 'quick'
  note?: string
}

/** One target's result in a run that acts on many (a backup's item, a bulk action's policy). */
export type ItemResult = {
  target: { type: string; id: string; name: string }
  action: string
  status: RunItemStatus
  code?: string | null
  message?: string | null
}

/** Items per INSERT: large enough to be set-based, small enough to keep one statement's JSON modest. */
const ITEM_BATCH = 5_000

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
  /** Per-item results recorded so far, for the outcome (skipped items are neutral). */
  readonly #items = { succeeded: 0, failed: 0 }
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
      ...(result.mode ? { mode: result.mode } : {}),
      ...(result.note ? { note: result.note.slice(0, 1000) } : {}),
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

  /**
   * Records per-item results, set-based: one fenced transaction per batch inserts the rows and
   * adds them to the counts (processed and their status), so `summary_counts` stays the aggregate.
   */
  async recordItems(items: readonly ItemResult[]): Promise<void> {
    for (let i = 0; i < items.length; i += ITEM_BATCH) {
      const batch = items.slice(i, i + ITEM_BATCH)
      const delta: Record<string, number> = { processed: batch.length }
      for (const item of batch) delta[item.status] = (delta[item.status] ?? 0) + 1
      this.#counts = addCounts(this.#counts, delta)
      this.#items.succeeded += delta.succeeded ?? 0
      this.#items.failed += delta.failed ?? 0
      const rows = batch.map((item) => ({
        target_type: item.target.type,
        target_id: item.target.id,
        target_name: item.target.name,
        action: item.action,
        status: item.status,
        code: item.code ?? null,
        message: item.message?.slice(0, 1000) ?? null,
      }))
      await this.#write({ summaryCounts: this.#counts }, async (tx) => {
        await tx.execute(sql`
          INSERT INTO operation_run_items (run_id, target_type, target_id, target_name, action, status, code, message)
          SELECT ${this.run.id}, r.target_type, r.target_id, r.target_name, r.action, r.status, r.code, r.message
          FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
            AS r(target_type text, target_id text, target_name text, action text, status text, code text, message text)`)
      })
    }
  }

  /**
   * A transaction of the handler's own, fenced on this attempt: it runs only while the attempt is
   * still running, and a re-queue or finish waits for it to commit (share lock on the run row).
   */
  async transaction<T>(work: (tx: Executor) => Promise<T>): Promise<T> {
    if (this.#lost) throw new RunOwnershipLostError(this.run.id, this.run.attempt)
    try {
      return await fencedTransaction(this.db, { runId: this.run.id, attempt: this.run.attempt }, work)
    } catch (error) {
      if (error instanceof RunOwnershipLostError) this.markLost()
      throw error
    }
  }

  /** succeeded / partially_succeeded (some units or items failed, some succeeded) / failed. */
  outcome(): RunOutcome {
    const badUnits = this.#units.filter((u) => u.status !== 'succeeded').length
    const bad = badUnits + this.#items.failed
    const good = this.#units.length - badUnits + this.#items.succeeded
    if (bad === 0 && this.#failures.every((f) => f.severity === 'warning')) return 'succeeded'
    return good > 0 ? 'partially_succeeded' : 'failed'
  }

  addFailure(failure: { code: string; message: string; subject?: string | null }): Promise<void> {
    this.#failures = [
      ...this.#failures,
      { code: failure.code, message: failure.message.slice(0, 1000), subject: failure.subject ?? null },
    ]
    return this.#write({ failures: this.#failures })
  }

  /** A warning: listed with the failures and counted in `warnings`, without changing the outcome. */
  addWarning(warning: { code: string; message: string; subject?: string | null }): Promise<void> {
    this.#failures = [
      ...this.#failures,
      {
        code: warning.code,
        message: warning.message.slice(0, 1000),
        subject: warning.subject ?? null,
        severity: 'warning',
      },
    ]
    this.#counts = addCounts(this.#counts, { warnings: 1 })
    return this.#write({ failures: this.#failures, summaryCounts: this.#counts })
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

  #write(
    set: Partial<Pick<OperationRunRow, 'summaryCounts' | 'units' | 'failures'>>,
    also?: (tx: Executor) => Promise<void>,
  ): Promise<void> {
    const next = this.#writes.then(async () => {
      if (this.#lost) throw new RunOwnershipLostError(this.run.id, this.run.attempt)
      const updated = await this.db.transaction(async (tx) => {
        const [row] = await tx
          .update(operationRuns)
          .set({ ...set, heartbeatAt: sql`now()` })
          .where(
            and(
              eq(operationRuns.id, this.run.id),
              eq(operationRuns.attempt, this.run.attempt),
              eq(operationRuns.status, 'running'),
            ),
          )
          .returning()
        if (!row) return row
        await also?.(tx)
        await publishRunUpdated(tx, row)
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
