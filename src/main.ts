import { count } from 'drizzle-orm'
import type { FastifyInstance } from 'fastify'
import { type DatabaseHandle, openDatabase } from './db/engine.ts'
import { runMigrations } from './db/migrate.ts'
import { users } from './db/schema.ts'
import { buildApp } from './http/app.ts'
import { loadSecretBox } from './lib/app-key.ts'
import { verifyAppKey } from './modules/tenants/verify-app-key.ts'
import type { Config } from './lib/config.ts'
import { generatePassword } from './lib/crypto.ts'
import { createLogger, terminalDestination } from './lib/logger.ts'
import { createUser } from './modules/access/create-user.ts'
import { type Operations, startOperations } from './jobs/runtime.ts'
import { consoleUrlOf } from './modules/alerts/routes.ts'
import { DEFAULT_RETENTION } from './modules/operations/retention.ts'
import { attachDemoTenant, createDemoTenant, DEMO } from './demo.ts'
import { type EmulatorServer, startEmulator } from './emulator/server.ts'
import type { GraphClient } from './graph/graph-client.ts'

export const FIRST_ADMIN_EMAIL = 'admin@tenantatlas.local'

const retentionOf = (config: Config) => ({ ...DEFAULT_RETENTION, runDays: config.runRetentionDays })
const alertsOf = (config: Config) => ({ consoleUrl: consoleUrlOf(config), mail: config.mail })
const fullReadAfterMs = (config: Config) => config.quickSyncFullReadDays * 24 * 60 * 60 * 1000

export type ServeOptions = {
  port: number
  worker: boolean
  /** The Graph client the shipped handlers read with (benchmarks raise its per-tenant budget); the default otherwise. */
  graph?: GraphClient
}
export type Running = { app: FastifyInstance; handle: DatabaseHandle; url: string; stop(): Promise<void> }

/** First start on an empty database: an admin to sign in with, its password shown once. */
async function ensureFirstAdmin(handle: DatabaseHandle): Promise<{ email: string; password: string } | null> {
  const [row] = await handle.db.select({ n: count() }).from(users)
  if ((row?.n ?? 0) > 0) return null
  const password = generatePassword()
  await createUser(handle.db, { kind: 'system' }, { email: FIRST_ADMIN_EMAIL, name: 'Admin', password, is_admin: true })
  return { email: FIRST_ADMIN_EMAIL, password }
}

/** `serve`: migrate, make sure someone can sign in, start the operations engine, serve the web app. */
export async function serve(config: Config, options: ServeOptions, print: (line: string) => void): Promise<Running> {
  // On a terminal, readable lines without the routine request noise; JSON lines (for collectors) otherwise.
  const logger = createLogger(
    config.logLevel,
    process.stdout.isTTY && process.env.LOG_FORMAT !== 'json' ? terminalDestination() : undefined,
  )
  const secrets = loadSecretBox(config)
  const handle = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, role: 'serve' })
  let app: FastifyInstance | undefined
  let operations: Operations | undefined
  let emulator: EmulatorServer | undefined
  let firstAdmin: { email: string; password: string } | null
  let demo: boolean
  let emulatorUrl: string
  try {
    const { applied } = await runMigrations(handle)
    if (applied > 0) logger.info({ applied }, 'migrations applied')
    await verifyAppKey(handle.db, secrets)
    // Without GRAPH_EMULATOR_URL, tenants of the `emulator` cloud (the demo) read from one in this process.
    emulatorUrl = config.graphEmulatorUrl ?? (emulator = await startEmulator({ port: 0, host: '127.0.0.1' })).url
    firstAdmin = await ensureFirstAdmin(handle)
    if (firstAdmin) await createDemoTenant(handle.db, secrets, firstAdmin.email)
    demo = await attachDemoTenant(handle.db, secrets, emulatorUrl, logger)
    operations = await startOperations({
      handle,
      logger,
      worker: options.worker,
      retention: retentionOf(config),
      shipped: { secrets, emulatorUrl, graph: options.graph, fullReadAfterMs: fullReadAfterMs(config) },
      alerts: alertsOf(config),
    })
    app = await buildApp({
      handle,
      config: { ...config, graphEmulatorUrl: emulatorUrl },
      secrets,
      logger,
      engine: operations.engine,
      hub: operations.hub,
    })
    await app.listen({ port: options.port, host: config.host })
  } catch (error) {
    await app?.close()
    await operations?.stop()
    await handle.close()
    await emulator?.close()
    throw error
  }
  const ops = operations
  const address = app.server.address()
  const port = typeof address === 'object' && address ? address.port : options.port
  const url = config.publicUrl ?? `http://localhost:${port}`
  // One write, so that whoever reads the output gets the URL and the sign-in together.
  const banner = ['', `  TenantAtlas is running at ${url}`]
  banner.push(
    `  Database: ${handle.engine === 'embedded' ? `embedded PostgreSQL cluster in ${config.dataDir}` : 'PostgreSQL (DATABASE_URL)'}`,
  )
  banner.push(`  Graph emulator at ${emulatorUrl}${emulator ? ' (built in)' : ''}`)
  if (demo)
    banner.push(
      `  Demo tenant: ${DEMO.name} (an emulated Microsoft tenant; run an inventory sync from its Inventory page)`,
    )
  if (firstAdmin) {
    banner.push(`  First start: sign in as ${firstAdmin.email} with password ${firstAdmin.password}`)
    banner.push('  (the password is shown this once; add users with `npm run cli -- user create`)')
  }
  print(banner.join('\n') + '\n')
  const running = app
  let stopping: Promise<void> | undefined
  return {
    app: running,
    handle,
    url,
    stop: () =>
      (stopping ??= (async () => {
        await running.close() // stops accepting, lets in-flight requests finish
        await ops.stop() // hands in-flight runs back at once
        await handle.close()
        await emulator?.close()
      })()),
  }
}

/** `worker`: the operations engine alone (beside `serve` on the embedded cluster, or for scale-out with DATABASE_URL). */
export async function work(config: Config, print: (line: string) => void): Promise<{ stop(): Promise<void> }> {
  const logger = createLogger(config.logLevel)
  const handle = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, role: 'worker' })
  try {
    await runMigrations(handle)
    const shipped = {
      secrets: loadSecretBox(config),
      emulatorUrl: config.graphEmulatorUrl,
      fullReadAfterMs: fullReadAfterMs(config),
    }
    await verifyAppKey(handle.db, shipped.secrets)
    const operations = await startOperations({
      handle,
      logger,
      worker: true,
      retention: retentionOf(config),
      shipped,
      alerts: alertsOf(config),
    })
    print(
      `TenantAtlas worker running (${handle.engine === 'embedded' ? `embedded PostgreSQL cluster in ${config.dataDir}` : 'PostgreSQL'})`,
    )
    return {
      stop: async () => {
        await operations.stop()
        await handle.close()
      },
    }
  } catch (error) {
    await handle.close()
    throw error
  }
}
