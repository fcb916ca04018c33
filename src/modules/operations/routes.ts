import type { ServerResponse } from 'node:http'
import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { HttpDeps } from '../../http/deps.ts'
import { listEnvelope, responses } from '../../http/schemas.ts'
import { decodeCursor, encodeCursor } from '../../lib/cursor.ts'
import { conflict, forbidden, notFound } from '../../lib/errors.ts'
import { UUID_PATTERN } from '../../lib/ids.ts'
import { canManageRun, type TenantAccess } from '../access/policy.ts'
import { tenantIdParams } from '../../http/schemas.ts'
import { presentRun, presentRunItem, runItemResponse, runResponse } from './presenter.ts'
import { findRun, listActiveRuns, listRunItems, listRuns, type RunWithNames } from './repository.ts'
import { rerunRun } from './rerun-run.ts'
import { decodeItemCursor, listRunItemsQuery, operationTypeResponse, runParams, listRunsQuery } from './schemas.ts'
import { loggableError } from '../../lib/unexpected-error.ts'

export function registerOperationRoutes(app: FastifyInstance, { db, auth, engine, hub }: HttpDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>()
  const tags = ['operations']
  // Open live streams end when the app closes: a hijacked response would otherwise hold the server's close until
  // every viewer disconnects (a browser reconnects after `retry`, to this process or another).
  const streams = new Set<ServerResponse>()
  app.addHook('preClose', (done) => {
    for (const res of streams) res.end()
    done()
  })
  const presenter = (access: TenantAccess) => (row: RunWithNames) => presentRun(engine.catalog, access, row)

  async function loadRun(tenantId: string, runId: string) {
    const row = UUID_PATTERN.test(runId) ? await findRun(db, tenantId, runId) : undefined
    if (!row) throw notFound('Run')
    return row
  }

  r.get(
    '/api/tenants/:tenantId/operation-runs',
    {
      config: { capability: 'operations.view' },
      schema: {
        tags,
        summary: 'Monitoring → Operations: runs of the tenant, newest first (keyset pagination)',
        params: tenantIdParams,
        querystring: listRunsQuery,
        response: responses({ 200: listEnvelope(runResponse) }),
      },
    },
    async (request) => {
      const { access } = await auth.tenantAccess(request, request.params.tenantId)
      const { cursor, limit, ...filters } = request.query
      const rows = await listRuns(db, access.tenantId, filters, { cursor: decodeCursor(cursor), limit: limit + 1 })
      const page = rows.slice(0, limit)
      const last = page.at(-1)
      return {
        data: page.map(presenter(access)),
        next_cursor:
          rows.length > limit && last ? encodeCursor({ at: last.run.createdAt.toISOString(), id: last.run.id }) : null,
      }
    },
  )

  r.get(
    '/api/tenants/:tenantId/operation-runs/active',
    {
      schema: {
        tags,
        summary: "The progress widget's data: the tenant's queued and running runs, whoever started them",
        params: tenantIdParams,
        response: responses({ 200: z.object({ data: z.array(runResponse), next_cursor: z.null() }) }),
      },
    },
    async (request) => {
      const { access } = await auth.tenantAccess(request, request.params.tenantId, 'operations.view')
      return { data: (await listActiveRuns(db, access.tenantId)).map(presenter(access)), next_cursor: null }
    },
  )

  r.get(
    '/api/tenants/:tenantId/operation-runs/:runId',
    { schema: { tags, summary: 'One run', params: runParams, response: responses({ 200: runResponse }) } },
    async (request) => {
      const { access } = await auth.tenantAccess(request, request.params.tenantId, 'operations.view')
      return presenter(access)(await loadRun(access.tenantId, request.params.runId))
    },
  )

  r.post(
    '/api/tenants/:tenantId/operation-runs/:runId/cancel',
    {
      schema: {
        tags,
        summary: 'Cancel a run: a queued run ends at once, a running one is asked to stop ("Cancelling…")',
        params: runParams,
        response: responses({ 202: runResponse }),
      },
    },
    async (request, reply) => {
      const { principal, access } = await auth.tenantAccess(request, request.params.tenantId, 'operations.manage')
      const row = await loadRun(access.tenantId, request.params.runId)
      if (!canManageRun(access, { initiatorUserId: row.run.initiatorUserId }))
        throw forbidden('Operators can cancel only the runs they started')
      if (engine.catalog.has(row.run.type) && !engine.catalog.spec(row.run.type).cancellable)
        throw conflict(`${engine.catalog.label(row.run.type)} runs cannot be cancelled`)
      await engine.cancelRun(auth.actorOf(request, principal), access.tenantId, row.run.id)
      return reply.code(202).send(presenter(access)(await loadRun(access.tenantId, row.run.id)))
    },
  )

  r.post(
    '/api/tenants/:tenantId/operation-runs/:runId/rerun',
    {
      schema: {
        tags,
        summary: "Re-run: starts the same type with the run's stored, validated input (deduplicated like any start)",
        params: runParams,
        response: responses({ 202: z.object({ run: runResponse, deduplicated: z.boolean() }) }),
      },
    },
    async (request, reply) => {
      const { principal, access } = await auth.tenantAccess(request, request.params.tenantId, 'operations.manage')
      const row = await loadRun(access.tenantId, request.params.runId)
      if (!canManageRun(access, { initiatorUserId: row.run.initiatorUserId }))
        throw forbidden('Operators can re-run only the runs they started')
      const { run, deduplicated } = await rerunRun(
        engine,
        access,
        auth.actorOf(request, principal),
        principal.user.id,
        row.run,
      )
      return reply.code(202).send({ run: presenter(access)(await loadRun(access.tenantId, run.id)), deduplicated })
    },
  )

  r.get(
    '/api/tenants/:tenantId/operation-runs/:runId/items',
    {
      schema: {
        tags,
        summary: "A run's per-item results in recording order (keyset pagination), optionally of one status",
        params: runParams,
        querystring: listRunItemsQuery,
        response: responses({ 200: listEnvelope(runItemResponse) }),
      },
    },
    async (request) => {
      const { access } = await auth.tenantAccess(request, request.params.tenantId, 'operations.view')
      const row = await loadRun(access.tenantId, request.params.runId)
      const { cursor, limit, status } = request.query
      const rows = await listRunItems(db, row.run.id, { status }, { after: decodeItemCursor(cursor), limit: limit + 1 })
      const page = rows.slice(0, limit)
      const last = page.at(-1)
      return { data: page.map(presentRunItem), next_cursor: rows.length > limit && last ? String(last.id) : null }
    },
  )

  r.get(
    '/api/operation-types',
    {
      schema: {
        tags,
        summary:
          'Every operation type: label, description, starting capability, what runs of it allow, failure codes with their fixes',
        response: responses({ 200: z.object({ data: z.array(operationTypeResponse) }) }),
      },
    },
    async (request) => {
      await auth.principalOf(request)
      return { data: engine.catalog.describe() }
    },
  )

  r.get(
    '/api/tenants/:tenantId/events',
    {
      schema: {
        tags,
        summary:
          'Server-Sent Events: `snapshot` (the active runs) on connect, then `run.updated` (body: a run) for runs of this tenant',
        params: tenantIdParams,
      },
    },
    async (request, reply) => {
      const { access } = await auth.tenantAccess(request, request.params.tenantId, 'operations.view')
      const res = reply.raw
      reply.hijack()
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
        'x-request-id': request.id,
      })
      let seq = 0
      const send = (event: string, data: unknown) => {
        res.write(`id: ${Date.now()}-${++seq}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`)
      }
      res.write('retry: 3000\n\n')
      // Keep proxies from closing an idle stream, and drop a viewer who lost access meanwhile.
      const heartbeat = setInterval(() => {
        auth.stillAllowed(request, access.tenantId, 'operations.view').then(
          (allowed) => (allowed ? res.write(': ping\n\n') : res.end()),
          () => res.end(),
        )
      }, 15_000)
      let unsubscribe: (() => void) | undefined
      const close = () => {
        clearInterval(heartbeat)
        streams.delete(res)
        unsubscribe?.()
      }
      streams.add(res)
      // Registered before the snapshot is read: a viewer who leaves meanwhile leaves nothing behind.
      res.once('close', close)
      try {
        unsubscribe = await hub.subscribe(access.tenantId, {
          access,
          runUpdated: (run) => send('run.updated', run),
          snapshot: (active) => send('snapshot', { active }),
        })
      } catch (error) {
        request.log.error({ err: loggableError(error) }, 'live stream could not start')
        res.end()
        return
      }
      if (res.destroyed) close()
    },
  )
}
