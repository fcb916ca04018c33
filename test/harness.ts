import { randomBytes } from 'node:crypto'
import type { FastifyInstance, InjectOptions } from 'fastify'
import type { DatabaseHandle } from '../src/db/engine.ts'
import { buildApp } from '../src/http/app.ts'
import { loadConfig } from '../src/lib/config.ts'
import { SecretBox } from '../src/lib/crypto.ts'
import { createLogger } from '../src/lib/logger.ts'
import type { SignInLimits } from '../src/modules/access/sign-in.ts'
import { openTestDatabase } from './database.ts'
import { Factories } from './factories.ts'

export const ORIGIN = 'http://localhost:80'

export type TestContext = Awaited<ReturnType<typeof createTestContext>>

/** One app on one fresh database per test file; every log line it writes is kept for inspection. */
export async function createTestContext(options: { signInLimits?: SignInLimits } = {}) {
  const handle: DatabaseHandle = await openTestDatabase()
  const logs: string[] = []
  const logger = createLogger('trace', { write: (line: string) => void logs.push(line) })
  const config = loadConfig({ DATA_DIR: '/nonexistent', LOG_LEVEL: 'trace' })
  const secrets = new SecretBox(randomBytes(32))
  const app: FastifyInstance = await buildApp({ handle, config, secrets, logger, signInLimits: options.signInLimits })
  const factories = new Factories(handle.db, secrets)
  return {
    app,
    handle,
    db: handle.db,
    secrets,
    logs,
    factories,
    /** A request with a bearer token (or none). */
    request: (opts: InjectOptions & { token?: string | undefined }) => {
      const { token, ...rest } = opts
      return app.inject({ ...rest, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...rest.headers } })
    },
    close: async () => {
      await app.close()
      await handle.close()
    },
  }
}

export const errorOf = (body: string) => (JSON.parse(body) as { error: { code: string; message: string; details?: unknown } }).error
