import { type InfiniteData, useQueryClient } from '@tanstack/react-query'
import { createContext, type ReactNode, useContext, useEffect, useState, useSyncExternalStore } from 'react'
import { api, reportUnauthorized } from '../lib/api.ts'
import { LiveRuns } from '../lib/live-runs.ts'
import type { Page, Run } from '../lib/types.ts'

const LiveRunsContext = createContext<LiveRuns | null>(null)

const NO_RUNS: Run[] = []
const noSubscribe = () => () => {}

/**
 * One live connection per tenant page (SSE, polling fallback), shared by the progress widget,
 * Monitoring and the run page. Every run state it sees is written into the query cache, so the
 * pages update without asking again; a completed run refreshes what it changed.
 */
export function LiveRunsProvider({
  tenantId,
  enabled,
  children,
}: {
  tenantId: string | undefined
  enabled: boolean
  children: ReactNode
}) {
  const queryClient = useQueryClient()
  const [live, setLive] = useState<LiveRuns | null>(null)

  useEffect(() => {
    if (!enabled || !tenantId) {
      setLive(null)
      return
    }
    const known = new Set<string>()
    const instance = new LiveRuns(
      {
        tenantId,
        openEventSource: typeof EventSource === 'function' ? (url) => new EventSource(url) : undefined,
        fetchActive: () => api<Page<Run>>(`/api/tenants/${tenantId}/operation-runs/active`).then((page) => page.data),
        isHidden: () => document.hidden,
        onVisibilityChange: (listener) => {
          document.addEventListener('visibilitychange', listener)
          return () => document.removeEventListener('visibilitychange', listener)
        },
      },
      {
        onRunUpdated: (run) => {
          queryClient.setQueryData(['run', tenantId, run.id], run)
          if (!known.has(run.id)) {
            known.add(run.id)
            void queryClient.invalidateQueries({ queryKey: ['runs', tenantId] })
          } else {
            queryClient.setQueriesData<InfiniteData<Page<Run>> | Page<Run>>({ queryKey: ['runs', tenantId] }, (old) =>
              replaceRun(old, run),
            )
          }
        },
        onRunCompleted: (run) => {
          // The initiator's notification was written in the same transaction as the completion.
          void queryClient.invalidateQueries({ queryKey: ['notifications'] })
          void queryClient.invalidateQueries({ queryKey: ['runs', tenantId] })
          void queryClient.invalidateQueries({ queryKey: ['run', tenantId, run.id] })
          void queryClient.invalidateQueries({ queryKey: ['inventory', tenantId] })
        },
        onUnauthorized: reportUnauthorized,
      },
    )
    instance.start()
    setLive(instance)
    return () => instance.stop()
  }, [tenantId, enabled, queryClient])

  return <LiveRunsContext.Provider value={live}>{children}</LiveRunsContext.Provider>
}

/** Puts a run's new state into a cached list: a Monitoring page set (infinite query) or a plain page. */
export function replaceRun<T extends InfiniteData<Page<Run>> | Page<Run> | undefined>(cached: T, run: Run): T {
  // Other queries live under the same key prefix (a bulk run's undo state): only lists of runs are touched.
  if (!cached || typeof cached !== 'object') return cached
  const swap = (page: Page<Run>) =>
    Array.isArray(page?.data) && page.data.some((r) => r.id === run.id)
      ? { ...page, data: page.data.map((r) => (r.id === run.id ? run : r)) }
      : page
  if ('pages' in cached) return Array.isArray(cached.pages) ? { ...cached, pages: cached.pages.map(swap) } : cached
  if (!('data' in cached)) return cached
  return swap(cached) as T
}

/** The tenant's live connection, or null when the viewer may not see operations. */
export const useLiveRuns = () => useContext(LiveRunsContext)

export function useActiveRuns(): Run[] {
  const live = useLiveRuns()
  return useSyncExternalStore(live?.subscribe ?? noSubscribe, live?.getSnapshot ?? (() => NO_RUNS))
}

/** Current time, ticking every `ms` while mounted (elapsed times). */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(() => Date.now())
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms)
    return () => clearInterval(timer)
  }, [ms])
  return now
}
