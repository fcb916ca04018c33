import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { readMigrationFiles } from 'drizzle-orm/migrator'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  assertReachable,
  clusterPaths,
  clusterUser,
  connectionString,
  initCluster,
  listModes,
  postmasterPid,
} from '../src/db/cluster.ts'
import { startEmulator, type EmulatorServer } from '../src/emulator/server.ts'
import { generateAppKey, hashPassword, parseAppKey, SecretBox, verifyPassword } from '../src/lib/crypto.ts'
import { uuidv7 } from '../src/lib/ids.ts'
import { readClientSecret } from '../src/modules/tenants/update-tenant.ts'
import { secretAssociatedData } from '../src/modules/tenants/add-tenant.ts'
import { PASSWORD } from './factories.ts'
import { cli, lastLine, type Server, signInFromBanner, startServer, stopServer } from './processes.ts'

const pollUntil = async <T>(
  what: string,
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 240_000,
): Promise<T> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await read()
    if (done(value)) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`)
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

/** A client of the cluster in DATA_DIR, as the app connects: its socket and generated password. */
async function query<T extends pg.QueryResultRow>(dataDir: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: connectionString(clusterPaths(dataDir)) })
  await client.connect()
  try {
    return (await client.query<T>(sql, params)).rows
  } finally {
    await client.end()
  }
}

// As root the cluster runs as `postgres`, which must pass through every folder above DATA_DIR and above the binaries
// in node_modules; the checks say which folder stops it. (Not root: the cluster runs as ourselves, nothing to check.)
describe.runIf(process.getuid?.() === 0)('a cluster whose user cannot reach its folders', () => {
  const closed = mkdtempSync(path.join(tmpdir(), 'ta-closed-')) // 0700, owned by root
  let owner: Awaited<ReturnType<typeof clusterUser>>
  beforeAll(async () => {
    owner = await clusterUser()
  })
  afterAll(() => rmSync(closed, { recursive: true, force: true }))

  it('names the folder and the fix for DATA_DIR, before initdb runs', async () => {
    const error = await initCluster(clusterPaths(path.join(closed, 'data'))).catch((e: unknown) => e as Error)
    expect(String(error)).toContain(`which cannot enter ${closed} (mode 700) on its way to DATA_DIR`)
    expect(String(error)).toContain(`chmod o+x ${closed}`)
    expect(existsSync(path.join(closed, 'data', 'pgdata'))).toBe(false)
  })

  it('names the folder and the fix for the binaries in node_modules (npm test in a checkout under /root)', () => {
    const bin = path.join(closed, 'checkout', 'node_modules', 'bin')
    mkdirSync(bin, { recursive: true })
    expect(() => assertReachable(bin, owner, 'the PostgreSQL binaries')).toThrow(
      `cannot enter ${closed} (mode 700) on its way to the PostgreSQL binaries: move the checkout (its node_modules) elsewhere`,
    )
  })
})

describe('the embedded PostgreSQL cluster in DATA_DIR', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'ta-embedded-'))
  let emulator: EmulatorServer
  let server: Server
  let cookie: string

  beforeAll(async () => {
    // An emulator of the test's own, so that the demo tenant's sync can be slowed down and outlive a killed server.
    emulator = await startEmulator({ port: 0, host: '127.0.0.1' })
    server = await startServer(dataDir, { GRAPH_EMULATOR_URL: emulator.url })
    cookie = await signInFromBanner(server)
  })
  afterAll(async () => {
    await stopServer(server)
    await emulator.close()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('keeps every file to its owner: no file of DATA_DIR is readable or writable by others, the cluster is 0600/0700', () => {
    const entries = listModes(dataDir)
    expect(entries.length).toBeGreaterThan(500)
    const open = entries.filter((e) => (e.mode & 0o077) !== 0)
    expect(open.map((e) => `${e.file} ${e.mode.toString(8)}`)).toEqual([])
    for (const name of ['app.key', 'postgres.password'])
      expect(statSync(path.join(dataDir, name)).mode & 0o777).toBe(0o600)
    // DATA_DIR itself: nobody else may list or write it (as root it stays traversable for the cluster's user).
    expect(statSync(dataDir).mode & 0o066).toBe(0)
  })

  it('listens on its Unix socket only, UTF-8, with the settings chosen for a small machine', async () => {
    const [settings] = await query<Record<string, string>>(
      dataDir,
      `SELECT current_setting('listen_addresses') AS listen, current_setting('server_encoding') AS encoding,
              current_setting('max_connections') AS max_connections, current_setting('shared_buffers') AS shared_buffers,
              current_setting('server_version_num') AS version`,
    )
    expect(settings).toMatchObject({ listen: '', encoding: 'UTF8', max_connections: '60', shared_buffers: '48MB' })
    expect(Number(settings!.version)).toBeGreaterThanOrEqual(180000)
    // Without the generated password, the socket lets nobody in.
    const intruder = new pg.Client({
      host: clusterPaths(dataDir).socketDir,
      port: 5432,
      user: 'postgres',
      password: 'guess',
      database: 'tenantatlas',
    })
    await expect(intruder.connect()).rejects.toThrow(/password authentication failed/)
  })

  it(
    'survives kill -9 of serve: the cluster is reused, the data is intact, the interrupted run recovers with one notification',
    { timeout: 300_000 },
    async () => {
      const me = (await (await fetch(`${server.url}/api/me`, { headers: { cookie } })).json()) as {
        tenants: { id: string; name: string }[]
      }
      const demo = me.tenants.find((t) => t.name === 'Contoso (demo)')!
      // Slow Graph down so the sync is still running when the server dies.
      await fetch(`${emulator.url}/_emulator/faults`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ latency_ms: 400 }),
      })
      const started = await fetch(`${server.url}/api/tenants/${demo.id}/inventory-sync`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json', origin: server.url },
        body: '{}',
      })
      expect(started.status).toBe(202)
      const { run } = (await started.json()) as { run: { id: string } }
      const runUrl = `${server.url}/api/tenants/${demo.id}/operation-runs/${run.id}`
      await pollUntil(
        'the run to be running',
        async () => ((await (await fetch(runUrl, { headers: { cookie } })).json()) as { status: string }).status,
        (s) => s === 'running',
      )

      const postmaster = postmasterPid(clusterPaths(dataDir))
      expect(postmaster).not.toBeNull()
      await stopServer(server, 'SIGKILL')
      // PostgreSQL outlives the killed server; the next one adopts it through its postmaster.pid.
      expect(postmasterPid(clusterPaths(dataDir))).toBe(postmaster)
      await fetch(`${emulator.url}/_emulator/faults`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ latency_ms: 0 }),
      })

      server = await startServer(dataDir, { GRAPH_EMULATOR_URL: emulator.url })
      expect(server.output()).not.toMatch(/First start/)
      expect(postmasterPid(clusterPaths(dataDir))).toBe(postmaster)
      // The session cookie of before the crash still works: the data is intact.
      const recovered = await pollUntil(
        'the interrupted run to be recovered and completed',
        async () =>
          (await (
            await fetch(`${server.url}/api/tenants/${demo.id}/operation-runs/${run.id}`, { headers: { cookie } })
          ).json()) as { status: string; outcome: string; attempt: number },
        (r) => r.status === 'completed',
      )
      expect(recovered).toMatchObject({ outcome: 'partially_succeeded', attempt: 2 })
      const notes = (await (await fetch(`${server.url}/api/notifications`, { headers: { cookie } })).json()) as {
        data: { url: string }[]
      }
      expect(notes.data.filter((n) => n.url.includes(run.id))).toHaveLength(1)
    },
  )

  it('answers CLI commands beside the running server, and a second serve gets a one-line error', async () => {
    const migrate = await cli(['migrate'], { env: { DATA_DIR: dataDir } })
    expect(migrate, migrate.stderr).toMatchObject({ code: 0 })
    expect(migrate.stdout).toMatch(/up to date/)
    const second = await cli(['serve', '--port', '0'], { env: { DATA_DIR: dataDir } })
    expect(second.code).toBe(1)
    expect(second.stderr.trim().split('\n')).toHaveLength(1)
    expect(second.stderr).toMatch(
      `another \`tenantatlas serve\` (process ${server.child.pid}) is running on ${dataDir}`,
    )
    // The CLI left the server's cluster running.
    expect(postmasterPid(clusterPaths(dataDir))).not.toBeNull()
  })
})

describe('processes starting on a new DATA_DIR at the same moment', () => {
  it('make one cluster between them; the last process out stops it', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'ta-race-'))
    try {
      const results = await Promise.all([1, 2, 3].map(() => cli(['migrate'], { env: { DATA_DIR: dataDir } })))
      for (const r of results) expect(r, r.stderr).toMatchObject({ code: 0 })
      expect(results.filter((r) => /Migrations applied: [1-9]/.test(r.stdout))).toHaveLength(1)
      expect(existsSync(path.join(dataDir, 'pgdata.init'))).toBe(false)
      // One password for the one cluster: a later command gets in with it.
      const again = await cli(['migrate'], { env: { DATA_DIR: dataDir } })
      expect(again, again.stderr).toMatchObject({ code: 0 })
      expect(postmasterPid(clusterPaths(dataDir))).toBeNull()
    } finally {
      rmSync(dataDir, { recursive: true, force: true })
    }
  })
})

describe('a postmaster.pid left behind', () => {
  it('whose PID now belongs to another program does not block start-up (issue 12, item 12)', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'ta-stale-'))
    const other = spawn('sleep', ['600'])
    try {
      expect((await cli(['migrate'], { env: { DATA_DIR: dataDir } })).code).toBe(0)
      expect(postmasterPid(clusterPaths(dataDir))).toBeNull()
      // As after a power cut: the file stays, and the PID in it is reused by an unrelated process.
      writeFileSync(path.join(dataDir, 'pgdata', 'postmaster.pid'), `${other.pid}\n${path.join(dataDir, 'pgdata')}\n`)
      const again = await cli(['migrate'], { env: { DATA_DIR: dataDir } })
      expect(again, again.stderr).toMatchObject({ code: 0 })
      expect(again.stdout).toMatch(/up to date/)
    } finally {
      other.kill()
      rmSync(dataDir, { recursive: true, force: true })
    }
  })
})

describe('a data directory of the earlier PGlite engine', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'ta-pglite-'))
  const appKey = generateAppKey()
  const secrets = new SecretBox(parseAppKey(appKey))
  const made: {
    userId: string
    email: string
    tenantId: string
    clientSecret: string
    counts: Record<string, number>
  } = {} as never

  beforeAll(async () => {
    // What the previous main made: DATA_DIR/app.key, DATA_DIR/pgdata (PGlite) at its two migrations, with data in every table.
    mkdirSync(dataDir, { recursive: true })
    writeFileSync(path.join(dataDir, 'app.key'), appKey + '\n', { mode: 0o600 })
    const { PGlite } = await import('@electric-sql/pglite')
    const pglite = await PGlite.create(path.join(dataDir, 'pgdata'))
    const migrationsFolder = fileURLToPath(new URL('../src/db/migrations', import.meta.url))
    const journal = JSON.parse(readFileSync(path.join(migrationsFolder, 'meta', '_journal.json'), 'utf8')) as {
      entries: { tag: string }[]
    }
    const pgliteEra = journal.entries.findIndex((e) => e.tag === '0001_inventory') + 1
    await pglite.exec(
      'CREATE SCHEMA drizzle; CREATE TABLE drizzle.__drizzle_migrations (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint)',
    )
    for (const migration of readMigrationFiles({ migrationsFolder }).slice(0, pgliteEra)) {
      for (const statement of migration.sql) if (statement.trim()) await pglite.exec(statement)
      await pglite.query('INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES ($1, $2)', [
        migration.hash,
        migration.folderMillis,
      ])
    }
    // Rows as the old schema has them (plain SQL: the product's schema has moved on since).
    const userId = uuidv7()
    const tenantId = uuidv7()
    const runId = uuidv7()
    const email = `imported-${randomUUID().slice(0, 8)}@example.com`
    made.clientSecret = 'the-tenant-client-secret'
    await pglite.query('INSERT INTO users (id, email, name, password_hash, is_admin) VALUES ($1, $2, $3, $4, true)', [
      userId,
      email,
      'Imported Admin',
      await hashPassword(PASSWORD),
    ])
    await pglite.query(
      'INSERT INTO api_tokens (id, user_id, name, token_hash, display_prefix) VALUES ($1, $2, $3, $4, $5)',
      [uuidv7(), userId, 'script', 'hash', 'ta_pat_abc'],
    )
    await pglite.query(
      'INSERT INTO tenants (id, name, entra_tenant_id, client_id, client_secret_encrypted, cloud) VALUES ($1, $2, $3, $4, $5, $6)',
      [
        tenantId,
        'Imported',
        randomUUID(),
        randomUUID(),
        secrets.encrypt(made.clientSecret, secretAssociatedData(tenantId)),
        'emulator',
      ],
    )
    await pglite.query(`INSERT INTO tenant_memberships (tenant_id, user_id, role) VALUES ($1, $2, 'owner')`, [
      tenantId,
      userId,
    ])
    await pglite.query(
      `INSERT INTO audit_events (id, tenant_id, actor_kind, action, metadata) VALUES ($1, $2, 'system', 'tenant.created', '{"name": "Imported"}')`,
      [uuidv7(), tenantId],
    )
    await pglite.query(
      `INSERT INTO operation_runs (id, tenant_id, type, status, outcome, initiator_user_id, identity_key, context) VALUES ($1, $2, 'inventory.sync', 'completed', 'succeeded', $3, 'k', '{"selection": {}}')`,
      [runId, tenantId, userId],
    )
    await pglite.query(
      `INSERT INTO notifications (id, user_id, run_id, kind, title, body, url) VALUES ($1, $2, $3, 'operation_run.completed', 'Inventory sync completed', '1 created', '/x')`,
      [uuidv7(), userId, runId],
    )
    await pglite.query(
      `INSERT INTO inventory_items (id, tenant_id, policy_type, external_id, display_name, category, platform, payload, assignments, content_hash, first_seen_run_id, last_seen_run_id)
       VALUES ($1, $2, 'deviceConfiguration', 'ext-1', 'Ünïcode ✓ policy', 'configuration', 'windows', $3, $4, 'h', $5, $5)`,
      [
        uuidv7(),
        tenantId,
        JSON.stringify({ nested: { list: [1, 'two', null] } }),
        JSON.stringify([{ target: { groupId: 'g-1' } }]),
        runId,
      ],
    )
    const user = { id: userId, email }
    const tenant = { id: tenantId }
    Object.assign(made, { userId: user.id, email: user.email, tenantId: tenant.id })
    made.counts = {}
    for (const { name } of (
      await pglite.query<{ name: string }>(`SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'`)
    ).rows) {
      made.counts[name] = (await pglite.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${name}"`)).rows[0]!.n
    }
    await pglite.close()
  })
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

  it('is refused by serve with a message naming the import command', async () => {
    const result = await cli(['serve', '--port', '0'], { env: { DATA_DIR: dataDir } })
    expect(result.code).toBe(1)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
    expect(result.stderr).toMatch(`data import-pglite --from ${dataDir}`)
  })

  it('moves into the new cluster with `data import-pglite`: users, tenants with their encrypted secrets, inventory, runs, notifications, audit', async () => {
    const result = await cli(['data', 'import-pglite', '--from', dataDir], { env: { DATA_DIR: dataDir } })
    expect(result, result.stderr).toMatchObject({ code: 0 })
    expect(lastLine(result.stdout)).toBe(dataDir)
    expect(existsSync(path.join(dataDir, 'pgdata.pglite', 'PG_VERSION'))).toBe(true)
    // The command started the cluster for itself and stopped it after.
    expect(postmasterPid(clusterPaths(dataDir))).toBeNull()

    // A CLI command starts it again; its data is what PGlite held, and the migrations added since are applied.
    expect((await cli(['migrate'], { env: { DATA_DIR: dataDir } })).stdout).toMatch(/up to date/)
    const server = await startServer(dataDir)
    try {
      for (const [table, n] of Object.entries(made.counts)) {
        const [row] = await query<{ n: number }>(dataDir, `SELECT count(*)::int AS n FROM "${table}"`)
        expect({ table, n: row!.n }).toEqual({ table, n })
      }
      expect(made.counts).toMatchObject({
        users: 1,
        tenants: 1,
        tenant_memberships: 1,
        api_tokens: 1,
        operation_runs: 1,
        notifications: 1,
        inventory_items: 1,
      })
      expect(made.counts.audit_events).toBeGreaterThan(0)
      const [tenant] = await query<{ client_secret_encrypted: string }>(
        dataDir,
        'SELECT * FROM tenants WHERE id = $1',
        [made.tenantId],
      )
      expect(
        readClientSecret(secrets, { id: made.tenantId, clientSecretEncrypted: tenant!.client_secret_encrypted }),
      ).toBe(made.clientSecret)
      const [user] = await query<{ password_hash: string }>(dataDir, 'SELECT password_hash FROM users WHERE id = $1', [
        made.userId,
      ])
      expect(await verifyPassword(PASSWORD, user!.password_hash)).toBe(true)
      const [item] = await query<{ display_name: string; payload: unknown }>(
        dataDir,
        'SELECT display_name, payload FROM inventory_items',
      )
      expect(item).toEqual({ display_name: 'Ünïcode ✓ policy', payload: { nested: { list: [1, 'two', null] } } })
      // The imported admin signs in to the new server with the old password.
      const signIn = await fetch(`${server.url}/api/auth/sign-in`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: made.email, password: PASSWORD }),
      })
      expect(signIn.status).toBe(200)
    } finally {
      await stopServer(server)
    }
  })

  it('refuses a second import over the data it already moved', async () => {
    const again = await cli(['data', 'import-pglite', '--from', dataDir], { env: { DATA_DIR: dataDir } })
    expect(again.code).toBe(1)
    expect(again.stderr).toMatch(/already holds an embedded PostgreSQL cluster/)
  })
})
