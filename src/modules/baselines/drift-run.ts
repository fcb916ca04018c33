import type { RunHandler } from '../operations/handlers.ts'
import { evaluateTenant } from './evaluate.ts'

export type DriftDeps = { now?: (() => Date) | undefined }

/** `drift.evaluate`: every enabled baseline of the run's tenant, one progress step per baseline. */
export function createDriftEvaluateHandler(deps: DriftDeps = {}): RunHandler {
  return async (run) => {
    const context = run.context as { sync_run_id?: string }
    const results = await evaluateTenant(run.db, run.run.tenantId, {
      now: deps.now?.() ?? new Date(),
      actor: { kind: 'system' },
      write: (work) => run.transaction(work),
      syncRunId: context.sync_run_id ?? null,
    })
    const sum = (k: 'opened' | 'reopened' | 'resolved') => results.reduce((n, r) => n + r[k], 0)
    await run.progress({ total: results.length, processed: results.length, created: sum('opened') + sum('reopened') })
    run.log.info({ opened: sum('opened'), reopened: sum('reopened'), resolved: sum('resolved') }, 'drift evaluated')
  }
}
