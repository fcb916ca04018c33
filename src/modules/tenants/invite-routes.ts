import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { HttpDeps } from '../../http/deps.ts'
import { responses } from '../../http/schemas.ts'
import { acceptInviteInput, acceptWithPassword, createInvite, createInviteInput, findOpenInvite } from './invites.ts'
import { ROLES } from '../access/policy.ts'

const tokenParams = z.object({ token: z.string().min(1).max(200) })

export function registerInviteRoutes(app: FastifyInstance, { db, auth, config }: HttpDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>()
  const tags = ['members']

  r.post(
    '/api/tenants/:tenantId/invites',
    {
      config: { capability: 'members.manage' },
      schema: {
        tags,
        summary: 'Invite an e-mail address with a role: 201 with a one-time link (7 days) to hand to the invitee',
        params: z.object({ tenantId: z.string() }),
        body: createInviteInput,
        response: responses({
          201: z.object({
            id: z.string(),
            email: z.string(),
            role: z.enum(ROLES),
            expires_at: z.string(),
            invite_url: z.string().describe('Shown once: the invitee sets a password or signs in with Microsoft there'),
          }),
        }),
      },
    },
    async (request, reply) => {
      const { principal, access } = await auth.tenantAccess(request, request.params.tenantId)
      const { invite, token } = await createInvite(db, auth.actorOf(request, principal), access.tenantId, request.body)
      const origin = config.publicUrl?.replace(/\/+$/, '') ?? `${request.protocol}://${request.host}`
      return reply.code(201).send({
        id: invite.id,
        email: invite.email,
        role: invite.role,
        expires_at: invite.expiresAt.toISOString(),
        invite_url: `${origin}/login?${new URLSearchParams({ invite: token }).toString()}`,
      })
    },
  )

  r.get(
    '/api/invites/:token',
    {
      schema: {
        tags,
        summary: 'An open invite, for its link (404 once used or expired)',
        params: tokenParams,
        response: responses({
          200: z.object({ tenant_name: z.string(), email: z.string(), role: z.enum(ROLES), expires_at: z.string() }),
        }),
      },
    },
    async (request) => {
      const { invite, tenantName } = await findOpenInvite(db, request.params.token)
      return {
        tenant_name: tenantName,
        email: invite.email,
        role: invite.role,
        expires_at: invite.expiresAt.toISOString(),
      }
    },
  )

  r.post(
    '/api/invites/:token/accept',
    {
      schema: {
        tags,
        summary: 'Accept an invite with a new password: creates the account, joins the tenant, signs in',
        params: tokenParams,
        body: acceptInviteInput,
        response: responses({ 201: z.object({ tenant_id: z.string() }) }),
      },
    },
    async (request, reply) => {
      // Login CSRF, as for the password sign-in.
      if (request.headers.origin || request.headers['sec-fetch-site']) auth.assertSameOrigin(request)
      const accepted = await acceptWithPassword(db, request.params.token, request.body, {
        ip: request.ip,
        userAgent: request.headers['user-agent'] ?? null,
      })
      auth.setSessionCookie(request, reply, accepted.token)
      return reply.code(201).send({ tenant_id: accepted.tenantId })
    },
  )
}
