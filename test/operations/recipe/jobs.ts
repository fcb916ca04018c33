import type { RunHandler } from '../../../src/modules/operations/handlers.ts'
import type { ItemResult, RunExecution } from '../../../src/modules/operations/run-execution.ts'

type StampInput = { targets: number; fail_every?: number }

/** The `recipe.stamp` handler: one per-item result per target, recorded in batches; every n-th target is locked. */
export const stampHandler: RunHandler = async (execution) => {
  const run = execution as RunExecution<StampInput>
  const { targets, fail_every: failEvery } = run.context
  await run.progress({ total: targets })
  let batch: ItemResult[] = []
  for (let i = 1; i <= targets; i++) {
    const locked = failEvery !== undefined && i % failEvery === 0
    batch.push({
      target: { type: 'deviceConfiguration', id: `target-${i}`, name: `Target ${i}` },
      action: 'stamp',
      status: locked ? 'failed' : 'succeeded',
      code: locked ? 'target_locked' : null,
      message: locked ? `Target ${i} is locked` : null,
    })
    if (batch.length === 10_000 || i === targets) {
      run.throwIfCancelled()
      await run.recordItems(batch)
      batch = []
    }
  }
  if (failEvery !== undefined && targets >= failEvery)
    await run.addFailure({ code: 'target_locked', message: `${Math.floor(targets / failEvery)} targets were locked` })
}
