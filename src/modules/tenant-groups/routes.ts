import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { HttpDeps } from '../../http/deps.ts'
import { listEnvelope, responses } from '../../http/schemas.ts'
import { notFound } from '../../lib/errors.ts'
import { UUID_PATTERN } from '../../lib/ids.ts'
import { presentTenantGroup } from './presenter.ts'
import { listVisibleTenantGroups } from './repository.ts'
import { createTenantGroup, deleteTenantGroup, updateTenantGroup } from './save-tenant-group.ts'
import { createTenantGroupBody, tenantGroupParams, tenantGroupResponse, updateTenantGroupBody } from './schemas.ts'

export function registerTenantGroupRoutes(app: FastifyInstance, { db, auth }: HttpDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>()
  const tags = ['tenant groups']

  async function load(userId: string, isAdmin: boolean, groupId: string) {
    const [group] = UUID_PATTERN.test(groupId)
      ? await listVisibleTenantGroups(db, userId, { all: isAdmin, groupId })
      : []
    if (!group) throw notFound('Tenant group')
    return presentTenantGroup(group)
  }
  const known = (groupId: string) => {
    if (!UUID_PATTERN.test(groupId)) throw notFound('Tenant group')
  }

  r.get(
    '/api/tenant-groups',
    {
      schema: {
        tags,
        summary: 'Tenant groups, by name, each restricted to the tenants the caller belongs to',
        response: responses({ 200: listEnvelope(tenantGroupResponse) }),
      },
    },
    async (request) => {
      const { user } = await auth.principalOf(request)
      const groups = await listVisibleTenantGroups(db, user.id, { all: user.isAdmin })
      return { data: groups.map(presentTenantGroup), next_cursor: null }
    },
  )

  r.post(
    '/api/tenant-groups',
    {
      config: { scope: 'workspace.admin' },
      schema: {
        tags,
        summary: 'Create a tenant group (workspace admins) of tenants the caller belongs to',
        body: createTenantGroupBody,
        response: responses({ 201: tenantGroupResponse }),
      },
    },
    async (request, reply) => {
      const principal = await auth.requireAdmin(request)
      const id = await createTenantGroup(db, auth.actorOf(request, principal), principal.user.id, request.body)
      return reply.code(201).send(await load(principal.user.id, true, id))
    },
  )

  r.patch(
    '/api/tenant-groups/:groupId',
    {
      config: { scope: 'workspace.admin' },
      schema: {
        tags,
        summary: "Rename a tenant group or set its tenants (the caller's; others' tenants in it stay)",
        params: tenantGroupParams,
        body: updateTenantGroupBody,
        response: responses({ 200: tenantGroupResponse }),
      },
    },
    async (request) => {
      const principal = await auth.requireAdmin(request)
      known(request.params.groupId)
      await updateTenantGroup(
        db,
        auth.actorOf(request, principal),
        principal.user.id,
        request.params.groupId,
        request.body,
      )
      return load(principal.user.id, true, request.params.groupId)
    },
  )

  r.delete(
    '/api/tenant-groups/:groupId',
    {
      config: { scope: 'workspace.admin' },
      schema: {
        tags,
        summary: 'Delete a tenant group (its tenants stay)',
        params: tenantGroupParams,
        response: responses({ 204: z.null() }),
      },
    },
    async (request, reply) => {
      const principal = await auth.requireAdmin(request)
      known(request.params.groupId)
      await deleteTenantGroup(db, auth.actorOf(request, principal), request.params.groupId)
      return reply.code(204).send(null)
    },
  )
}
