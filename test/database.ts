import pg from 'pg'
import { inject } from 'vitest'
import { type DatabaseHandle, openPostgres } from '../src/db/engine.ts'
import { runMigrations } from '../src/db/migrate.ts'

/** Which server the suite runs on, for test names: the embedded cluster or TEST_DATABASE_URL's. */
export const testEngine = process.env.TEST_DATABASE_URL ? 'TEST_DATABASE_URL' : 'embedded'

const databaseUrl = (server: string, name: string) => {
  const url = new URL(server)
  url.pathname = `/${name}`
  return url.toString()
}

/**
 * A fresh, migrated database for one test file on the run's server (test/global-setup.ts),
 * dropped when the file is done.
 */
export async function openTestDatabase(): Promise<DatabaseHandle> {
  const server = inject('testServerUrl')
  const name = `ta_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`
  const admin = new pg.Client({ connectionString: server })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  const handle = openPostgres(databaseUrl(server, name), 5)
  await runMigrations(handle)
  return {
    ...handle,
    close: async () => {
      await handle.close()
      const dropper = new pg.Client({ connectionString: server })
      await dropper.connect()
      await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await dropper.end()
    },
  }
}
