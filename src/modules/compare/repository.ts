import { and, asc, eq, gt } from 'drizzle-orm'
import type { Executor } from '../../db/engine.ts'
import { comparisonRows, comparisons, type ComparisonRowStatus } from '../../db/schema.ts'
import { UUID_PATTERN } from '../../lib/ids.ts'

export async function findComparison(db: Executor, comparisonId: string) {
  if (!UUID_PATTERN.test(comparisonId)) return undefined
  const [row] = await db.select().from(comparisons).where(eq(comparisons.id, comparisonId))
  return row
}

export type RowFilters = { status?: ComparisonRowStatus | undefined; type?: string | undefined }

/** One page of a comparison's rows in their order (keyset on position). */
export async function listComparisonRows(
  db: Executor,
  comparisonId: string,
  filters: RowFilters,
  page: { after: number; limit: number },
) {
  return db
    .select()
    .from(comparisonRows)
    .where(
      and(
        eq(comparisonRows.comparisonId, comparisonId),
        filters.status ? eq(comparisonRows.status, filters.status) : undefined,
        filters.type ? eq(comparisonRows.policyType, filters.type) : undefined,
        gt(comparisonRows.position, page.after),
      ),
    )
    .orderBy(asc(comparisonRows.position))
    .limit(page.limit)
}

/** Every row matching the filters, page by page (an export of 20,000 rows never holds them all). */
export async function* eachComparisonRow(db: Executor, comparisonId: string, filters: RowFilters) {
  let after = -1
  for (;;) {
    const page = await listComparisonRows(db, comparisonId, filters, { after, limit: 500 })
    yield* page
    if (page.length < 500) return
    after = page.at(-1)!.position
  }
}
