import type { OperationRunRow, RunOutcome } from '../../db/schema.ts'
import type { SummaryCounts } from '../operations/counts.ts'

const TITLE_SUFFIX: Record<RunOutcome, string> = {
  succeeded: 'completed',
  partially_succeeded: 'completed with warnings',
  failed: 'failed',
  cancelled: 'cancelled',
}

export const runNotificationTitle = (label: string, outcome: RunOutcome) => `${label} ${TITLE_SUFFIX[outcome]}`

const ORDER = ['created', 'updated', 'unchanged', 'removed', 'succeeded', 'failed', 'skipped', 'warnings'] as const

/** "12 of 12 processed · 3 created · 1 failed. 1 problem: …" — the counts that matter, nothing that is zero. */
export function runNotificationBody(run: Pick<OperationRunRow, 'summaryCounts' | 'failures'>): string {
  const counts = run.summaryCounts as SummaryCounts
  const parts: string[] = []
  if (counts.total !== undefined) parts.push(`${counts.processed ?? 0} of ${counts.total} processed`)
  else if (counts.processed) parts.push(`${counts.processed} processed`)
  for (const key of ORDER) if (counts[key]) parts.push(`${counts[key]} ${key}`)
  let body = parts.join(' · ')
  const [first] = run.failures
  if (first) {
    const problems = run.failures.length === 1 ? '1 problem' : `${run.failures.length} problems`
    body = `${body ? `${body}. ` : ''}${problems}: ${first.message}`
  }
  return body || 'No work to do.'
}
