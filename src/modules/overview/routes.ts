import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import type { HttpDeps } from '../../http/deps.ts'
import { responses } from '../../http/schemas.ts'
import { notFound } from '../../lib/errors.ts'
import { UUID_PATTERN } from '../../lib/ids.ts'
import { listMemberships } from '../access/repository.ts'
import { listVisibleTenantGroups } from '../tenant-groups/repository.ts'
import { buildOverview } from './build-overview.ts'
import { overviewQuery, overviewResponse } from './schemas.ts'

export function registerOverviewRoutes(app: FastifyInstance, { db, auth }: HttpDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>()

  r.get(
    '/api/overview',
    {
      // Every role may view its tenants; a token must allow tenant.view (a read token does).
      config: { scope: 'tenant.view' },
      schema: {
        tags: ['overview'],
        summary: 'One row per tenant the caller belongs to, sorted by what needs attention; filter by tenant group',
        querystring: overviewQuery,
        response: responses({ 200: overviewResponse }),
      },
    },
    async (request) => {
      const principal = await auth.principalOf(request)
      const { user } = principal
      let tenants = await auth.visibleMemberships(principal, await listMemberships(db, user.id))
      const groupId = request.query.tenant_group_id
      if (groupId !== undefined) {
        const [group] = UUID_PATTERN.test(groupId)
          ? await listVisibleTenantGroups(db, user.id, { all: user.isAdmin, groupId })
          : []
        if (!group) throw notFound('Tenant group')
        const members = new Set(group.tenantIds)
        tenants = tenants.filter((t) => members.has(t.tenant.id))
      }
      const now = new Date()
      return { data: await buildOverview(db, tenants, now), next_cursor: null, generated_at: now.toISOString() }
    },
  )
}
