import { eq } from 'drizzle-orm'
import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { tenants } from '../../db/schema.ts'
import { GraphError } from '../../graph/errors.ts'
import { GraphClient } from '../../graph/graph-client.ts'
import { probePermissions } from '../../graph/permission-probe.ts'
import { GRAPH_PERMISSIONS, POLICY_TYPES, usedCategories } from '../../graph/policy-types.ts'
import { createMsalTokenProvider } from '../../graph/token-provider.ts'
import type { HttpDeps } from '../../http/deps.ts'
import { cursorQuery, listEnvelope, responses } from '../../http/schemas.ts'
import { notFound, validationError } from '../../lib/errors.ts'
import { presentRun, runResponse } from '../operations/presenter.ts'
import { findRun } from '../operations/repository.ts'
import { tenantIdParams } from '../../http/schemas.ts'
import { ConnectionConfigError, graphContextOf } from '../tenants/graph-context.ts'
import { itemDetailResponse, itemResponse, presentItem, presentItemDetail } from './presenter.ts'
import { findItem, listItems, referencesOf } from './repository.ts'
import { decodeTextCursor, encodeTextCursor } from '../../lib/cursor.ts'
import { selectionInput } from './selection.ts'
import { startInventorySync } from './start-sync.ts'

const policyTypeResponse = z.object({
  key: z.string(),
  label: z.string(),
  kind: z.enum(['policy', 'foundation', 'dependency']),
  category: z.string(),
  platforms: z.array(z.string()),
  permission: z.string().describe('The application permission the app registration needs to read this type'),
})

// The catalog is static: presented once.
const catalogBody = {
  data: POLICY_TYPES.map((entry) => ({
    key: entry.key,
    label: entry.label,
    kind: entry.kind,
    category: entry.category,
    platforms: [...entry.platforms],
    permission: entry.permission,
  })),
  categories: usedCategories(),
}

const text = (max: number) =>
  z
    .string()
    .max(max)
    .refine((v) => !v.includes('\0'), { error: 'must not contain a NUL character' })

const itemsQuery = cursorQuery.extend({
  type: text(100).optional().describe('A policy type key'),
  category: text(100).optional(),
  q: text(200).optional().describe('Text search in display names'),
  include_removed: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .default('false')
    .transform((v) => v === 'true'),
})

const itemParams = z.object({ tenantId: z.string(), itemId: z.string() })

const connectionCheckResponse = z.object({
  ok: z.boolean().describe('Signed in, and every permission granted'),
  error: z
    .object({ code: z.string(), message: z.string() })
    .nullable()
    .describe('Why nothing could be checked (sign-in failed)'),
  permissions: z.array(
    z.object({
      permission: z.string(),
      status: z.enum(['granted', 'missing', 'unknown']),
      blocks: z.array(z.object({ key: z.string(), label: z.string() })).describe('The types this permission gates'),
    }),
  ),
})

export function registerInventoryRoutes(app: FastifyInstance, { db, auth, engine, secrets, config }: HttpDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>()
  const tokens = createMsalTokenProvider()
  const graph = new GraphClient({ tokens })

  r.post(
    '/api/tenants/:tenantId/inventory-sync',
    {
      config: { capability: 'inventory.sync' },
      schema: {
        tags: ['inventory'],
        summary: 'Start an inventory sync (or join the active one with the same selection): 202 with the run',
        description: 'The body is an optional selection; omitted fields, or no body, select the full inventory.',
        params: tenantIdParams,
        body: selectionInput.nullish(),
        response: responses({ 202: z.object({ run: runResponse, deduplicated: z.boolean() }) }),
      },
    },
    async (request, reply) => {
      const { principal, access } = await auth.tenantAccess(request, request.params.tenantId)
      // No body selects the full inventory; a JSON `null` sent on purpose is a mistake, not "all".
      if (request.body === null && Number(request.headers['content-length'] ?? 0) > 0) {
        throw validationError([
          { field: '(body)', message: 'must be a selection object, or no body at all for the full inventory' },
        ])
      }
      const { run, deduplicated } = await startInventorySync(engine, {
        tenantId: access.tenantId,
        selection: request.body ?? undefined,
        initiatorUserId: principal.user.id,
        actor: auth.actorOf(request, principal),
      })
      const row = (await findRun(db, access.tenantId, run.id)) ?? {
        run,
        initiatorName: principal.user.name,
        scheduleName: null,
      }
      return reply.code(202).send({ run: presentRun(engine.catalog, access, row), deduplicated })
    },
  )

  r.get(
    '/api/tenants/:tenantId/inventory/items',
    {
      schema: {
        tags: ['inventory'],
        summary: 'Inventory items by display name (keyset pagination); removed items only with include_removed=true',
        params: tenantIdParams,
        querystring: itemsQuery,
        response: responses({ 200: listEnvelope(itemResponse) }),
      },
    },
    async (request) => {
      const { access } = await auth.tenantAccess(request, request.params.tenantId, 'tenant.view')
      const { cursor, limit, include_removed, ...filters } = request.query
      const rows = await listItems(
        db,
        access.tenantId,
        { ...filters, includeRemoved: include_removed },
        { cursor: decodeTextCursor(cursor), limit: limit + 1 },
      )
      const page = rows.slice(0, limit)
      const last = page.at(-1)
      return {
        data: page.map(presentItem),
        next_cursor: rows.length > limit && last ? encodeTextCursor({ text: last.displayName, id: last.id }) : null,
      }
    },
  )

  r.get(
    '/api/tenants/:tenantId/inventory/items/:itemId',
    {
      schema: {
        tags: ['inventory'],
        summary: 'One item: its normalised payload, assignments with group names, references',
        params: itemParams,
        response: responses({ 200: itemDetailResponse }),
      },
    },
    async (request) => {
      const { access } = await auth.tenantAccess(request, request.params.tenantId, 'tenant.view')
      const row = await findItem(db, access.tenantId, request.params.itemId)
      if (!row) throw notFound('Item')
      return presentItemDetail(row, await referencesOf(db, access.tenantId, row.item.id))
    },
  )

  r.post(
    '/api/tenants/:tenantId/connection-check',
    {
      schema: {
        tags: ['tenants'],
        summary: 'Check the connection: sign in, then probe every Graph permission the inventory needs',
        params: tenantIdParams,
        response: responses({ 200: connectionCheckResponse }),
      },
    },
    async (request) => {
      const { access } = await auth.tenantAccess(request, request.params.tenantId, 'tenant.manage')
      const [tenant] = await db.select().from(tenants).where(eq(tenants.id, access.tenantId))
      if (!tenant) throw notFound('Tenant')
      const failed = (code: string, message: string) => ({ ok: false, error: { code, message }, permissions: [] })
      let ctx
      try {
        ctx = graphContextOf(tenant, secrets, config.graphEmulatorUrl)
        await tokens.getToken(ctx)
      } catch (error) {
        if (error instanceof ConnectionConfigError || error instanceof GraphError)
          return failed(error.code, error.message)
        throw error
      }
      const probe = await probePermissions(graph, ctx)
      const permissions = GRAPH_PERMISSIONS.map((permission) => {
        const gated = probe.filter((p) => p.permission === permission)
        // Groups are read by id, never listed: the probe cannot see them, they count as unknown.
        const status = gated.some((p) => p.status === 'missing')
          ? 'missing'
          : gated.length > 0 && gated.every((p) => p.status === 'granted')
            ? 'granted'
            : 'unknown'
        return { permission, status, blocks: gated.map((p) => ({ key: p.key, label: p.label })) } as const
      })
      return { ok: permissions.every((p) => p.status === 'granted'), error: null, permissions }
    },
  )

  r.get(
    '/api/tenants/:tenantId/policy-types',
    {
      schema: {
        tags: ['inventory'],
        summary: 'The supported policy types, foundations and dependencies, and their categories',
        params: tenantIdParams,
        response: responses({ 200: z.object({ data: z.array(policyTypeResponse), categories: z.array(z.string()) }) }),
      },
    },
    async (request) => {
      await auth.tenantAccess(request, request.params.tenantId, 'tenant.view')
      return catalogBody
    },
  )
}
