import { existsSync } from 'node:fs'
import { platform } from 'node:os'
import path from 'node:path'
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres'
import pg from 'pg'
import * as schema from './schema.ts'
import {
  ClusterError,
  type ClusterPaths,
  clusterPaths,
  clusterState,
  connectionConfig,
  connectionString,
  ensureAppDatabase,
  initCluster,
  PgliteDataDirError,
  startCluster,
  stopCluster,
} from './cluster.ts'

export type Database = NodePgDatabase<typeof schema>
/** A transaction or the database: commands take this so callers can compose them in one transaction. */
export type Executor = Parameters<Parameters<Database['transaction']>[0]>[0] | Database

/** Where the database lives: the cluster in DATA_DIR, or a server named by DATABASE_URL. Only banners care. */
export type Engine = 'embedded' | 'external'

export type DatabaseHandle = {
  db: Database
  pool: pg.Pool
  engine: Engine
  /** For connections that must be their own (LISTEN, pg-boss). */
  connectionString: string
  /** Every connection of this process says so (pg_stat_activity), so the embedded cluster knows who else is connected. */
  applicationName: string
  close(): Promise<void>
}

/**
 * node-postgres returns int8 (count(*), bigint columns) as strings; make them numbers.
 * Counts in this product stay far below 2^53. Set on pg's global parsers because Drizzle's
 * per-query parsers fall back to them.
 */
pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => Number(value))

function poolFor(config: pg.PoolConfig): pg.Pool {
  const pool = new pg.Pool(config)
  // An idle client that loses its connection must not crash the process; the next query reconnects.
  pool.on('error', () => {})
  return pool
}

export function openPostgres(url: string, max = 10): DatabaseHandle {
  const applicationName = `tenantatlas ${process.pid}`
  const pool = poolFor({ connectionString: url, max, application_name: applicationName })
  return {
    db: drizzle(pool, { schema }),
    pool,
    engine: 'external',
    connectionString: url,
    applicationName,
    close: () => pool.end(),
  }
}

/** What the process is: `serve` owns the embedded cluster; a worker or a CLI command may join it. */
export type ProcessRole = 'serve' | 'worker' | 'cli'

export type OpenOptions = { databaseUrl: string | undefined; dataDir: string; role: ProcessRole }

export class DataDirInUseError extends ClusterError {}

// Any constant: the session-level advisory lock a `serve` holds on its embedded cluster while it runs.
const SERVE_LOCK = 7_415_002

export async function openDatabase(options: OpenOptions): Promise<DatabaseHandle> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl)
  return openEmbedded(options.dataDir, options.role)
}

/**
 * The embedded cluster in DATA_DIR (ADR 012). Started when nobody runs it (or adopted from a
 * killed `serve`, by PostgreSQL's own postmaster.pid); stopped by the last process to leave it
 * (serve, a worker or a CLI command that finds no other process connected).
 */
export async function openEmbedded(
  dataDir: string,
  role: ProcessRole,
  options: { importing?: boolean } = {},
): Promise<DatabaseHandle> {
  if (platform() === 'win32')
    throw new ClusterError(
      'the embedded cluster needs Unix sockets, which Windows lacks: set DATABASE_URL to a PostgreSQL server',
    )
  const paths = clusterPaths(dataDir)
  if (!options.importing && existsSync(importPendingFile(dataDir))) {
    throw new ClusterError(
      `an import of PGlite data into ${dataDir} was interrupted: run \`tenantatlas data import-pglite --from ${dataDir}\` again to finish it`,
    )
  }
  const { started } = await ensureRunning(paths)
  const applicationName = `tenantatlas ${role} ${process.pid}`
  const connection = { ...connectionConfig(paths), application_name: applicationName }
  let lock: pg.Client | undefined
  // The last process out stops the cluster: a CLI command or worker that finds no one else connected, and serve.
  const stopIfLast = async () => {
    if ((await othersConnected(paths, applicationName)) > 0) return
    await stopCluster(paths)
  }
  try {
    if (role === 'serve') lock = await takeServeLock(connection, dataDir)
  } catch (error) {
    if (started) await stopCluster(paths).catch(() => {})
    throw error
  }
  const pool = poolFor({ ...connection, max: role === 'cli' ? 2 : 10 })
  return {
    db: drizzle(pool, { schema }),
    pool,
    engine: 'embedded',
    connectionString: connectionString(paths),
    applicationName,
    close: async () => {
      await pool.end()
      await lock?.end().catch(() => {})
      await stopIfLast()
    },
  }
}

/** Set while `data import-pglite` moves data in; nothing else opens the half-made cluster. */
export const importPendingFile = (dataDir: string) => path.join(dataDir, 'import-pglite.pending')

const RETRYABLE = new Set(['ENOENT', 'ECONNREFUSED', '57P03', '57P01', '08006'])

/**
 * Makes sure the cluster runs and answers, whoever starts it: a process that finds it starting
 * or stopping (another process's start, or a stop that raced our check) tries again.
 */
async function ensureRunning(paths: ClusterPaths): Promise<{ started: boolean }> {
  const deadline = Date.now() + 300_000
  let started = false
  for (;;) {
    const state = clusterState(paths)
    if (state === 'pglite') throw new PgliteDataDirError(paths.dataDir)
    if (state === 'absent') await initCluster(paths)
    if (clusterState(paths) === 'stopped') {
      try {
        await startCluster(paths)
        started = true
      } catch (error) {
        // Another process started it at the same moment: join it.
        if (clusterState(paths) !== 'running') throw error
      }
    }
    try {
      await ensureAppDatabase(paths)
      return { started }
    } catch (error) {
      const code = (error as { code?: string }).code
      if (!code || !RETRYABLE.has(code) || Date.now() > deadline) throw error
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  }
}

/** `serve` holds a session-level advisory lock while it runs: a second one on the same DATA_DIR finds it taken. */
async function takeServeLock(connection: pg.ClientConfig, dataDir: string): Promise<pg.Client> {
  const lock = new pg.Client(connection)
  lock.on('error', () => {})
  await lock.connect()
  const { rows } = await lock.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [SERVE_LOCK])
  if (rows[0]?.ok) return lock
  const holder = await lock.query<{ name: string }>(
    `SELECT a.application_name AS name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.objid = $1 AND l.granted LIMIT 1`,
    [SERVE_LOCK],
  )
  await lock.end()
  const pid = /(\d+)$/.exec(holder.rows[0]?.name ?? '')?.[1]
  throw new DataDirInUseError(
    `another \`tenantatlas serve\`${pid ? ` (process ${pid})` : ''} is running on ${dataDir}; stop it first, use another DATA_DIR, or run more processes with DATABASE_URL`,
  )
}

/** Client connections to the cluster that are not this process's. */
async function othersConnected(paths: ClusterPaths, applicationName: string): Promise<number> {
  const client = new pg.Client({ ...connectionConfig(paths, 'postgres'), application_name: applicationName })
  try {
    await client.connect()
    const { rows } = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND application_name <> $1`,
      [applicationName],
    )
    return rows[0]?.n ?? 0
  } catch {
    return Infinity // cannot tell: leave it running rather than stop it under someone
  } finally {
    await client.end().catch(() => {})
  }
}
