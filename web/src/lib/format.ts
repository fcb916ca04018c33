/** Time and number formatting shared by the pages. */

/** "4 s", "2 min 05 s", "1 h 03 min" — elapsed and durations, never negative. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000))
  if (seconds < 60) return `${seconds} s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return `${minutes} min ${String(seconds % 60).padStart(2, '0')} s`
  const hours = Math.floor(minutes / 60)
  return `${hours} h ${String(minutes % 60).padStart(2, '0')} min`
}

/** Sub-second durations too (per-unit timings): "340 ms", "1.2 s", else formatDuration. */
export function formatShortDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`
  return formatDuration(ms)
}

/** Time a run has been going: since it started, or since it was queued while it waits. */
export function elapsedMs(run: { created_at: string; started_at: string | null }, now: number): number {
  return now - Date.parse(run.started_at ?? run.created_at)
}

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—'
  const date = new Date(iso)
  return Number.isNaN(date.getTime()) ? '—' : date.toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'medium' })
}

export function formatRelative(iso: string, now = Date.now()): string {
  const seconds = Math.round((now - Date.parse(iso)) / 1000)
  if (seconds < 45) return 'just now'
  const minutes = Math.round(seconds / 60)
  if (minutes < 60) return `${minutes} min ago`
  const hours = Math.round(minutes / 60)
  if (hours < 24) return `${hours} h ago`
  return formatDateTime(iso)
}

export const formatCount = (n: number | undefined) => (n === undefined ? '—' : n.toLocaleString('en'))
