import { fileURLToPath } from 'node:url'
import { drizzle } from 'drizzle-orm/node-postgres'
import { readMigrationFiles } from 'drizzle-orm/migrator'
import { migrate } from 'drizzle-orm/node-postgres/migrator'
import type { DatabaseHandle } from './engine.ts'

const migrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url))
// Any constant: every process that migrates the same database takes the same lock.
const MIGRATION_LOCK = 7_415_001

/** Applies pending migrations. Safe when several processes start at once (advisory lock). */
export async function runMigrations(handle: DatabaseHandle): Promise<{ applied: number }> {
  const client = await handle.pool.connect()
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK])
    try {
      const before = await countApplied(handle)
      await migrate(drizzle(client), { migrationsFolder })
      const after = await countApplied(handle)
      return { applied: after - before }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK])
    }
  } finally {
    client.release()
  }
}

async function countApplied(handle: DatabaseHandle): Promise<number> {
  const exists = await handle.pool.query<{ t: string | null }>(
    `SELECT to_regclass('drizzle.__drizzle_migrations')::text AS t`,
  )
  if (!exists.rows[0]?.t) return 0
  const result = await handle.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations')
  return result.rows[0]?.n ?? 0
}

/** For /readyz: true when every migration shipped with this build has been applied. */
export async function migrationsUpToDate(handle: DatabaseHandle): Promise<boolean> {
  return (await countApplied(handle)) >= readMigrationFiles({ migrationsFolder }).length
}
