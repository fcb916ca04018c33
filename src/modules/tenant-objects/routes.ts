import { and, asc, eq, ilike, isNull } from 'drizzle-orm'
import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { inventoryItems, tenants } from '../../db/schema.ts'
import { GraphClient, type GraphObject } from '../../graph/graph-client.ts'
import { GROUP_TYPE } from '../../graph/policy-types.ts'
import { createMsalTokenProvider } from '../../graph/token-provider.ts'
import type { HttpDeps } from '../../http/deps.ts'
import { responses } from '../../http/schemas.ts'
import { graphContextOf } from '../tenants/graph-context.ts'
import { tenantIdParams } from '../../http/schemas.ts'
import type { TargetKind } from './targets.ts'

/**
 * What a mapping or a bulk parameter may point at in a tenant (ADR 026, "pick, don't type"): its
 * groups, assignment filters and scope tags by name. Filters and scope tags come from the
 * inventory (every one is synced); groups from the inventory (the ones something references) and
 * from Graph (every group whose name starts with the query), so a group nothing uses yet can be
 * picked too. Whatever is picked is still checked by `checkTargets` when it is saved.
 */

const KINDS = ['group', 'assignment_filter', 'scope_tag'] as const satisfies readonly TargetKind[]
const TYPES: Readonly<Record<TargetKind, string>> = {
  group: 'group',
  assignment_filter: 'assignmentFilter',
  scope_tag: 'roleScopeTag',
}
const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`)

const targetsQuery = z.strictObject({
  kind: z.enum(KINDS, { error: `must be one of ${KINDS.join(', ')}` }),
  q: z.string().trim().max(100, { error: 'at most 100 characters' }).optional(),
  limit: z.coerce
    .number({ error: 'must be a number' })
    .int({ error: 'must be a whole number' })
    .min(1, { error: 'must be at least 1' })
    .max(50, { error: 'at most 50' })
    .default(20),
})

const target = z
  .object({
    kind: z.enum(KINDS),
    id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
  })
  .meta({ id: 'TenantTarget' })
const targetsResponse = z.object({
  data: z.array(target),
  /** Groups only: whether Graph could be asked (false: the inventory's groups alone). */
  complete: z.boolean().describe("False when Graph could not be searched: only the inventory's groups are listed"),
})

export function registerTargetRoutes(app: FastifyInstance, { db, auth, secrets, config }: HttpDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>()
  let graph: GraphClient | undefined

  const searchGraphGroups = async (tenantId: string, q: string, limit: number): Promise<GraphObject[] | null> => {
    const [tenant] = await db.select().from(tenants).where(eq(tenants.id, tenantId))
    if (!tenant) return null
    try {
      const ctx = graphContextOf(tenant, secrets, config.graphEmulatorUrl)
      graph ??= new GraphClient({ tokens: createMsalTokenProvider(), retry: { maxAttempts: 2 } })
      const filter = q ? `&$filter=${encodeURIComponent(`startswith(displayName,'${q.replace(/'/g, "''")}')`)}` : ''
      const page = await graph.get<{ value?: GraphObject[] }>(
        ctx,
        `/${GROUP_TYPE.apiVersion}/${GROUP_TYPE.path}?$select=id,displayName,description&$top=${limit}${filter}`,
        { permission: GROUP_TYPE.permission, subject: GROUP_TYPE.label },
      )
      return page.value ?? []
    } catch {
      return null
    }
  }

  r.get(
    '/api/tenants/:tenantId/targets',
    {
      config: { capability: 'tenant.view' },
      schema: {
        tags: ['inventory'],
        summary:
          "Search the tenant's groups, assignment filters or scope tags by name: what a restore mapping or a bulk action can point at",
        params: tenantIdParams,
        querystring: targetsQuery,
        response: responses({ 200: targetsResponse }),
      },
    },
    async (request) => {
      const { access } = await auth.tenantAccess(request, request.params.tenantId)
      const { kind, q, limit } = request.query
      const rows = await db
        .select({ id: inventoryItems.externalId, name: inventoryItems.displayName })
        .from(inventoryItems)
        .where(
          and(
            eq(inventoryItems.tenantId, access.tenantId),
            eq(inventoryItems.policyType, TYPES[kind]),
            isNull(inventoryItems.removedAt),
            q ? ilike(inventoryItems.displayName, `%${escapeLike(q)}%`) : undefined,
          ),
        )
        .orderBy(asc(inventoryItems.displayName), asc(inventoryItems.externalId))
        .limit(limit)
      const found = new Map(
        rows.map((row) => [
          row.id.toLowerCase(),
          { kind, id: row.id, name: row.name, description: null as string | null },
        ]),
      )
      let complete = true
      if (kind === 'group') {
        const fromGraph = await searchGraphGroups(access.tenantId, q ?? '', limit)
        if (fromGraph === null) complete = false
        for (const g of fromGraph ?? []) {
          const key = g.id.toLowerCase()
          const name = typeof g.displayName === 'string' ? g.displayName : g.id
          const description = typeof g.description === 'string' && g.description ? g.description : null
          found.set(key, { kind, id: g.id, name, description })
        }
      }
      const data = [...found.values()]
        .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id))
        .slice(0, limit)
      return { data, complete }
    },
  )
}
