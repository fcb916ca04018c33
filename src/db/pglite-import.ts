import { copyFileSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { readMigrationFiles } from 'drizzle-orm/migrator'
import { ClusterError, type ClusterPaths, clusterPaths, clusterState, isOurCluster, stopCluster } from './cluster.ts'
import { type DatabaseHandle, importPendingFile, openEmbedded } from './engine.ts'
import { runMigrations } from './migrate.ts'

const migrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url))
const BATCH = 2_000

type PgliteLike = {
  query<T>(sql: string, params?: unknown[]): Promise<{ rows: T[] }>
  close(): Promise<void>
}

export type ImportResult = { tables: number; rows: number; keptAt: string }

/**
 * `data import-pglite --from DIR` (ADR 012): copies a data directory of the earlier PGlite
 * engine into the embedded PostgreSQL cluster of DATA_DIR, table by table through PGlite itself
 * (the only reader of its files). The target gets the same migrations the source had, the rows,
 * then the migrations added since, so data is carried forward exactly as an upgrade would.
 * The source is left in place (renamed aside when it is DATA_DIR's own), never deleted. The
 * job queue is not copied: runs that were active are recovered by the engine as after a crash.
 */
export async function importPglite(options: {
  from: string
  dataDir: string
  log: (line: string) => void
}): Promise<ImportResult> {
  const target = clusterPaths(path.resolve(options.dataDir))
  const pending = importPendingFile(target.dataDir)
  if (existsSync(pending)) {
    // An earlier import was interrupted (Ctrl-C, a crash): its half-made cluster goes, and it runs again.
    const pgliteData = readFileSync(pending, 'utf8').trim()
    options.log(`Finishing the interrupted import from ${pgliteData}`)
    await stopCluster(target)
    rmSync(target.pgdata, { recursive: true, force: true })
    return copyOrRollBack(pgliteData, target, options.log)
  }

  // DIR is a data directory of the PGlite engine (DIR/pgdata), or such a pgdata itself.
  const from = path.resolve(options.from)
  const sourceData = existsSync(path.join(from, 'pgdata', 'PG_VERSION')) ? path.join(from, 'pgdata') : from
  if (!existsSync(path.join(sourceData, 'PG_VERSION')))
    throw new ClusterError(`${options.from} is not a TenantAtlas data directory (no pgdata/ inside)`)
  if (isOurCluster(sourceData))
    throw new ClusterError(`${options.from} already holds an embedded PostgreSQL cluster: nothing to import`)
  let pgliteData = sourceData
  if (path.resolve(sourceData) === path.resolve(target.pgdata)) {
    // The usual case: DATA_DIR itself was made by PGlite. Its files move aside; the new cluster takes pgdata/.
    pgliteData = `${target.pgdata}.pglite`
    if (existsSync(pgliteData))
      throw new ClusterError(`${pgliteData} already exists (an earlier import?): move it away first`)
  } else if (clusterState(target) !== 'absent') {
    throw new ClusterError(`${options.dataDir} already holds a database: import into an empty DATA_DIR`)
  }
  carryAppKey(path.dirname(sourceData), target.dataDir)
  // Until the import commits, nothing else opens DATA_DIR (it would take the half-made cluster for a new install).
  writeFileSync(pending, pgliteData + '\n', { mode: 0o600 })
  if (pgliteData !== sourceData) {
    renameSync(target.pgdata, pgliteData)
    options.log(`Moved the PGlite data to ${pgliteData} (kept; delete it once you are satisfied)`)
  }
  return copyOrRollBack(pgliteData, target, options.log)
}

/** The copy; on failure the half-made cluster is stopped and removed, and DATA_DIR is as it was before the import. */
async function copyOrRollBack(
  pgliteData: string,
  target: ClusterPaths,
  log: (line: string) => void,
): Promise<ImportResult> {
  const pending = importPendingFile(target.dataDir)
  try {
    const result = await copyInto(pgliteData, target.dataDir, log)
    rmSync(pending, { force: true })
    return result
  } catch (error) {
    await stopCluster(target).catch(() => {})
    rmSync(target.pgdata, { recursive: true, force: true })
    if (path.dirname(pgliteData) === target.dataDir && path.basename(pgliteData) === 'pgdata.pglite')
      renameSync(pgliteData, target.pgdata)
    rmSync(pending, { force: true })
    throw error
  }
}

async function copyInto(pgliteData: string, dataDir: string, log: (line: string) => void): Promise<ImportResult> {
  const source = await openPglite(pgliteData)
  try {
    const handle = await openEmbedded(dataDir, 'cli', { importing: true })
    try {
      const copied = await copyAll(source, handle, log)
      // The migrations added since the PGlite era, on the copied data (as an upgrade would).
      const later = await runMigrations(handle)
      log(`Applied the source's ${copied.migrations} migrations, then ${later.applied} added since`)
      return { tables: copied.tables, rows: copied.rows, keptAt: pgliteData }
    } finally {
      await handle.close()
    }
  } finally {
    await source.close()
  }
}

/** One transaction: the source's migrations (DDL is transactional), then every row. All or nothing. */
async function copyAll(source: PgliteLike, handle: DatabaseHandle, log: (line: string) => void) {
  const client = await handle.pool.connect()
  try {
    await client.query('BEGIN')
    const migrations = await applySourceMigrations(source, client)
    // Rows arrive table by table, in name order; the source's foreign keys held, so checks are off for this transaction.
    await client.query('SET LOCAL session_replication_role = replica')
    const tables = (
      await source.query<{ name: string }>(
        `SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`,
      )
    ).rows.map((r) => r.name)
    let rows = 0
    for (const table of tables) {
      const copied = await copyTable(source, client, table)
      log(`  ${table}: ${copied} rows`)
      rows += copied
    }
    await client.query('COMMIT')
    return { migrations, tables: tables.length, rows }
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {})
    throw error
  } finally {
    client.release()
  }
}

/** Secrets in the data are encrypted with the source's app.key: the target must use the same key. */
function carryAppKey(sourceDir: string, targetDir: string) {
  const from = path.join(sourceDir, 'app.key')
  const to = path.join(targetDir, 'app.key')
  if (!existsSync(from) || path.resolve(from) === path.resolve(to)) return
  if (!existsSync(to)) return copyFileSync(from, to)
  if (readFileSync(from, 'utf8').trim() !== readFileSync(to, 'utf8').trim()) {
    throw new ClusterError(
      `${to} differs from ${from}: the imported secrets were encrypted with the source's key (APP_KEY); use an empty DATA_DIR`,
    )
  }
}

async function openPglite(dir: string): Promise<PgliteLike> {
  let PGlite: { create(dir: string): Promise<PgliteLike> }
  try {
    // An optional dependency, loaded by this command alone.
    ;({ PGlite } = (await import('@electric-sql/pglite')) as unknown as { PGlite: typeof PGlite })
  } catch {
    throw new ClusterError(
      'reading PGlite data needs the package @electric-sql/pglite: run `npm install` (it is an optional dependency)',
    )
  }
  return PGlite.create(dir)
}

type Client = { query<T = unknown>(sql: string, params?: unknown[]): Promise<{ rows: T[] }> }

/** The target gets exactly the migrations the source had (checked by hash), so the rows fit its tables. */
async function applySourceMigrations(source: PgliteLike, client: Client): Promise<number> {
  const { rows: had } = await source.query<{ hash: string; created_at: string }>(
    'SELECT hash, created_at::text FROM drizzle.__drizzle_migrations ORDER BY created_at',
  )
  const ours = readMigrationFiles({ migrationsFolder })
  await client.query('CREATE SCHEMA IF NOT EXISTS drizzle')
  await client.query(
    'CREATE TABLE IF NOT EXISTS drizzle.__drizzle_migrations (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint)',
  )
  const { rows: present } = await client.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations',
  )
  if ((present[0]?.n ?? 0) > 0)
    throw new ClusterError('the target database is not empty: import into an empty DATA_DIR')
  for (const [i, migration] of had.entries()) {
    const mine = ours[i]
    if (!mine || mine.hash !== migration.hash)
      throw new ClusterError(
        `the PGlite data was made by a TenantAtlas version this one does not know (migration ${i + 1} differs)`,
      )
    for (const statement of mine.sql) if (statement.trim()) await client.query(statement)
    await client.query('INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES ($1, $2)', [
      mine.hash,
      mine.folderMillis,
    ])
  }
  return had.length
}

async function copyTable(source: PgliteLike, client: Client, table: string): Promise<number> {
  const ident = `"${table.replaceAll('"', '""')}"`
  const { rows: columns } = await client.query<{ name: string }>(
    `SELECT column_name AS name FROM information_schema.columns
      WHERE table_schema = 'public' AND table_name = $1 AND is_generated = 'NEVER' ORDER BY ordinal_position`,
    [table],
  )
  if (columns.length === 0)
    throw new ClusterError(`table ${table} of the PGlite data has no counterpart in the new cluster`)
  const list = columns.map((c) => `"${c.name.replaceAll('"', '""')}"`).join(', ')
  let copied = 0
  for (let offset = 0; ; offset += BATCH) {
    // ctid order is stable while nobody writes the source, which is ours alone during the import.
    const { rows } = await source.query<{ batch: string | null }>(
      `SELECT json_agg(t)::text AS batch FROM (SELECT * FROM ${ident} ORDER BY ctid LIMIT ${BATCH} OFFSET ${offset}) t`,
    )
    const batch = rows[0]?.batch
    if (!batch) break
    const { rows: inserted } = await client.query<{ n: number }>(
      `WITH ins AS (INSERT INTO ${ident} (${list}) SELECT ${list} FROM json_populate_recordset(null::${ident}, $1::json) RETURNING 1) SELECT count(*)::int AS n FROM ins`,
      [batch],
    )
    copied += inserted[0]?.n ?? 0
  }
  const { rows: total } = await source.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${ident}`)
  if ((total[0]?.n ?? 0) !== copied) throw new ClusterError(`table ${table}: ${copied} rows copied of ${total[0]?.n}`)
  return copied
}
