import type { Logger } from 'pino'
import type { Database, Executor } from '../../db/engine.ts'
import type { Listener } from '../../db/listen.ts'
import type { OperationRunRow, RunFailure, RunOutcome } from '../../db/schema.ts'
import type { Actor } from '../audit/record-audit-event.ts'
import { cancelRun } from './cancel-run.ts'
import type { Catalog } from './catalog.ts'
import { finishRun } from './finish-run.ts'
import type { HandlerRegistry } from './handlers.ts'
import { beat, claimRun, deferRun, handBack } from './lifecycle.ts'
import { LIVE_CHANNEL, type RunUpdatedEvent } from './live.ts'
import type { JobQueue, RunJobData } from './queue.ts'
import { reap, type ReaperTimings } from './recovery.ts'
import { RunCancelledError, RunFailureError, RunOwnershipLostError } from './run-errors.ts'
import { loggableError, unexpectedFailureMessage } from '../../lib/unexpected-error.ts'
import { RunExecution } from './run-execution.ts'
import { type StartInTransaction, type StartRunRequest, startRun, startRunIn, startRunWith } from './start-run.ts'

export type EngineTimings = ReaperTimings & {
  heartbeatMs: number
  reaperIntervalMs: number
  /** The queue's polling floor; LISTEN/NOTIFY wakes workers sooner. */
  pollingIntervalSeconds: number
}

export const DEFAULT_TIMINGS: EngineTimings = {
  heartbeatMs: 5_000,
  staleAfterMs: 30_000,
  cancelTimeoutMs: 120_000,
  vanishedAfterMs: 60_000,
  reaperIntervalMs: 10_000,
  pollingIntervalSeconds: 2,
}

export type EngineOptions<K extends string> = {
  db: Database
  listener: Listener
  queue: JobQueue
  catalog: Catalog<K>
  handlers: HandlerRegistry<K>
  logger: Logger
  /** Execute runs in this process (`serve`, `worker`); false for `serve --no-worker` and CLI commands. */
  worker: boolean
  /** Runs of one type this process executes at once. */
  concurrency?: number
  timings?: Partial<EngineTimings>
}

const SYSTEM: Actor = { kind: 'system' }

/**
 * The operations engine: starts runs (with their job, in one transaction), executes them through
 * the handler registry, finishes them exactly once, and recovers runs whose worker was lost. One
 * per process. The queue is a port (src/jobs/ implements it with pg-boss).
 */
export class OperationsEngine<K extends string = string> {
  readonly catalog: Catalog<K>
  readonly timings: EngineTimings
  readonly #options: EngineOptions<K>
  readonly #log: Logger
  readonly #inflight = new Map<string, RunExecution>()
  #reaperTimer: NodeJS.Timeout | undefined
  #unlisten: (() => void) | undefined
  #stopping = false

  constructor(options: EngineOptions<K>) {
    options.handlers.assertMatches(options.catalog)
    this.#options = options
    this.catalog = options.catalog
    this.timings = { ...DEFAULT_TIMINGS, ...options.timings }
    this.#log = options.logger.child({ component: 'operations' })
  }

  get #db() {
    return this.#options.db
  }

  get #queue() {
    return this.#options.queue
  }

  async start(): Promise<void> {
    const { listener, catalog, worker } = this.#options
    await this.#queue.start(catalog.types())
    if (!worker) return
    this.#unlisten = await listener.listen(LIVE_CHANNEL, (payload) => this.#onLiveEvent(payload))
    for (const type of catalog.types()) {
      const options = {
        concurrency: this.#options.concurrency ?? 4,
        perTenantConcurrency: catalog.spec(type).perTenantConcurrency,
        pollingIntervalSeconds: this.timings.pollingIntervalSeconds,
      }
      await this.#queue.work(type, options, (data) => this.execute(data))
    }
    this.#reaperTimer = setInterval(() => {
      this.reap().catch((error: unknown) => this.#log.error({ err: loggableError(error) }, 'reaper pass failed'))
    }, this.timings.reaperIntervalMs)
    this.#reaperTimer.unref()
  }

  startRun(request: StartRunRequest<K>) {
    return startRun(this.#db, this.catalog, this.#queue, request)
  }

  /**
   * Starts a run with a module's own work in the same transaction (a backup's set, a bulk run's
   * frozen selection, a restore plan's run id); retried as a whole when the active twin changed.
   */
  startRunWith<R>(
    work: (tx: Executor, start: StartInTransaction<K>) => Promise<R>,
    config?: Parameters<Database['transaction']>[1],
  ) {
    return startRunWith(this.#db, this.catalog, this.#queue, work, config)
  }

  /** startRun in the caller's transaction (a schedule fires in its own); null: retry in a new transaction. */
  startRunIn(tx: Executor, request: StartRunRequest<K>) {
    return startRunIn(tx, this.catalog, this.#queue, request)
  }

  cancelRun(actor: Actor, tenantId: string, runId: string) {
    return cancelRun(this.#db, this.catalog, actor, tenantId, runId)
  }

  reap() {
    return reap(this.#db, this.catalog, this.#queue, this.timings)
  }

  /** Executes one job: claims the run for this attempt, runs its handler, finishes it once. */
  async execute(data: RunJobData): Promise<void> {
    // Shutting down, or the tenant is at its limit for the type: leave the run queued with a fresh job.
    if (this.#stopping) return deferRun(this.#db, this.catalog, this.#queue, data, 1)
    const run = await claimRun(this.#db, this.catalog, data)
    if (run === 'full') return deferRun(this.#db, this.catalog, this.#queue, data, 2)
    if (!run) return
    if (this.#stopping) return handBack(this.#db, this.catalog, this.#queue, run) // claimed while shutdown began
    const handler = this.#options.handlers.get(run.type)
    if (!handler) throw new Error(`No handler for ${run.type}`) // unreachable: assertMatches ran at construction
    const execution = new RunExecution(
      run,
      this.#db,
      this.#log.child({ run_id: run.id, type: run.type, attempt: run.attempt }),
    )
    if (run.cancelRequestedAt) execution.requestCancel()
    this.#inflight.set(run.id, execution)
    const heartbeat = setInterval(() => void this.#heartbeat(execution), this.timings.heartbeatMs)
    let outcome: RunOutcome
    const failures: RunFailure[] = []
    try {
      execution.throwIfCancelled()
      await handler(execution)
      await execution.flush()
      outcome = execution.cancelled ? 'cancelled' : execution.outcome()
    } catch (error) {
      await execution.flush()
      if (execution.lost || error instanceof RunOwnershipLostError) return
      if (error instanceof RunCancelledError || (execution.cancelled && execution.signal.aborted)) outcome = 'cancelled'
      else {
        outcome = 'failed'
        const code = error instanceof RunFailureError ? error.code : 'unexpected_error'
        const subject = error instanceof RunFailureError ? error.subject : null
        // A handler's own failure says what to do; anything else is logged in full (no parameter
        // values: they can be secrets) and recorded without its query text.
        if (!(error instanceof RunFailureError))
          execution.log.error({ err: loggableError(error) }, 'operation handler failed')
        const message =
          error instanceof RunFailureError ? error.message.slice(0, 1000) : unexpectedFailureMessage(error, run.id)
        failures.push({ code, message, subject })
      }
    } finally {
      clearInterval(heartbeat)
      this.#inflight.delete(run.id)
    }
    if (execution.lost) return
    await this.#finishWithRetry({
      runId: run.id,
      attempt: run.attempt,
      from: ['running'],
      outcome,
      failures,
      actor: SYSTEM,
    })
  }

  /** A lost connection at the very end must not leave the run running: retry, then leave it to the reaper. */
  async #finishWithRetry(request: Parameters<typeof finishRun>[2]) {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#db.transaction(async (tx) => {
          const finished = await finishRun(tx, this.catalog, request)
          if (finished) await this.#startFollowUps(tx, finished)
        })
        return
      } catch (error) {
        if (attempt >= 5) throw error
        this.#log.warn({ err: loggableError(error), run_id: request.runId }, 'finishing the run failed; retrying')
        await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt))
      }
    }
  }

  /** The types that start after this run (catalog `startsAfter`), in the transaction that finished it. */
  async #startFollowUps(tx: Executor, finished: OperationRunRow) {
    for (const type of this.catalog.types()) {
      const follow = this.catalog.spec(type).startsAfter
      if (!follow?.types.includes(finished.type) || !finished.outcome || !follow.outcomes.includes(finished.outcome))
        continue
      if (!(await follow.when(tx, finished))) continue
      await startRunIn(tx, this.catalog, this.#queue, {
        tenantId: finished.tenantId,
        type,
        context: follow.context(finished),
        initiatorUserId: null,
        actor: SYSTEM,
      })
    }
  }

  async #heartbeat(execution: RunExecution) {
    try {
      const state = await beat(this.#db, execution.run)
      if (state === 'lost') execution.markLost()
      else if (state === 'cancel_requested') execution.requestCancel()
    } catch (error) {
      // A missed beat is survivable; enough of them and the reaper re-queues the run.
      execution.log.warn({ err: loggableError(error) }, 'heartbeat failed')
    }
  }

  #onLiveEvent(payload: string) {
    try {
      const event = JSON.parse(payload) as RunUpdatedEvent
      if (event.cancel_requested) this.#inflight.get(event.run_id)?.requestCancel()
    } catch {
      // not ours
    }
  }

  /** Graceful shutdown: hand in-flight runs back at once (a hand-back costs no attempt), then stop. */
  async stop(): Promise<void> {
    this.#stopping = true
    clearInterval(this.#reaperTimer)
    await this.#queue.stopWorking(this.catalog.types())
    for (const execution of this.#inflight.values()) {
      try {
        await handBack(this.#db, this.catalog, this.#queue, execution.run)
      } catch (error) {
        this.#log.error(
          { err: loggableError(error), run_id: execution.run.id },
          'could not hand the run back; the reaper will',
        )
      }
      execution.markLost()
    }
    this.#unlisten?.()
    await this.#queue.stop()
  }
}
