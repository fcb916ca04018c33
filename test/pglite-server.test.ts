import { mkdtempSync, rmSync } from 'node:fs'
import { createConnection } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DatabaseHandle, startEmbedded } from '../src/db/engine.ts'

// The embedded engine's socket server, tested as clients see it (these run on PGlite whatever the suite's engine).
let handle: DatabaseHandle
let dir: string
beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'ta-pgs-'))
  handle = await startEmbedded({ pgdata: undefined, socketDir: dir })
  await handle.pool.query('CREATE TABLE t (id int PRIMARY KEY)')
})
afterAll(async () => {
  await handle.close()
  rmSync(dir, { recursive: true, force: true })
})

const client = async () => {
  const c = new pg.Client({ host: dir, port: 5432, user: 'postgres', database: 'postgres' })
  await c.connect()
  return c
}

describe('PGlite socket server', () => {
  it('keeps every client’s parameterised queries apart under concurrency', async () => {
    const results = await Promise.all(Array.from({ length: 500 }, (_, i) => handle.pool.query<{ v: number }>(i % 2 ? 'SELECT $1::int AS v' : 'SELECT $1::int + 0 AS v, 1 AS w', [i])))
    expect(results.map((r) => r.rows[0]!.v)).toEqual(Array.from({ length: 500 }, (_, i) => i))
  })

  it('isolates an open transaction: others wait, and never see uncommitted rows', async () => {
    const a = await client()
    await a.query('BEGIN')
    await a.query('INSERT INTO t VALUES (1)')
    const other = handle.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM t')
    await new Promise((resolve) => setTimeout(resolve, 50))
    await a.query('ROLLBACK')
    expect((await other).rows[0]!.n).toBe(0)
    await a.end()
  })

  it('rolls back the transaction of a client that vanishes, and serves the others', async () => {
    const a = await client()
    await a.query('BEGIN')
    await a.query('INSERT INTO t VALUES (2)')
    ;(a as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy()
    a.on('error', () => {})
    const { rows } = await handle.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM t WHERE id = 2')
    expect(rows[0]!.n).toBe(0)
  })

  it('drops a peer that does not speak PostgreSQL, without hanging', async () => {
    const socket = createConnection(path.join(dir, '.s.PGSQL.5432'))
    await new Promise((resolve) => socket.once('connect', resolve))
    const closed = new Promise((resolve) => socket.once('close', resolve))
    socket.write(Buffer.from([0, 0, 0, 0, 0, 0, 0, 0]))
    await closed
    expect((await handle.pool.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one).toBe(1)
  })

  it('reports SQL errors to the client and keeps going', async () => {
    await expect(handle.pool.query('SELECT nonsense')).rejects.toThrow(/column "nonsense" does not exist/)
    expect((await handle.pool.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one).toBe(1)
  })
})

describe('notifications on the embedded engine', () => {
  it('reach the owner process whichever client committed them, a CLI’s included', async () => {
    const { createListener } = await import('../src/db/listen.ts')
    const listener = createListener(handle)
    const heard: string[] = []
    await listener.listen('ta_test_channel', (payload) => heard.push(payload))
    const cli = await client() // another process's connection, as the CLI beside `serve` has
    await cli.query("SELECT pg_notify('ta_test_channel', 'from the cli')")
    await cli.query('BEGIN')
    await cli.query("SELECT pg_notify('ta_test_channel', 'rolled back')")
    await cli.query('ROLLBACK')
    await handle.pool.query("SELECT pg_notify('ta_test_channel', 'from the owner')")
    await cli.end()
    expect(heard).toEqual(['from the cli', 'from the owner'])
    await listener.close()
  })
})
