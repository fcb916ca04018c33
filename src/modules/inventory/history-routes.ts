import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { CHANGE_KINDS } from '../../db/schema.ts'
import type { HttpDeps } from '../../http/deps.ts'
import { cursorQuery, listEnvelope, responses } from '../../http/schemas.ts'
import { decodeCursor, encodeCursor } from '../../lib/cursor.ts'
import { notFound, validationError } from '../../lib/errors.ts'
import { UUID_PATTERN } from '../../lib/ids.ts'
import { storableDate } from '../../lib/time.ts'
import { tenantIdParams } from '../../http/schemas.ts'
import { itemDiff } from './item-diff.ts'
import {
  changeResponse,
  diffResponse,
  presentChange,
  presentVersion,
  versionDetailResponse,
  versionResponse,
} from './history-presenter.ts'
import { findVersion, listChanges, listVersions } from './history.ts'
import { findItem } from './repository.ts'

const itemParams = z.object({ tenantId: z.string(), itemId: z.string() })
const versionParams = itemParams.extend({ versionId: z.string() })

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

const changesQuery = cursorQuery.extend({
  since: date('since').describe('Changes detected at or after this time (ISO 8601)'),
  until: date('until').describe('Changes detected before this time (ISO 8601)'),
  type: z.string().max(100).optional().describe('A policy type key'),
  kind: z.enum(CHANGE_KINDS, { error: `must be one of ${CHANGE_KINDS.join(', ')}` }).optional(),
  item_id: z.string().max(40).optional().describe('Only the changes of this item'),
})

const versionNumber = (field: string) =>
  z.coerce
    .number({ error: 'must be a version number' })
    .int({ error: 'must be a version number' })
    .min(1, { error: 'must be a version number (1 or more)' })
    .optional()
    .describe(`The ${field} version's number`)

const diffQuery = z.object({ from: versionNumber('older'), to: versionNumber('newer') })

export function registerHistoryRoutes(app: FastifyInstance, { db, auth }: HttpDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>()

  /** The item of the caller's tenant, or a 404. */
  const itemOf = async (tenantId: string, itemId: string) => {
    const row = await findItem(db, tenantId, itemId)
    if (!row) throw notFound('Item')
    return row.item
  }

  r.get(
    '/api/tenants/:tenantId/inventory/items/:itemId/versions',
    {
      schema: {
        tags: ['inventory'],
        summary: "An item's versions, newest first",
        params: itemParams,
        response: responses({ 200: z.object({ data: z.array(versionResponse) }) }),
      },
    },
    async (request) => {
      const { access } = await auth.tenantAccess(request, request.params.tenantId, 'tenant.view')
      const item = await itemOf(access.tenantId, request.params.itemId)
      return { data: (await listVersions(db, access.tenantId, item.id)).map(presentVersion) }
    },
  )

  r.get(
    '/api/tenants/:tenantId/inventory/items/:itemId/versions/:versionId',
    {
      schema: {
        tags: ['inventory'],
        summary: 'One version with its payload and assignments (an export as JSON)',
        params: versionParams,
        response: responses({ 200: versionDetailResponse }),
      },
    },
    async (request) => {
      const { access } = await auth.tenantAccess(request, request.params.tenantId, 'tenant.view')
      const item = await itemOf(access.tenantId, request.params.itemId)
      const version = await findVersion(db, access.tenantId, item.id, { id: request.params.versionId })
      if (!version) throw notFound('Version')
      return { ...presentVersion(version), payload: version.payload, assignments: version.assignments }
    },
  )

  r.get(
    '/api/tenants/:tenantId/inventory/items/:itemId/diff',
    {
      schema: {
        tags: ['inventory'],
        summary: 'The readable changes between two versions of an item (default: previous → latest)',
        params: itemParams,
        querystring: diffQuery,
        response: responses({ 200: diffResponse }),
      },
    },
    async (request) => {
      const { access } = await auth.tenantAccess(request, request.params.tenantId, 'tenant.view')
      const item = await itemOf(access.tenantId, request.params.itemId)
      return itemDiff(db, access.tenantId, item.id, request.query)
    },
  )

  r.get(
    '/api/tenants/:tenantId/changes',
    {
      schema: {
        tags: ['inventory'],
        summary: 'The change history: items created, updated, removed or restored, newest first (keyset pagination)',
        params: tenantIdParams,
        querystring: changesQuery,
        response: responses({ 200: listEnvelope(changeResponse) }),
      },
    },
    async (request) => {
      const { access } = await auth.tenantAccess(request, request.params.tenantId, 'tenant.view')
      const { cursor, limit, since, until, type, kind, item_id } = request.query
      if (since && until && since >= until) throw validationError([{ field: 'until', message: 'must be after since' }])
      if (item_id !== undefined && !UUID_PATTERN.test(item_id))
        throw validationError([{ field: 'item_id', message: 'must be an item id' }])
      const rows = await listChanges(
        db,
        access.tenantId,
        { since, until, type, kind, itemId: item_id },
        { cursor: decodeCursor(cursor), limit: limit + 1 },
      )
      const page = rows.slice(0, limit)
      const last = page.at(-1)
      return {
        data: page.map(presentChange),
        next_cursor:
          rows.length > limit && last ? encodeCursor({ at: last.detectedAt.toISOString(), id: last.id }) : null,
      }
    },
  )
}
