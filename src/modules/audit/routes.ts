import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import type { HttpDeps } from '../../http/deps.ts'
import { cursorQuery, listEnvelope, responses } from '../../http/schemas.ts'
import { decodeCursor, encodeCursor } from '../../lib/cursor.ts'
import { tenantIdParams } from '../tenants/schemas.ts'
import { auditEventResponse, presentAuditEvent } from './presenter.ts'
import { listAuditEvents } from './repository.ts'

export function registerAuditRoutes(app: FastifyInstance, { db, auth }: HttpDeps) {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/tenants/:tenantId/audit-events',
    {
      config: { capability: 'audit.view' },
      schema: {
        tags: ['audit'],
        summary: "The tenant's audit trail, newest first",
        params: tenantIdParams,
        querystring: cursorQuery,
        response: responses({ 200: listEnvelope(auditEventResponse) }),
      },
    },
    async (request) => {
      const { access } = await auth.tenantAccess(request, request.params.tenantId, 'audit.view')
      const rows = await listAuditEvents(db, access.tenantId, {
        cursor: decodeCursor(request.query.cursor),
        limit: request.query.limit + 1,
      })
      const page = rows.slice(0, request.query.limit)
      const last = page.at(-1)
      return {
        data: page.map(presentAuditEvent),
        next_cursor:
          rows.length > page.length && last
            ? encodeCursor({ at: last.event.createdAt.toISOString(), id: last.event.id })
            : null,
      }
    },
  )
}
