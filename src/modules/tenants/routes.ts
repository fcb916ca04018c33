import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { HttpDeps } from '../../http/deps.ts'
import { listEnvelope, responses } from '../../http/schemas.ts'
import { notFound } from '../../lib/errors.ts'
import { UUID_PATTERN } from '../../lib/ids.ts'
import { listMemberships } from '../access/repository.ts'
import { addTenant } from './add-tenant.ts'
import { addMember, changeMemberRole, removeMember } from './members.ts'
import { presentMember, presentTenant } from './presenter.ts'
import { findTenant, listMembers } from './repository.ts'
import {
  addMemberInput,
  addTenantInput,
  memberParams,
  memberResponse,
  tenantResponse,
  updateMemberInput,
  updateTenantInput,
} from './schemas.ts'
import { tenantIdParams } from '../../http/schemas.ts'
import { updateTenant } from './update-tenant.ts'

export function registerTenantRoutes(app: FastifyInstance, { db, auth, secrets }: HttpDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>()
  const tags = ['tenants']

  r.get(
    '/api/tenants',
    {
      schema: {
        tags,
        summary: 'Tenants the caller belongs to',
        response: responses({ 200: listEnvelope(tenantResponse) }),
      },
    },
    async (request) => {
      const principal = await auth.principalOf(request)
      const rows = await auth.visibleMemberships(principal, await listMemberships(db, principal.user.id))
      return { data: rows.map((row) => presentTenant(row.tenant, row.role)), next_cursor: null }
    },
  )

  r.post(
    '/api/tenants',
    {
      config: { scope: 'workspace.admin' },
      schema: {
        tags,
        summary: 'Connect a Microsoft tenant (workspace admins); the caller becomes its owner',
        body: addTenantInput,
        response: responses({ 201: tenantResponse }),
      },
    },
    async (request, reply) => {
      const principal = await auth.requireAdmin(request)
      const tenant = await addTenant(db, secrets, auth.actorOf(request, principal), request.body)
      return reply.code(201).send(presentTenant(tenant, 'owner'))
    },
  )

  r.get(
    '/api/tenants/:tenantId',
    {
      schema: {
        tags,
        summary: 'One tenant (never its client secret)',
        params: tenantIdParams,
        response: responses({ 200: tenantResponse }),
      },
    },
    async (request) => {
      const { access } = await auth.tenantAccess(request, request.params.tenantId, 'tenant.view')
      const tenant = await findTenant(db, access.tenantId)
      if (!tenant) throw notFound('Tenant')
      return presentTenant(tenant, access.role)
    },
  )

  r.patch(
    '/api/tenants/:tenantId',
    {
      config: { capability: 'tenant.manage' },
      schema: {
        tags,
        summary: "Edit a tenant's name or connection; client_secret is write-only",
        params: tenantIdParams,
        body: updateTenantInput,
        response: responses({ 200: tenantResponse }),
      },
    },
    async (request) => {
      const { principal, access } = await auth.tenantAccess(request, request.params.tenantId)
      const tenant = await updateTenant(db, secrets, auth.actorOf(request, principal), access.tenantId, request.body)
      return presentTenant(tenant, access.role)
    },
  )

  r.get(
    '/api/tenants/:tenantId/members',
    {
      schema: {
        tags,
        summary: "The tenant's members and their roles",
        params: tenantIdParams,
        response: responses({ 200: listEnvelope(memberResponse) }),
      },
    },
    async (request) => {
      const { access } = await auth.tenantAccess(request, request.params.tenantId, 'members.manage')
      return { data: (await listMembers(db, access.tenantId)).map(presentMember), next_cursor: null }
    },
  )

  r.post(
    '/api/tenants/:tenantId/members',
    {
      config: { capability: 'members.manage' },
      schema: {
        tags,
        summary: 'Add an existing user to the tenant by e-mail',
        params: tenantIdParams,
        body: addMemberInput,
        response: responses({ 201: memberResponse }),
      },
    },
    async (request, reply) => {
      const { principal, access } = await auth.tenantAccess(request, request.params.tenantId)
      const { member } = await addMember(db, auth.actorOf(request, principal), access.tenantId, request.body, {
        upsert: false,
      })
      return reply.code(201).send(presentMember(member))
    },
  )

  r.patch(
    '/api/tenants/:tenantId/members/:userId',
    {
      config: { capability: 'members.manage' },
      schema: {
        tags,
        summary: "Change a member's role",
        params: memberParams,
        body: updateMemberInput,
        response: responses({ 200: memberResponse }),
      },
    },
    async (request) => {
      const { principal, access } = await auth.tenantAccess(request, request.params.tenantId)
      assertMemberId(request.params.userId)
      const member = await changeMemberRole(
        db,
        auth.actorOf(request, principal),
        access.tenantId,
        request.params.userId,
        request.body.role,
      )
      return presentMember(member)
    },
  )

  r.delete(
    '/api/tenants/:tenantId/members/:userId',
    {
      schema: {
        tags,
        summary: 'Remove a member from the tenant',
        params: memberParams,
        response: responses({ 204: z.null() }),
      },
    },
    async (request, reply) => {
      const { principal, access } = await auth.tenantAccess(request, request.params.tenantId, 'members.manage')
      assertMemberId(request.params.userId)
      await removeMember(db, auth.actorOf(request, principal), access.tenantId, request.params.userId)
      return reply.code(204).send(null)
    },
  )

  // Commands look the member up themselves (404 when absent); this only keeps a malformed id away from the uuid column.
  function assertMemberId(userId: string) {
    if (!UUID_PATTERN.test(userId)) throw notFound('Member')
  }
}
