import type { Executor } from '../db/engine.ts'

/** The payload of every operation-run job: the run, and the attempt this job is for. */
export type RunJobData = { runId: string; attempt: number }

export const queueName = (type: string) => `op.${type}`

/** Enqueues a run's job in the caller's transaction and returns the job id. */
export type Enqueue = (tx: Executor, job: { type: string; tenantId: string; runId: string; attempt: number; startAfterSeconds?: number }) => Promise<string>

/** The queue as the run lifecycle needs it: send a run's job, retire a job that must not run. */
export type RunJobs = {
  enqueue: Enqueue
  /** Cancels a superseded job (e.g. a dead worker's), freeing its per-tenant slot at once. */
  retire: (tx: Executor, type: string, jobId: string) => Promise<void>
}
