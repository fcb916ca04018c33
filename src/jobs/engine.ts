import { and, eq, sql } from 'drizzle-orm'
import type { PgBoss } from 'pg-boss'
import type { Logger } from 'pino'
import type { DatabaseHandle } from '../db/engine.ts'
import type { Listener } from '../db/listen.ts'
import { operationRuns, type RunFailure, type RunOutcome } from '../db/schema.ts'
import type { Actor } from '../modules/audit/record-audit-event.ts'
import type { Catalog } from '../modules/operations/catalog.ts'
import { cancelRun } from '../modules/operations/cancel-run.ts'
import { finishRun } from '../modules/operations/finish-run.ts'
import { LIVE_CHANNEL, publishRunUpdated, type RunUpdatedEvent } from '../modules/operations/live.ts'
import { type StartRunRequest, startRun } from '../modules/operations/start-run.ts'
import { createBoss, inTransaction } from './boss.ts'
import type { HandlerRegistry } from './handlers.ts'
import { type Enqueue, queueName, type RunJobData, type RunJobs } from './queue.ts'
import { reap, recoverRun, type ReaperTimings } from './recovery.ts'
import { RunCancelledError, RunExecution, RunFailureError, RunOwnershipLostError } from './run-execution.ts'

export type EngineTimings = ReaperTimings & {
  heartbeatMs: number
  reaperIntervalMs: number
  /** pg-boss's polling floor; LISTEN/NOTIFY wakes workers sooner. */
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
  handle: DatabaseHandle
  listener: Listener
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
const NIL_UUID = '00000000-0000-0000-0000-000000000000'

/**
 * The operations engine: starts runs (with their pg-boss job, in one transaction), executes
 * them through the handler registry, finishes them exactly once, and recovers runs whose
 * worker was lost. One per process.
 */
export class OperationsEngine<K extends string = string> {
  readonly catalog: Catalog<K>
  readonly timings: EngineTimings
  readonly #options: EngineOptions<K>
  readonly #log: Logger
  readonly #inflight = new Map<string, RunExecution>()
  #boss: PgBoss | undefined
  #reaperTimer: NodeJS.Timeout | undefined
  #unlisten: (() => void) | undefined
  #stopping = false
  /** pg-boss worker ids per queue, to wake them (see start()). */
  readonly #workers = new Map<string, string[]>()

  constructor(options: EngineOptions<K>) {
    options.handlers.assertMatches(options.catalog)
    this.#options = options
    this.catalog = options.catalog
    this.timings = { ...DEFAULT_TIMINGS, ...options.timings }
    this.#log = options.logger.child({ component: 'operations' })
  }

  get #db() {
    return this.#options.handle.db
  }

  get boss(): PgBoss {
    if (!this.#boss) throw new Error('The operations engine has not been started')
    return this.#boss
  }

  async start(): Promise<void> {
    const { handle, listener, catalog, worker } = this.#options
    const boss = createBoss(handle, this.#log, { supervise: worker })
    await boss.start()
    this.#boss = boss
    for (const type of catalog.types()) {
      const name = queueName(type)
      // Our own reaper owns retries and liveness: pg-boss must neither retry nor expire a long run.
      // pg-boss's heartbeat frees the slot of a job whose worker died (its group limit counts active jobs).
      const queue = { retryLimit: 0, expireInSeconds: 24 * 60 * 60, deleteAfterSeconds: 7 * 24 * 60 * 60, heartbeatSeconds: 60, notify: true }
      if (await boss.getQueue(name)) await boss.updateQueue(name, queue)
      else await boss.createQueue(name, queue)
      // Warm pg-boss's queue cache now, so that send() inside our start transaction needs no
      // extra round trip through pg-boss's own connection.
      await boss.getJobById(name, NIL_UUID)
    }
    if (!worker) return
    this.#unlisten = await listener.listen(LIVE_CHANNEL, (payload) => this.#onLiveEvent(payload))
    for (const type of catalog.types()) {
      const perTenant = catalog.spec(type).perTenantConcurrency
      const name = queueName(type)
      await boss.work<RunJobData>(
        name,
        {
          batchSize: 1,
          localConcurrency: this.#options.concurrency ?? 4,
          pollingIntervalSeconds: this.timings.pollingIntervalSeconds,
          ...(perTenant ? { groupConcurrency: perTenant } : {}),
        },
        async ([job]) => {
          if (job) await this.execute(job.data)
          // With NOTIFY on, an idle pg-boss worker polls only every 30 s, and with one job per
          // fetch it never bursts: a backlog that arrived while everyone was busy would wait.
          // So a worker that finishes wakes its siblings; an empty fetch puts them back to sleep.
          this.#wake(name)
          // pg-boss marks this job complete only after we return; until then a tenant's group
          // slot looks taken, and a run of the same tenant queued meanwhile would wait for the
          // next poll. Once more, shortly after.
          if (job && perTenant && !this.#stopping) setTimeout(() => this.#wake(name), 100).unref()
        },
      )
      this.#workers.set(name, boss.getWipData().filter((w) => w.name === name).map((w) => w.id))
    }
    this.#reaperTimer = setInterval(() => {
      this.reap().catch((error: unknown) => this.#log.error({ err: error }, 'reaper pass failed'))
    }, this.timings.reaperIntervalMs)
    this.#reaperTimer.unref()
  }

  /** Enqueues a run's job in the caller's transaction. */
  readonly enqueue: Enqueue = async (tx, job) => {
    const perTenant = this.catalog.has(job.type) ? this.catalog.spec(job.type).perTenantConcurrency : undefined
    const id = await this.boss.send(queueName(job.type), { runId: job.runId, attempt: job.attempt } satisfies RunJobData, {
      db: inTransaction(tx),
      ...(perTenant ? { group: { id: job.tenantId } } : {}),
      ...(job.startAfterSeconds ? { startAfter: job.startAfterSeconds } : {}),
    })
    if (!id) throw new Error(`The job queue refused the job for run ${job.runId}`)
    return id
  }

  readonly #jobs: RunJobs = {
    enqueue: this.enqueue,
    retire: async (tx, type, jobId) => {
      await this.boss.cancel(queueName(type), jobId, { db: inTransaction(tx) })
    },
  }

  startRun(request: StartRunRequest<K>) {
    return startRun(this.#db, this.catalog, this.enqueue, request)
  }

  cancelRun(actor: Actor, tenantId: string, runId: string) {
    return cancelRun(this.#db, this.catalog, actor, tenantId, runId)
  }

  reap() {
    return reap(this.#db, this.catalog, this.#jobs, (tx, type, jobId) => this.#jobState(tx, type, jobId), this.timings)
  }

  /** Executes one job: claims the run for this attempt, runs its handler, finishes it once. */
  async execute(data: RunJobData): Promise<void> {
    // Shutting down, or the tenant is at its limit for the type: leave the run queued with a fresh job.
    if (this.#stopping) return this.#deferJob(data, 1)
    const run = await this.#db.transaction(async (tx) => {
      const [queued] = await tx
        .select()
        .from(operationRuns)
        .where(and(eq(operationRuns.id, data.runId), eq(operationRuns.attempt, data.attempt), eq(operationRuns.status, 'queued')))
      // Cancelled while queued, finished elsewhere, or a job of an attempt that was superseded.
      if (!queued) return undefined
      if (await this.#atTenantLimit(tx, queued)) return 'full' as const
      const [claimed] = await tx
        .update(operationRuns)
        .set({ status: 'running', startedAt: sql`coalesce(${operationRuns.startedAt}, now())`, heartbeatAt: sql`now()` })
        .where(and(eq(operationRuns.id, data.runId), eq(operationRuns.attempt, data.attempt), eq(operationRuns.status, 'queued')))
        .returning()
      if (claimed) await publishRunUpdated(tx, claimed)
      return claimed
    })
    if (run === 'full') return this.#deferJob(data, 2)
    if (!run) return
    if (this.#stopping) {
      // Claimed while shutdown began: hand it straight back.
      await this.#db.transaction((tx) => recoverRun(tx, this.catalog, this.#jobs, run, 'the worker shut down'))
      return
    }
    const handler = this.#options.handlers.get(run.type)
    if (!handler) throw new Error(`No handler for ${run.type}`) // unreachable: assertMatches ran at construction
    const execution = new RunExecution(run, this.#db, this.#log.child({ run_id: run.id, type: run.type, attempt: run.attempt }))
    if (run.cancelRequestedAt) execution.requestCancel()
    this.#inflight.set(run.id, execution)
    const heartbeat = setInterval(() => void this.#heartbeat(execution), this.timings.heartbeatMs)
    let outcome: RunOutcome
    const failures: RunFailure[] = []
    try {
      execution.throwIfCancelled()
      await handler(execution)
      await execution.flush()
      outcome = execution.cancelled ? 'cancelled' : this.#outcomeOf(execution)
    } catch (error) {
      await execution.flush()
      if (execution.lost || error instanceof RunOwnershipLostError) return
      if (error instanceof RunCancelledError || (execution.cancelled && execution.signal.aborted)) outcome = 'cancelled'
      else {
        outcome = 'failed'
        const code = error instanceof RunFailureError ? error.code : 'unexpected_error'
        const subject = error instanceof RunFailureError ? error.subject : null
        if (!(error instanceof RunFailureError)) execution.log.error({ err: error }, 'operation handler failed')
        failures.push({ code, message: error instanceof Error ? error.message.slice(0, 1000) : 'The operation failed', subject })
      }
    } finally {
      clearInterval(heartbeat)
      this.#inflight.delete(run.id)
    }
    if (execution.lost) return
    await this.#finishWithRetry({ runId: run.id, attempt: run.attempt, from: ['running'], outcome, failures, actor: SYSTEM })
  }

  /**
   * pg-boss's group limit counts active jobs, and two fetches at once can each pass it; the
   * limit a type asks for is therefore also checked here, under a per-tenant-and-type lock.
   */
  async #atTenantLimit(tx: Parameters<Enqueue>[0], run: { tenantId: string; type: string }) {
    const limit = this.catalog.has(run.type) ? this.catalog.spec(run.type).perTenantConcurrency : undefined
    if (!limit) return false
    await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtextextended(${`${run.tenantId}:${run.type}`}, 7415))`)
    const [row] = await tx
      .select({ n: sql<number>`count(*)::int` })
      .from(operationRuns)
      .where(and(eq(operationRuns.tenantId, run.tenantId), eq(operationRuns.type, run.type), eq(operationRuns.status, 'running')))
    return (row?.n ?? 0) >= limit
  }

  #wake(queue: string) {
    for (const id of this.#workers.get(queue) ?? []) this.#boss?.notifyWorker(id)
  }

  /** Leaves the run queued behind a new job that becomes fetchable after a delay. */
  async #deferJob(data: RunJobData, seconds: number) {
    const deferred = await this.#db.transaction(async (tx) => {
      const [run] = await tx
        .select()
        .from(operationRuns)
        .where(and(eq(operationRuns.id, data.runId), eq(operationRuns.attempt, data.attempt), eq(operationRuns.status, 'queued')))
        .for('update')
      if (!run) return
      const jobId = await this.enqueue(tx, { type: run.type, tenantId: run.tenantId, runId: run.id, attempt: run.attempt, startAfterSeconds: seconds })
      await tx.update(operationRuns).set({ jobId }).where(eq(operationRuns.id, run.id))
      return run.type
    })
    // No NOTIFY announces a job when its start time comes: wake our workers then, not at the 30 s poll.
    if (deferred && !this.#stopping) setTimeout(() => this.#wake(queueName(deferred)), seconds * 1000 + 100).unref()
  }

  /** succeeded / partially_succeeded (some units failed, some succeeded) / failed. */
  #outcomeOf(execution: RunExecution): RunOutcome {
    const bad = execution.units.filter((u) => u.status !== 'succeeded').length
    const good = execution.units.length - bad
    if (bad === 0 && execution.failures.length === 0) return 'succeeded'
    return good > 0 ? 'partially_succeeded' : 'failed'
  }

  /** A lost connection at the very end must not leave the run running: retry, then leave it to the reaper. */
  async #finishWithRetry(request: Parameters<typeof finishRun>[2]) {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#db.transaction((tx) => finishRun(tx, this.catalog, request))
        return
      } catch (error) {
        if (attempt >= 5) throw error
        this.#log.warn({ err: error, run_id: request.runId }, 'finishing the run failed; retrying')
        await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt))
      }
    }
  }

  async #heartbeat(execution: RunExecution) {
    try {
      const [row] = await this.#db
        .update(operationRuns)
        .set({ heartbeatAt: sql`now()` })
        .where(and(eq(operationRuns.id, execution.run.id), eq(operationRuns.attempt, execution.run.attempt), eq(operationRuns.status, 'running')))
        .returning({ cancelRequestedAt: operationRuns.cancelRequestedAt })
      if (!row) execution.markLost()
      else if (row.cancelRequestedAt) execution.requestCancel()
    } catch (error) {
      // A missed beat is survivable; enough of them and the reaper re-queues the run.
      execution.log.warn({ err: error }, 'heartbeat failed')
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

  async #jobState(tx: Parameters<Enqueue>[0], type: string, jobId: string): Promise<'live' | 'gone'> {
    const job = await this.boss.getJobById(queueName(type), jobId, { db: inTransaction(tx) })
    return job && (job.state === 'created' || job.state === 'retry' || job.state === 'active') ? 'live' : 'gone'
  }

  /** Graceful shutdown: hand in-flight runs back at once (re-queue or worker_lost), then stop. */
  async stop(): Promise<void> {
    this.#stopping = true
    clearInterval(this.#reaperTimer)
    // Stop fetching first, or the job we are about to send for the handed-back run comes back to us.
    if (this.#options.worker && this.#boss) {
      for (const type of this.catalog.types()) await this.#boss.offWork(queueName(type), { wait: false })
    }
    for (const execution of this.#inflight.values()) {
      try {
        await this.#db.transaction(async (tx) => {
          const [run] = await tx
            .select()
            .from(operationRuns)
            .where(and(eq(operationRuns.id, execution.run.id), eq(operationRuns.attempt, execution.run.attempt), eq(operationRuns.status, 'running')))
            .for('update')
          if (run) await recoverRun(tx, this.catalog, this.#jobs, run, 'the worker shut down')
        })
      } catch (error) {
        this.#log.error({ err: error, run_id: execution.run.id }, 'could not hand the run back; the reaper will')
      }
      execution.markLost()
    }
    this.#unlisten?.()
    await this.#boss?.stop({ graceful: true, timeout: 10_000, close: true })
  }
}
