/** The allow-list of summary_counts keys (ADR 005); writing another key is a programming error. */
export const COUNT_KEYS = [
  'total',
  'processed',
  'succeeded',
  'failed',
  'skipped',
  'created',
  'updated',
  'unchanged',
  'removed',
  'warnings',
] as const
export type CountKey = (typeof COUNT_KEYS)[number]
export type SummaryCounts = Partial<Record<CountKey, number>>

export class CountsError extends Error {
  override name = 'CountsError'
}

const allowed = new Set<string>(COUNT_KEYS)

/**
 * Merges new absolute values into the current counts, enforcing the rules every writer must
 * keep: known keys, non-negative integers, monotonic while the run is active, processed ≤ total.
 */
export function mergeCounts(current: SummaryCounts, next: Record<string, number>): SummaryCounts {
  const merged: SummaryCounts = { ...current }
  for (const [key, value] of Object.entries(next)) {
    if (!allowed.has(key))
      throw new CountsError(`summary_counts key "${key}" is not in the allow-list (${COUNT_KEYS.join(', ')})`)
    if (!Number.isSafeInteger(value) || value < 0)
      throw new CountsError(`summary_counts.${key} must be a non-negative integer, got ${value}`)
    const before = current[key as CountKey]
    if (before !== undefined && value < before)
      throw new CountsError(`summary_counts.${key} may only grow while the run is active (${before} → ${value})`)
    merged[key as CountKey] = value
  }
  if (merged.total !== undefined && (merged.processed ?? 0) > merged.total) {
    throw new CountsError(`summary_counts.processed (${merged.processed}) exceeds total (${merged.total})`)
  }
  return merged
}

/** Adds deltas to the current counts, under the same rules. */
export function addCounts(current: SummaryCounts, delta: Record<string, number>): SummaryCounts {
  const next: Record<string, number> = {}
  for (const [key, value] of Object.entries(delta)) next[key] = (current[key as CountKey] ?? 0) + value
  return mergeCounts(current, next)
}
