import { randomBytes } from 'node:crypto'
import type { FastifyInstance, InjectOptions } from 'fastify'
import type { DatabaseHandle } from '../src/db/engine.ts'
import { buildApp } from '../src/http/app.ts'
import { loadConfig, type Config } from '../src/lib/config.ts'
import { SecretBox } from '../src/lib/crypto.ts'
import { createLogger } from '../src/lib/logger.ts'
import type { SignInLimits } from '../src/modules/access/sign-in.ts'
import { openTestDatabase } from './database.ts'
import { startOperations } from '../src/jobs/runtime.ts'
import type { Catalog } from '../src/modules/operations/catalog.ts'
import type { Handlers } from '../src/modules/operations/handlers.ts'
import type { EngineTimings } from '../src/modules/operations/engine.ts'
import { Factories } from './factories.ts'
import type { GraphClient } from '../src/graph/graph-client.ts'

export const ORIGIN = 'http://localhost:80'

export type TestContext = Awaited<ReturnType<typeof createTestContext>>

export type TestContextOptions<K extends string> = {
  signInLimits?: SignInLimits
  /** Operation types registered by the test (the shipped catalog otherwise). */
  catalog?: Catalog<K>
  handlers?: Handlers<K>
  timings?: Partial<EngineTimings>
  worker?: boolean
  /** The Graph emulator the shipped inventory sync reads tenants of the `emulator` cloud from. */
  emulatorUrl?: string
  /** The Graph client the inventory sync reads with (a retry policy of the test's own). */
  graph?: GraphClient
  /** Configuration the test sets beyond the defaults (sign-in with Entra ID, password sign-in off). */
  config?: Partial<Config>
}

/** One app on one fresh database per test file; every log line it writes is kept for inspection. */
export async function createTestContext<K extends string = string>(options: TestContextOptions<K> = {}) {
  const handle: DatabaseHandle = await openTestDatabase()
  const logs: string[] = []
  const logger = createLogger('trace', { write: (line: string) => void logs.push(line) })
  const config = {
    ...loadConfig({ DATA_DIR: '/nonexistent', LOG_LEVEL: 'trace' }),
    graphEmulatorUrl: options.emulatorUrl,
    ...options.config,
  }
  const secretKey = randomBytes(32)
  const secrets = new SecretBox(secretKey)
  const operations = await startOperations({
    handle,
    logger,
    worker: options.worker ?? true,
    catalog: options.catalog,
    handlers: options.handlers,
    shipped: { secrets, emulatorUrl: options.emulatorUrl, graph: options.graph },
    timings: {
      heartbeatMs: 200,
      staleAfterMs: 1_500,
      reaperIntervalMs: 60_000,
      cancelTimeoutMs: 3_000,
      vanishedAfterMs: 1_000,
      pollingIntervalSeconds: 0.5,
      ...options.timings,
    },
  })
  const app: FastifyInstance = await buildApp({
    handle,
    config,
    secrets,
    logger,
    signInLimits: options.signInLimits,
    engine: operations.engine,
    hub: operations.hub,
  })
  const factories = new Factories(handle.db, secrets)
  return {
    app,
    operations,
    engine: operations.engine,
    handle,
    db: handle.db,
    secrets,
    /** The key behind `secrets`, for a worker in another process. */
    secretKey,
    logs,
    factories,
    /** A request with a bearer token (or none). */
    request: (opts: InjectOptions & { token?: string | undefined }) => {
      const { token, ...rest } = opts
      return app.inject({
        ...rest,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...rest.headers },
      })
    },
    close: async () => {
      await app.close()
      await operations.stop()
      await handle.close()
    },
  }
}

export const errorOf = (body: string) =>
  (JSON.parse(body) as { error: { code: string; message: string; details?: unknown } }).error
