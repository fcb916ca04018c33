import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { HttpDeps } from '../../http/deps.ts'
import { cursorQuery, listEnvelope, responses } from '../../http/schemas.ts'
import { decodeCursor, encodeCursor } from '../../lib/cursor.ts'
import { storableDate } from '../../lib/time.ts'
import { tenantIdParams } from '../../http/schemas.ts'
import { auditEventResponse, presentAuditEvent } from './presenter.ts'
import { listAuditEvents } from './repository.ts'

const date = (field: string) =>
  z
    .string()
    .max(40)
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value === '') return undefined
      const parsed = storableDate(value)
      if (!parsed) ctx.addIssue({ code: 'custom', message: `${field} must be an ISO 8601 date-time` })
      return parsed
    })

const auditQuery = cursorQuery.extend({
  actor: z.string().trim().max(200).optional().describe("A part of the actor's name or e-mail"),
  action: z
    .string()
    .trim()
    .max(100)
    .regex(/^[a-z_]+(\.[a-z_]+)?$/, { error: 'must be an action (backup.deleted) or its domain (backup)' })
    .optional(),
  since: date('since').describe('Events at or after this time (ISO 8601)'),
  until: date('until').describe('Events before this time (ISO 8601)'),
})

export function registerAuditRoutes(app: FastifyInstance, { db, auth }: HttpDeps) {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/tenants/:tenantId/audit-events',
    {
      config: { capability: 'audit.view' },
      schema: {
        tags: ['audit'],
        summary: "The tenant's audit trail, newest first",
        params: tenantIdParams,
        querystring: auditQuery,
        response: responses({ 200: listEnvelope(auditEventResponse) }),
      },
    },
    async (request) => {
      const { access } = await auth.tenantAccess(request, request.params.tenantId, 'audit.view')
      const rows = await listAuditEvents(db, access.tenantId, {
        cursor: decodeCursor(request.query.cursor),
        limit: request.query.limit + 1,
        filters: {
          actor: request.query.actor,
          action: request.query.action,
          since: request.query.since,
          until: request.query.until,
        },
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
