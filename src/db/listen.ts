import pg from 'pg'
import type { DatabaseHandle } from './engine.ts'

export type Unsubscribe = () => void
export type Listener = {
  /** Calls `onNotification` for every NOTIFY on the channel; `onReconnect` after a lost connection came back. */
  listen(channel: string, onNotification: (payload: string) => void, onReconnect?: () => void): Promise<Unsubscribe>
  close(): Promise<void>
}

const CHANNEL = /^[a-z_][a-z0-9_]*$/i

/**
 * One LISTEN per process: a dedicated connection, reconnected with back-off, channels
 * re-subscribed, subscribers told so they can catch up.
 */
export function createListener(handle: DatabaseHandle, onError: (error: Error) => void = () => {}): Listener {
  const subscribers = new Map<string, Set<{ onNotification: (payload: string) => void; onReconnect?: () => void }>>()
  const dispatch = (channel: string, payload: string) => {
    for (const s of subscribers.get(channel) ?? []) s.onNotification(payload)
  }
  let closed = false

  const subscribe = (
    channel: string,
    onNotification: (payload: string) => void,
    onReconnect?: () => void,
  ): Unsubscribe => {
    if (!CHANNEL.test(channel)) throw new Error(`Invalid channel name ${channel}`)
    const entry = { onNotification, onReconnect }
    const set = subscribers.get(channel) ?? new Set()
    set.add(entry)
    subscribers.set(channel, set)
    return () => set.delete(entry)
  }

  let client: pg.Client | null = null
  let connecting: Promise<void> | null = null
  let retryTimer: NodeJS.Timeout | undefined
  let backoffMs = 250

  const lost = (dead: pg.Client) => {
    if (client !== dead) return
    client = null
    void dead.end().catch(() => {})
    reconnectLater()
  }

  const connect = (): Promise<void> =>
    (connecting ??= (async () => {
      const next = new pg.Client({
        connectionString: handle.connectionString,
        keepAlive: true,
        application_name: handle.applicationName,
      })
      next.on('notification', (n) => dispatch(n.channel, n.payload ?? ''))
      next.on('error', (error) => {
        onError(error)
        lost(next)
      })
      next.on('end', () => lost(next))
      try {
        await next.connect()
        for (const channel of subscribers.keys()) await next.query(`LISTEN ${channel}`)
        client = next
        backoffMs = 250
      } catch (error) {
        void next.end().catch(() => {})
        throw error
      } finally {
        connecting = null
      }
    })())

  const reconnectLater = () => {
    if (closed || retryTimer) return
    retryTimer = setTimeout(() => {
      retryTimer = undefined
      connect().then(
        () => {
          // Whatever was notified while we were away is lost: let subscribers catch up.
          for (const set of subscribers.values()) for (const s of set) s.onReconnect?.()
        },
        (error: unknown) => {
          onError(error as Error)
          backoffMs = Math.min(backoffMs * 2, 10_000)
          reconnectLater()
        },
      )
    }, backoffMs)
  }

  return {
    async listen(channel, cb, onReconnect) {
      const isNew = !subscribers.has(channel)
      const unsubscribe = subscribe(channel, cb, onReconnect)
      if (!client) await connect()
      else if (isNew) await client.query(`LISTEN ${channel}`)
      return unsubscribe
    },
    async close() {
      closed = true
      clearTimeout(retryTimer)
      const c = client
      client = null
      await c?.end().catch(() => {})
    },
  }
}
