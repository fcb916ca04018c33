import { EventEmitter } from 'node:events'
import { existsSync, mkdirSync, rmSync } from 'node:fs'
import path from 'node:path'
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres'
import pg from 'pg'
import * as schema from './schema.ts'
import { acquireDataDirLock, DataDirLockedError, readLockOwner } from './lock.ts'
import { recordEngine } from './prepared.ts'

export type Database = NodePgDatabase<typeof schema>
/** A transaction or the database: commands take this so callers can compose them in one transaction. */
export type Executor = Parameters<Parameters<Database['transaction']>[0]>[0] | Database

export type Engine = 'postgres' | 'pglite'

export type DatabaseHandle = {
  db: Database
  pool: pg.Pool
  engine: Engine
  /** PostgreSQL only: for connections that must be their own (LISTEN, pg-boss). */
  connectionString?: string
  /**
   * Embedded owner only: every NOTIFY committed by any client of the embedded database. PGlite is
   * one backend, so a notification is delivered to the connection that committed it, not to the
   * one that issued LISTEN; the socket server picks them all up (pglite-server.ts) and
   * db/listen.ts turns this into the same LISTEN API as PostgreSQL.
   */
  notifications?: EventEmitter<{ notification: [channel: string, payload: string] }>
  /** Embedded only: the directory of the Unix socket other local processes connect through. */
  socketDir?: string
  /** For the embedded engine: whether this process owns PGlite or reached another process's through its socket. */
  mode: 'owner' | 'shared' | 'server'
  close(): Promise<void>
}

/**
 * node-postgres returns int8 (count(*), bigint columns) as strings; make them numbers so
 * both engines give the same result types. Counts in this product stay far below 2^53.
 * Set on pg's global parsers because Drizzle's per-query parsers fall back to them.
 */
pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => Number(value))

function poolFor(config: pg.PoolConfig): pg.Pool {
  const pool = new pg.Pool(config)
  // An idle client that loses its connection must not crash the process; the next query reconnects.
  pool.on('error', () => {})
  return pool
}

function handleFor(pool: pg.Pool, engine: Engine, mode: DatabaseHandle['mode'], close: () => Promise<void>): DatabaseHandle {
  const db = drizzle(pool, { schema })
  recordEngine(db, engine)
  return { db, pool, engine, mode, close }
}

export function openPostgres(connectionString: string, max = 10): DatabaseHandle {
  const pool = poolFor({ connectionString, max })
  return { ...handleFor(pool, 'postgres', 'server', () => pool.end()), connectionString }
}

const SOCKET_PORT = 5432
const socketFile = (socketDir: string) => path.join(socketDir, `.s.PGSQL.${SOCKET_PORT}`)

/**
 * Runs PGlite in this process and serves it on a Unix socket, and connects node-postgres to
 * that socket. The app always speaks node-postgres: the socket's multiplexer keeps each
 * connection's transaction to itself, which PGlite's in-process API cannot do once a second
 * client (the CLI beside `serve`) shares the database.
 */
export async function startEmbedded(options: { pgdata: string | undefined; socketDir: string }): Promise<DatabaseHandle> {
  mkdirSync(options.socketDir, { recursive: true })
  const file = socketFile(options.socketDir)
  if (file.length > 100) throw new Error(`DATA_DIR path is too long for a Unix socket (${file}); use a shorter path`)
  rmSync(file, { force: true })
  // Loaded only when used: PGlite's module costs ~200 MB of heap, which a PostgreSQL deployment should not pay.
  const [{ PGlite }, { PgliteServer }] = await Promise.all([import('@electric-sql/pglite'), import('./pglite-server.ts')])
  const pglite = options.pgdata ? await PGlite.create(options.pgdata) : await PGlite.create()
  const notifications = new EventEmitter<{ notification: [string, string] }>()
  const server = new PgliteServer(pglite, (channel, payload) => notifications.emit('notification', channel, payload))
  await server.listen(file)
  const pool = poolFor({ host: options.socketDir, port: SOCKET_PORT, user: 'postgres', database: 'postgres', max: 8 })
  const handle = handleFor(pool, 'pglite', 'owner', async () => {
    await pool.end()
    await server.close()
    await pglite.close()
    rmSync(file, { force: true })
  })
  return { ...handle, notifications, socketDir: options.socketDir }
}

/** Connects to the embedded database that another process (usually `serve`) owns. */
export function connectShared(socketDir: string, max = 2): DatabaseHandle {
  const pool = poolFor({ host: socketDir, port: SOCKET_PORT, user: 'postgres', database: 'postgres', max })
  return { ...handleFor(pool, 'pglite', 'shared', () => pool.end()), socketDir }
}

export type OpenOptions = {
  databaseUrl: string | undefined
  dataDir: string
  /** What this process is, for the lock file and the error a second process prints. */
  command: string
  /** `serve` and `worker` must own the embedded database; CLI commands may share a running server's. */
  allowShared: boolean
}

export async function openDatabase(options: OpenOptions): Promise<DatabaseHandle> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl)
  const owner = readLockOwner(options.dataDir)
  if (owner) {
    if (!options.allowShared || !existsSync(socketFile(options.dataDir))) throw new DataDirLockedError(options.dataDir, owner)
    return connectShared(options.dataDir)
  }
  const release = acquireDataDirLock(options.dataDir, options.command)
  try {
    const handle = await startEmbedded({ pgdata: path.join(options.dataDir, 'pgdata'), socketDir: options.dataDir })
    return {
      ...handle,
      close: async () => {
        try {
          await handle.close()
        } finally {
          release()
        }
      },
    }
  } catch (error) {
    release()
    throw error
  }
}
