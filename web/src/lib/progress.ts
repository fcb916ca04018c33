import type { Run, SummaryCounts } from './types.ts'

export type Progress =
  | { determinate: true; processed: number; total: number; percent: number; label: string }
  | { determinate: false; processed: number | null; label: string | null }

/**
 * A bar is determinate only when the run knows its total (`total > 0`): then it shows
 * `processed / total` and a percentage. Otherwise the bar is indeterminate (ADR 006).
 */
export function progressOf(counts: SummaryCounts): Progress {
  const total = finite(counts.total)
  const processed = finite(counts.processed)
  if (total !== null && total > 0) {
    const done = Math.min(Math.max(processed ?? 0, 0), total)
    return {
      determinate: true,
      processed: done,
      total,
      percent: Math.floor((done / total) * 100),
      label: `${fmt(done)} / ${fmt(total)}`,
    }
  }
  return {
    determinate: false,
    processed,
    label: processed !== null && processed > 0 ? `${fmt(processed)} processed` : null,
  }
}

const finite = (value: number | undefined): number | null =>
  typeof value === 'number' && Number.isFinite(value) ? value : null
const fmt = (n: number) => n.toLocaleString('en')

/** Active runs as the widget lists them: oldest first, so a new run joins at the bottom. */
export const sortActive = (runs: Iterable<Run>): Run[] =>
  [...runs].sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id))

/**
 * What an active run is doing, as the widget says it: queued; starting (running, nothing counted yet —
 * not "0 / 6"); running; finishing (every unit counted but the run not completed yet — not "100 %"
 * while work remains).
 */
export type Phase = 'queued' | 'starting' | 'running' | 'finishing'

export function phaseOf(run: Pick<Run, 'status' | 'summary_counts'>): Phase {
  if (run.status === 'queued') return 'queued'
  const progress = progressOf(run.summary_counts)
  if ((progress.processed ?? 0) === 0) return 'starting'
  if (progress.determinate && progress.processed >= progress.total) return 'finishing'
  return 'running'
}
