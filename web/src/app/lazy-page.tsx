import { type ComponentType, use } from 'react'

type Tracked<T> = Promise<T> & { status?: 'pending' | 'fulfilled' | 'rejected'; value?: T; reason?: unknown }

/**
 * A page in its own chunk that renders without suspending once its chunk is loaded. React.lazy
 * suspends on every first render, and a suspended render waits out React's 300 ms fallback
 * throttle before the page even starts its queries; here the chunk is fetched ahead (the current
 * route at start-up, the others when the browser is idle) and `use()` reads the settled promise
 * synchronously.
 */
export function lazyPage<P extends object>(load: () => Promise<ComponentType<P>>) {
  let promise: Tracked<ComponentType<P>> | undefined
  const preload = (): Tracked<ComponentType<P>> => {
    if (!promise) {
      const tracked: Tracked<ComponentType<P>> = load()
      tracked.status = 'pending'
      tracked.then(
        (value) => {
          tracked.status = 'fulfilled'
          tracked.value = value
        },
        (reason: unknown) => {
          tracked.status = 'rejected'
          tracked.reason = reason
          promise = undefined // a failed chunk download may succeed on the next try
        },
      )
      promise = tracked
    }
    return promise
  }
  function Page(props: P) {
    const Component = use(preload() as Promise<ComponentType<P>>)
    return <Component {...props} />
  }
  return { preload, Page }
}
