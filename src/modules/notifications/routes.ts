import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { HttpDeps } from '../../http/deps.ts'
import { responses } from '../../http/schemas.ts'
import { decodeCursor, encodeCursor } from '../../lib/cursor.ts'
import { notFound } from '../../lib/errors.ts'
import { UUID_PATTERN } from '../../lib/ids.ts'
import { notificationResponse, presentNotification } from './presenter.ts'
import { countUnread, listNotifications, markAllRead, markRead } from './repository.ts'

const listQuery = z.strictObject({
  unread: z.enum(['true', 'false'], { error: 'must be true or false' }).optional(),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number({ error: 'must be a number' }).int().min(1).max(200).default(50),
})

export function registerNotificationRoutes(app: FastifyInstance, { db, auth }: HttpDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>()
  const tags = ['notifications']

  r.get(
    '/api/notifications',
    {
      schema: {
        tags,
        summary: "The caller's notifications, newest first, with the unread count",
        querystring: listQuery,
        response: responses({
          200: z.object({
            data: z.array(notificationResponse),
            next_cursor: z.string().nullable(),
            unread_count: z.number(),
          }),
        }),
      },
    },
    async (request) => {
      const { user } = await auth.principalOf(request)
      const { limit } = request.query
      const rows = await listNotifications(db, user.id, {
        unreadOnly: request.query.unread === 'true',
        cursor: decodeCursor(request.query.cursor),
        limit: limit + 1,
      })
      const page = rows.slice(0, limit)
      const last = page.at(-1)
      return {
        data: page.map(presentNotification),
        next_cursor:
          rows.length > limit && last ? encodeCursor({ at: last.createdAt.toISOString(), id: last.id }) : null,
        unread_count: await countUnread(db, user.id),
      }
    },
  )

  r.post(
    '/api/notifications/:id/read',
    {
      schema: {
        tags,
        summary: 'Mark one notification read',
        params: z.object({ id: z.string() }),
        response: responses({ 200: notificationResponse }),
      },
    },
    async (request) => {
      const { user } = await auth.principalOf(request)
      const row = UUID_PATTERN.test(request.params.id) ? await markRead(db, user.id, request.params.id) : undefined
      if (!row) throw notFound('Notification')
      return presentNotification(row)
    },
  )

  r.post(
    '/api/notifications/read-all',
    {
      schema: {
        tags,
        summary: 'Mark all of the caller’s notifications read',
        response: responses({ 200: z.object({ updated: z.number(), unread_count: z.number() }) }),
      },
    },
    async (request) => {
      const { user } = await auth.principalOf(request)
      return { updated: await markAllRead(db, user.id), unread_count: 0 }
    },
  )
}
