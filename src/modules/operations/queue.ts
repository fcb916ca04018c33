import type { Executor } from '../../db/engine.ts'

/** The payload of every operation-run job: the run, and the attempt this job is for. */
export type RunJobData = { runId: string; attempt: number }

export type RunJob = {
  type: string
  tenantId: string
  runId: string
  attempt: number
  /** The job becomes fetchable after this delay (a deferred claim). */
  startAfterSeconds?: number
  /** At most this many jobs of the type run at once per tenant (the queue's group limit). */
  perTenantConcurrency?: number
}

export type WorkOptions = {
  concurrency: number
  perTenantConcurrency?: number | undefined
  pollingIntervalSeconds: number
}

/**
 * The job queue as the run lifecycle needs it: the port that `src/jobs/` implements with pg-boss.
 * The operations module owns every run transition; the queue only carries "run R, attempt A" to a
 * worker, in the caller's transaction.
 */
export type JobQueue = {
  start(types: readonly string[]): Promise<void>
  /** Sends a run's job in the caller's transaction and returns the job id. */
  enqueue(tx: Executor, job: RunJob): Promise<string>
  /** Cancels a superseded job (e.g. a dead worker's), freeing its per-tenant slot at once. */
  retire(tx: Executor, type: string, jobId: string): Promise<void>
  /** Whether the job can still reach a worker. */
  state(tx: Executor, type: string, jobId: string): Promise<'live' | 'gone'>
  /** Executes the type's jobs in this process. */
  work(type: string, options: WorkOptions, execute: (data: RunJobData) => Promise<void>): Promise<void>
  /** Stops fetching new jobs (shutdown begins). */
  stopWorking(types: readonly string[]): Promise<void>
  stop(): Promise<void>
}

export type Enqueue = JobQueue['enqueue']
