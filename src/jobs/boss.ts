import { sql } from 'drizzle-orm'
import { fromDrizzle, PgBoss } from 'pg-boss'
import type { Logger } from 'pino'
import type { DatabaseHandle, Executor } from '../db/engine.ts'

/** pg-boss on the same database as the runs, with a small pool and its own LISTEN connection. */
export function createBoss(handle: DatabaseHandle, logger: Logger, options: { supervise: boolean }): PgBoss {
  const boss = new PgBoss({
    useListenNotify: true,
    supervise: options.supervise,
    schedule: false,
    migrate: true,
    connectionString: handle.connectionString,
    max: 4,
    application_name: handle.applicationName,
  })
  boss.on('error', (error: Error) => logger.error({ err: error }, 'job queue error'))
  boss.on('warning', (warning: { message: string }) => logger.warn({ warning: warning.message }, 'job queue warning'))
  return boss
}

/** pg-boss statements inside one of our Drizzle transactions (the job commits with the run). */
export const inTransaction = (tx: Executor) => fromDrizzle(tx, sql)
