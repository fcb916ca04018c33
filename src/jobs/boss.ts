import { sql } from 'drizzle-orm'
import { fromDrizzle, PgBoss } from 'pg-boss'
import type { Logger } from 'pino'
import type { DatabaseHandle, Executor } from '../db/engine.ts'
import type { Listener } from '../db/listen.ts'

/**
 * pg-boss on the same database as the runs. On PostgreSQL it owns a small pool and its own
 * LISTEN connection; on the embedded engine it goes through our pool, and its LISTEN through
 * the process's listener (a PGlite notification reaches the connection that committed it).
 */
export function createBoss(handle: DatabaseHandle, listener: Listener, logger: Logger, options: { supervise: boolean }): PgBoss {
  // A process sharing another's embedded database hears no notifications: its workers poll instead.
  const hearsNotifications = handle.engine === 'postgres' || handle.mode !== 'shared'
  const common = { useListenNotify: hearsNotifications, supervise: options.supervise, schedule: false, migrate: true }
  const boss = handle.connectionString
    ? new PgBoss({ ...common, connectionString: handle.connectionString, max: 4, application_name: 'tenantatlas-jobs' })
    : new PgBoss({
        ...common,
        db: {
          executeSql: (text: string, values?: unknown[]) => handle.pool.query(text, values),
          listen: async (channel: string, onNotification: (payload: string) => void, onReconnect: () => void) => {
            const unsubscribe = await listener.listen(channel, onNotification, onReconnect)
            onReconnect()
            return { close: () => Promise.resolve(unsubscribe()) }
          },
        },
      })
  boss.on('error', (error: Error) => logger.error({ err: error }, 'job queue error'))
  boss.on('warning', (warning: { message: string }) => logger.warn({ warning: warning.message }, 'job queue warning'))
  return boss
}

/** pg-boss statements inside one of our Drizzle transactions (the job commits with the run). */
export const inTransaction = (tx: Executor) => fromDrizzle(tx, sql)
