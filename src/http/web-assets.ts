import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import fastifyStatic from '@fastify/static'
import type { FastifyInstance, FastifyReply } from 'fastify'

/** Where `npm run build` (vite) writes the web console. */
export const WEB_DIST = path.resolve(import.meta.dirname, '../../web/dist')

/** The single-page app's own routes: each answers with index.html and the client router takes over. */
export const CONSOLE_ROUTES = [
  '/',
  '/login',
  '/overview',
  '/compare',
  '/compare/*',
  '/admin',
  '/admin/*',
  '/account/*',
  '/t/*',
] as const

/**
 * Serves the built web console: hashed assets under /assets/ with a year of immutable caching,
 * and index.html (never cached, so a deploy is picked up at the next navigation) for the
 * console's routes. Nothing here matches /api/*, /healthz or /readyz, so unknown API paths
 * keep their JSON 404.
 */
export async function registerWebAssets(app: FastifyInstance, dist = WEB_DIST) {
  const indexFile = path.join(dist, 'index.html')
  const sendIndex = async (reply: FastifyReply) => {
    // Read per request (it is small): a rebuild while serve runs is picked up at once.
    const indexHtml = await readFile(indexFile, 'utf8').catch(() => undefined)
    if (indexHtml === undefined) {
      return reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send(
          'The web console is not built: run `npm run build` (npm start does it for you).\nThe API is at /api/docs.',
        )
    }
    return reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(indexHtml)
  }
  for (const url of CONSOLE_ROUTES) app.get(url, { schema: { hide: true } }, (_request, reply) => sendIndex(reply))

  if (!existsSync(path.join(dist, 'assets'))) return
  await app.register(fastifyStatic, {
    root: path.join(dist, 'assets'),
    prefix: '/assets/',
    // File names carry a content hash: they never change.
    immutable: true,
    maxAge: '365d',
    index: false,
    list: false,
    wildcard: true,
    schemaHide: true,
  })
}
