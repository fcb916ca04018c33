import type { FastifyInstance } from 'fastify'
import { openPostgres } from '../src/db/engine.ts'
import { runMigrations } from '../src/db/migrate.ts'
import { buildApp } from '../src/http/app.ts'
import { startOperations } from '../src/jobs/runtime.ts'
import { loadConfig } from '../src/lib/config.ts'
import { SecretBox } from '../src/lib/crypto.ts'
import { createLogger } from '../src/lib/logger.ts'
import { APP_KEY, withFreshPostgres } from './lib.ts'

/**
 * The HTTP app on a fresh, migrated PostgreSQL database (`BENCH_DATABASE_URL`), without a worker, for
 * benchmarks that time requests through it (`app.inject`: authentication, the queries, presentation);
 * closed and the database dropped afterwards.
 */
export async function withBenchApp<T>(
  run: (bench: { handle: ReturnType<typeof openPostgres>; app: FastifyInstance }) => Promise<T>,
): Promise<T> {
  return withFreshPostgres(async (url) => {
    const handle = openPostgres(url, 8)
    const logger = createLogger('silent')
    const secrets = new SecretBox(Buffer.from(APP_KEY, 'base64'))
    await runMigrations(handle)
    const operations = await startOperations({
      handle,
      logger,
      worker: false,
      shipped: { secrets, emulatorUrl: undefined },
    })
    const app = await buildApp({
      handle,
      engine: operations.engine,
      hub: operations.hub,
      config: loadConfig({ DATA_DIR: '/nonexistent' }),
      secrets,
      logger,
    })
    try {
      return await run({ handle, app })
    } finally {
      await app.close()
      await operations.stop()
      await handle.close()
    }
  })
}
