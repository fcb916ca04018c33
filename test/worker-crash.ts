import { expect } from 'vitest'
import type { EmulatorServer } from '../src/emulator/server.ts'
import type { GraphClient } from '../src/graph/graph-client.ts'
import type { Operations } from '../src/jobs/runtime.ts'
import { control } from './graph/emulator-helpers.ts'
import type { TestContext } from './harness.ts'
import { runRow, shippedWorker, spawnChildWorker, waitFor } from './operations/helpers.ts'

/**
 * The crash tests' one scaffold: a run started on a worker in its own process (the shipped
 * handlers, test/inventory/sync-worker-child.ts), that process SIGKILLed once the run got as far
 * as `reached` says, the run re-queued by the reaper (attempt 2), and finished by a worker in
 * this process. The caller waits for the run and stops the returned worker.
 */

export type CrashEnv = { ctx: TestContext; emulator: EmulatorServer; graph: GraphClient }

export type Crash = {
  runId: string
  /** The in-process worker that finishes the run (stop it when done). */
  worker: Operations
  /** What `reached` returned when the child was killed. */
  killedAt: number
}

/** A random point in 1…n: where the kill happens. */
export const randomPoint = (n: number) => 1 + Math.floor(Math.random() * Math.max(1, n))

export async function killWorkerMidRun(
  env: CrashEnv,
  options: {
    /** Starts the run (on the child: no other worker is running); returns its id. */
    start: () => Promise<string>
    /** How far the run got (items finished, journal rows written): the child is killed once it is at least `at`. */
    reached: (runId: string) => Promise<number>
    at: number
    what: string
    /** Emulator faults while the child runs (default: 60 ms a request, so the kill lands mid-run). */
    faults?: Record<string, unknown>
    /** Emulator faults while the run recovers (default: none). */
    recoveryFaults?: Record<string, unknown>
  },
): Promise<Crash> {
  const { ctx, emulator } = env
  await control(emulator, 'PUT', '/faults', options.faults ?? { latency_ms: 60 })
  const { child, output } = await spawnChildWorker(ctx, 'test/inventory/sync-worker-child.ts', {
    TA_TEST_APP_KEY: ctx.secretKey.toString('base64'),
    TA_TEST_EMULATOR_URL: emulator.url,
  })
  try {
    const runId = await options.start()
    let killedAt = 0
    await waitFor(
      async () => (killedAt = await options.reached(runId)) >= options.at,
      `${options.what} (at ${options.at})`,
      90_000,
    ).catch((e: unknown) => {
      throw new Error(`${String(e)}; the child worker said: ${output()}`)
    })
    child.kill('SIGKILL')
    await new Promise((resolve) => child.once('exit', resolve))
    expect((await runRow(ctx, runId)).status, 'the run was killed before it ended').not.toBe('completed')
    await waitFor(async () => (await ctx.engine.reap()).requeued === 1, 'the reaper to re-queue the run')
    expect(await runRow(ctx, runId)).toMatchObject({ status: 'queued', attempt: 2 })
    await control(emulator, 'PUT', '/faults', options.recoveryFaults ?? {})
    return { runId, worker: await shippedWorker(env), killedAt }
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  }
}
