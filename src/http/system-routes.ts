import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { migrationsUpToDate } from '../db/migrate.ts'
import type { HttpDeps } from './deps.ts'

const health = z.object({ status: z.enum(['ok', 'unavailable']), checks: z.record(z.string(), z.string()).optional() })

export function registerSystemRoutes(app: FastifyInstance, { handle }: HttpDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>()
  r.get('/healthz', { schema: { tags: ['system'], summary: 'Liveness', response: { 200: health } } }, () => ({
    status: 'ok' as const,
  }))

  r.get(
    '/readyz',
    {
      schema: {
        tags: ['system'],
        summary: 'Readiness: database reachable and migrations applied',
        response: { 200: health, 503: health },
      },
    },
    async (_request, reply) => {
      const checks: Record<string, string> = {}
      try {
        await handle.pool.query('SELECT 1')
        checks.database = 'ok'
        checks.migrations = (await migrationsUpToDate(handle)) ? 'ok' : 'pending'
      } catch {
        checks.database = 'unreachable'
      }
      const ok = Object.values(checks).every((v) => v === 'ok')
      return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', checks })
    },
  )
}
