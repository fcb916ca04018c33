import { timingSafeEqual } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { FastifyInstance } from 'fastify'
import type { HttpDeps } from '../../http/deps.ts'
import { notFound, unauthenticated } from '../../lib/errors.ts'
import { createMetricsRegistry, type Metrics } from './registry.ts'

const sameToken = (given: string, expected: string) => {
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

/**
 * `GET /metrics` (Prometheus text format) on the app's port, for a request bearing METRICS_TOKEN
 * (404 when none is configured, so the endpoint is not there to probe); and every request's latency.
 */
export function registerMetricsRoutes(app: FastifyInstance, { db, config }: HttpDeps): Metrics {
  const metrics = createMetricsRegistry(db)
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url
    if (!route || route === '/metrics') return
    metrics.http.observe(
      { method: request.method, route, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    )
  })
  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    const expected = config.metricsToken
    if (!expected) throw notFound('Metrics')
    const header = request.headers.authorization ?? ''
    if (!header.startsWith('Bearer ') || !sameToken(header.slice(7), expected))
      throw unauthenticated('Send METRICS_TOKEN as a bearer token')
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics())
  })
  return metrics
}

/** METRICS_PORT: `/metrics` without a token on a port of its own (bind it to a private network). */
export async function startMetricsServer(metrics: Metrics, port: number, host: string): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url !== '/metrics') {
      response.writeHead(404).end()
      return
    }
    metrics.registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      () => response.writeHead(500).end('metrics unavailable'),
    )
  })
  await new Promise<void>((resolve) => server.listen(port, host, resolve))
  return server
}
