import { type AnchorHTMLAttributes, type MouseEvent, type Ref, useCallback, useSyncExternalStore } from 'react'

/**
 * A small router over the History API: the console has a dozen routes, which does not
 * justify a routing library in the first download (ADR 006).
 */
const NAVIGATE_EVENT = 'ta:navigate'

function subscribe(onChange: () => void) {
  window.addEventListener('popstate', onChange)
  window.addEventListener(NAVIGATE_EVENT, onChange)
  return () => {
    window.removeEventListener('popstate', onChange)
    window.removeEventListener(NAVIGATE_EVENT, onChange)
  }
}

const snapshot = () => window.location.pathname + window.location.search

export function useLocation(): { pathname: string; search: URLSearchParams; href: string } {
  const href = useSyncExternalStore(subscribe, snapshot, snapshot)
  const url = new URL(href, 'http://local')
  return { pathname: url.pathname, search: url.searchParams, href }
}

export function navigate(to: string, options: { replace?: boolean } = {}) {
  if (to === snapshot()) return
  if (options.replace) window.history.replaceState(null, '', to)
  else window.history.pushState(null, '', to)
  window.dispatchEvent(new Event(NAVIGATE_EVENT))
  if (!options.replace) window.scrollTo?.(0, 0)
}

/** Matches `/t/:tenantId/operations/:runId` against a path; returns the params or null. */
export function matchPath(pattern: string, pathname: string): Record<string, string> | null {
  const want = pattern.split('/').filter(Boolean)
  const have = pathname.replace(/\/+$/, '').split('/').filter(Boolean)
  if (want.length !== have.length) return null
  const params: Record<string, string> = {}
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!
    const h = have[i]!
    if (w.startsWith(':')) params[w.slice(1)] = decodeURIComponent(h)
    else if (w !== h) return null
  }
  return params
}

type LinkProps = AnchorHTMLAttributes<HTMLAnchorElement> & { to: string; ref?: Ref<HTMLAnchorElement> }

/** An ordinary anchor (open in a new tab works) whose plain left click navigates in place. */
export function Link({ to, onClick, ref, ...rest }: LinkProps) {
  const handle = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event)
    if (
      event.defaultPrevented ||
      event.button !== 0 ||
      event.metaKey ||
      event.ctrlKey ||
      event.shiftKey ||
      event.altKey
    )
      return
    event.preventDefault()
    navigate(to)
  }
  return <a ref={ref} href={to} onClick={handle} {...rest} />
}

/** `?a=1&b=2` with `patch` applied (null or '' removes a key), as a path to navigate to. */
export function withParams(pathname: string, current: string, patch: Record<string, string | null>): string {
  const params = new URLSearchParams(current)
  for (const [key, value] of Object.entries(patch)) {
    if (value === null || value === '') params.delete(key)
    else params.set(key, value)
  }
  const qs = params.toString()
  return qs ? `${pathname}?${qs}` : pathname
}

/**
 * Page state kept in the query string (filters): shareable links, and the back button restores
 * them. Updates replace the history entry, so typing does not fill the history.
 */
export function useSearchParams(): [URLSearchParams, (patch: Record<string, string | null>) => void] {
  const { pathname, search } = useLocation()
  const update = useCallback(
    (patch: Record<string, string | null>) =>
      navigate(withParams(pathname, window.location.search, patch), { replace: true }),
    [pathname],
  )
  return [search, update]
}
