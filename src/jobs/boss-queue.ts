import type { PgBoss } from 'pg-boss'
import type { Logger } from 'pino'
import type { DatabaseHandle, Executor } from '../db/engine.ts'
import type { JobQueue, RunJob, RunJobData, WorkOptions } from '../modules/operations/queue.ts'
import { createBoss, inTransaction } from './boss.ts'

export const queueName = (type: string) => `op.${type}`

const NIL_UUID = '00000000-0000-0000-0000-000000000000'

/**
 * The operations engine's job queue on pg-boss: one queue per operation type, a job per run
 * attempt, sent in the run's transaction. Only translation lives here; the run's state is the
 * operations module's.
 */
export class BossQueue implements JobQueue {
  readonly #handle: DatabaseHandle
  readonly #log: Logger
  readonly #supervise: boolean
  #boss: PgBoss | undefined
  #stopping = false
  /** pg-boss worker ids per queue, to wake them. */
  readonly #workers = new Map<string, string[]>()

  constructor(handle: DatabaseHandle, log: Logger, options: { supervise: boolean }) {
    this.#handle = handle
    this.#log = log
    this.#supervise = options.supervise
  }

  get boss(): PgBoss {
    if (!this.#boss) throw new Error('The job queue has not been started')
    return this.#boss
  }

  async start(types: readonly string[]): Promise<void> {
    const boss = createBoss(this.#handle, this.#log, { supervise: this.#supervise })
    await boss.start()
    this.#boss = boss
    for (const type of types) {
      const name = queueName(type)
      // The operations module owns retries and liveness: pg-boss must neither retry nor expire a long run.
      // pg-boss's heartbeat frees the slot of a job whose worker died (its group limit counts active jobs).
      const queue = {
        retryLimit: 0,
        expireInSeconds: 24 * 60 * 60,
        deleteAfterSeconds: 7 * 24 * 60 * 60,
        heartbeatSeconds: 60,
        notify: true,
      }
      if (await boss.getQueue(name)) await boss.updateQueue(name, queue)
      else await boss.createQueue(name, queue)
      // Warm pg-boss's queue cache now, so that send() inside our start transaction needs no
      // extra round trip through pg-boss's own connection.
      await boss.getJobById(name, NIL_UUID)
    }
  }

  async enqueue(tx: Executor, job: RunJob): Promise<string> {
    const name = queueName(job.type)
    const id = await this.boss.send(name, { runId: job.runId, attempt: job.attempt } satisfies RunJobData, {
      db: inTransaction(tx),
      ...(job.perTenantConcurrency ? { group: { id: job.tenantId } } : {}),
      ...(job.startAfterSeconds ? { startAfter: job.startAfterSeconds } : {}),
    })
    if (!id) throw new Error(`The job queue refused the job for run ${job.runId}`)
    // No NOTIFY announces a job when its start time comes: wake our workers then, not at the 30 s poll.
    if (job.startAfterSeconds) this.#wakeLater(name, job.startAfterSeconds * 1000 + 100)
    return id
  }

  async retire(tx: Executor, type: string, jobId: string): Promise<void> {
    await this.boss.cancel(queueName(type), jobId, { db: inTransaction(tx) })
  }

  async state(tx: Executor, type: string, jobId: string): Promise<'live' | 'gone'> {
    const job = await this.boss.getJobById(queueName(type), jobId, { db: inTransaction(tx) })
    return job && (job.state === 'created' || job.state === 'retry' || job.state === 'active') ? 'live' : 'gone'
  }

  async work(type: string, options: WorkOptions, execute: (data: RunJobData) => Promise<void>): Promise<void> {
    const name = queueName(type)
    const boss = this.boss
    await boss.work<RunJobData>(
      name,
      {
        batchSize: 1,
        localConcurrency: options.concurrency,
        pollingIntervalSeconds: options.pollingIntervalSeconds,
        ...(options.perTenantConcurrency ? { groupConcurrency: options.perTenantConcurrency } : {}),
      },
      async ([job]) => {
        if (job) await execute(job.data)
        // With NOTIFY on, an idle pg-boss worker polls only every 30 s, and with one job per
        // fetch it never bursts: a backlog that arrived while everyone was busy would wait.
        // So a worker that finishes wakes its siblings; an empty fetch puts them back to sleep.
        this.#wake(name)
        // pg-boss marks this job complete only after we return; until then a tenant's group
        // slot looks taken, and a run of the same tenant queued meanwhile would wait for the
        // next poll. Once more, shortly after.
        if (job && options.perTenantConcurrency) this.#wakeLater(name, 100)
      },
    )
    this.#workers.set(
      name,
      boss
        .getWipData()
        .filter((w) => w.name === name)
        .map((w) => w.id),
    )
  }

  async stopWorking(types: readonly string[]): Promise<void> {
    this.#stopping = true
    // Stop fetching first, or the job sent for a handed-back run comes back to us.
    if (!this.#boss) return
    for (const type of types)
      if (this.#workers.has(queueName(type))) await this.#boss.offWork(queueName(type), { wait: false })
  }

  async stop(): Promise<void> {
    this.#stopping = true
    await this.#boss?.stop({ graceful: true, timeout: 10_000, close: true })
  }

  #wake(name: string) {
    for (const id of this.#workers.get(name) ?? []) this.#boss?.notifyWorker(id)
  }

  #wakeLater(name: string, ms: number) {
    if (this.#stopping || !this.#workers.has(name)) return
    setTimeout(() => this.#wake(name), ms).unref()
  }
}
