import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { type DatabaseHandle, openPostgres, startEmbedded } from '../src/db/engine.ts'
import { runMigrations } from '../src/db/migrate.ts'

export const testEngine = process.env.TEST_DATABASE_URL ? 'postgres' : 'pglite'

/**
 * A fresh, migrated database for one test file: a new PostgreSQL database on the server in
 * TEST_DATABASE_URL, or an in-memory PGlite. Dropped when the file is done.
 */
export async function openTestDatabase(): Promise<DatabaseHandle> {
  const url = process.env.TEST_DATABASE_URL
  if (!url) {
    const socketDir = mkdtempSync(path.join(tmpdir(), 'ta-test-'))
    const handle = await startEmbedded({ pgdata: undefined, socketDir })
    await runMigrations(handle)
    return { ...handle, close: () => handle.close().finally(() => rmSync(socketDir, { recursive: true, force: true })) }
  }
  const name = `ta_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  const target = new URL(url)
  target.pathname = `/${name}`
  const handle = openPostgres(target.toString(), 5)
  await runMigrations(handle)
  return {
    ...handle,
    close: async () => {
      await handle.close()
      const dropper = new pg.Client({ connectionString: url })
      await dropper.connect()
      await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await dropper.end()
    },
  }
}
