import { eq } from 'drizzle-orm'
import { comparisons } from '../../db/schema.ts'
import type { RunHandler } from '../operations/handlers.ts'
import { RunFailureError, RunOwnershipLostError } from '../operations/run-errors.ts'
import { computeComparison } from './compute.ts'

/** `compare.run`: computes a stored comparison with progress (one processed count per object pair). */
export function createCompareHandler(): RunHandler {
  return async (run) => {
    const comparisonId = (run.context as { comparison_id: string }).comparison_id
    const [comparison] = await run.db
      .select({ id: comparisons.id })
      .from(comparisons)
      .where(eq(comparisons.id, comparisonId))
    if (!comparison) throw new RunFailureError('comparison_missing', 'The comparison no longer exists')
    try {
      await computeComparison(run.db, comparisonId, {
        total: (total) => run.progress({ total, processed: 0 }),
        processed: (count) => run.increment({ processed: count }),
        throwIfCancelled: () => run.throwIfCancelled(),
        write: (work) => run.transaction(work),
      })
    } catch (error) {
      // A lost attempt leaves the comparison to the attempt that took over.
      if (!(error instanceof RunOwnershipLostError))
        await run.db.update(comparisons).set({ status: 'failed' }).where(eq(comparisons.id, comparisonId))
      throw error
    }
  }
}
