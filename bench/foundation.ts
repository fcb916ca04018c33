import { clusterPaths, connectionString } from '../src/db/cluster.ts'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { randomUUID } from 'node:crypto'
import { APP_KEY, cli, hasWrk, rssMiB, sleep, startServer, stopServer, withFreshPostgres, wrk } from './lib.ts'

const IDLE_SECONDS = 5
const WRK = { connections: 64, seconds: Number(process.env.BENCH_WRK_SECONDS ?? 30), threads: 2 }

/**
 * Fills a database the way a busy workspace would: users with tokens, tenants with members,
 * and an audit trail, through the CLI against the running server (so it also exercises the
 * embedded cluster beside the server) plus one bulk insert for the audit events.
 */
async function populate(_url: string, env: Record<string, string>) {
  const { default: pg } = await import('pg')
  const emails: string[] = []
  for (let i = 0; i < 5; i++) {
    const email = `bench-${i}-${randomUUID().slice(0, 6)}@example.com`
    cli(['user', 'create', '--email', email, '--name', `Bench ${i}`], {
      ...env,
      TENANTATLAS_PASSWORD: 'bench-password-1',
    })
    emails.push(email)
  }
  const tenantIds: string[] = []
  for (let i = 0; i < 5; i++) {
    const id = cli(
      ['tenant', 'add', '--name', `Bench tenant ${i}`, '--entra-tenant-id', randomUUID(), '--client-id', randomUUID()],
      { ...env, TENANTATLAS_CLIENT_SECRET: 'bench' },
    )
      .trim()
      .split('\n')
      .at(-1)!
    tenantIds.push(id)
    cli(['member', 'add', '--tenant', id, '--email', emails[0]!, '--role', 'owner'], env)
  }
  const token = cli(['token', 'create', '--email', emails[0]!, '--name', 'bench'], env).trim().split('\n').at(-1)!
  // 100,000 audit events: the table that grows fastest.
  const client = env.DATABASE_URL
    ? new pg.Client({ connectionString: env.DATABASE_URL })
    : new pg.Client({ connectionString: connectionString(clusterPaths(env.DATA_DIR!)) })
  await client.connect()
  await client.query(
    `INSERT INTO audit_events (id, tenant_id, actor_kind, action, metadata, created_at)
     SELECT gen_random_uuid(), ($1::uuid[])[1 + g % 5], 'system', 'bench.event', '{}'::jsonb, now() - (g || ' seconds')::interval
     FROM generate_series(1, 100000) g`,
    [tenantIds],
  )
  await client.end()
  return token
}

async function measureEngine(engine: 'embedded' | 'postgres', env: Record<string, string>) {
  // Empty data directory / database: migrations and the first admin happen in this start.
  const cold = await startServer(env)
  await sleep(IDLE_SECONDS * 1000)
  const idleRssEmpty = rssMiB(cold.child.pid!)
  const token = await populate(cold.url, env)
  const load = hasWrk()
    ? await wrk(`${cold.url}/api/me`, { ...WRK, headers: [`Authorization: Bearer ${token}`] })
    : null
  const rssAfterLoad = rssMiB(cold.child.pid!)
  await stopServer(cold)
  // Populated: the same data, a second start.
  const warm = await startServer(env)
  await sleep(IDLE_SECONDS * 1000)
  const idleRssPopulated = rssMiB(warm.child.pid!)
  await stopServer(warm)
  return {
    engine,
    startup_empty_ms: Math.round(cold.startupMs),
    startup_populated_ms: Math.round(warm.startupMs),
    idle_rss_empty_mib: idleRssEmpty,
    idle_rss_populated_mib: idleRssPopulated,
    rss_after_load_mib: rssAfterLoad,
    api_me: load,
  }
}

export async function runFoundationBench() {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'ta-bench-'))
  try {
    const embedded = await measureEngine('embedded', { DATA_DIR: dataDir })
    const postgres = await withFreshPostgres((url) =>
      measureEngine('postgres', { DATABASE_URL: url, APP_KEY, DATA_DIR: dataDir }),
    )
    return {
      wrk: { ...WRK, path: 'GET /api/me', auth: 'bearer token' },
      idle_seconds: IDLE_SECONDS,
      results: [embedded, postgres],
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true })
  }
}
