import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { HttpDeps } from '../../http/deps.ts'
import { SESSION_COOKIE } from './http-auth.ts'
import { listEnvelope, responses } from '../../http/schemas.ts'
import { notFound } from '../../lib/errors.ts'
import { UUID_PATTERN } from '../../lib/ids.ts'
import { createApiToken, createTokenInput, revokeApiToken } from './api-tokens.ts'
import { createUser, createUserInput } from './create-user.ts'
import { capabilitiesOf } from './policy.ts'
import { scopeAllows } from './token-scope.ts'
import { presentApiToken, presentUser } from './presenter.ts'
import { listMemberships, listTokens } from './repository.ts'
import {
  apiTokenResponse,
  createdApiTokenResponse,
  meResponse,
  signInBody,
  tokenParams,
  userResponse,
} from './schemas.ts'
import { signIn } from './sign-in.ts'
import { signOut } from './sign-out.ts'
import { passwordsOff } from '../entra/password-policy.ts'

export function registerAccessRoutes(app: FastifyInstance, { db, auth, signInLimits, config }: HttpDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>()

  r.post(
    '/api/auth/sign-in',
    {
      schema: {
        tags: ['auth'],
        summary: 'Sign in with e-mail and password; sets the session cookie',
        body: signInBody,
        response: responses({ 200: z.object({ user: userResponse }) }),
      },
    },
    async (request, reply) => {
      // Login CSRF: a browser on another site must not sign a victim into an attacker's account.
      if (request.headers.origin || request.headers['sec-fetch-site']) auth.assertSameOrigin(request)
      const result = await signIn(
        db,
        {
          email: request.body.email,
          password: request.body.password,
          ip: request.ip,
          userAgent: request.headers['user-agent'] ?? null,
        },
        signInLimits,
        { passwordsOff: () => passwordsOff(db, config) },
      )
      auth.setSessionCookie(request, reply, result.token)
      return { user: presentUser(result.user) }
    },
  )

  r.post(
    '/api/auth/sign-out',
    {
      schema: {
        tags: ['auth'],
        summary: 'Sign out: revokes the session and clears the cookie',
        response: responses({ 204: z.null() }),
      },
    },
    async (request, reply) => {
      const token = request.cookies[SESSION_COOKIE]
      if (token) {
        await auth.principalOf(request) // same-origin check for a cookie-authenticated mutation
        await signOut(db, token, request.ip)
      }
      auth.clearSessionCookie(request, reply)
      return reply.code(204).send(null)
    },
  )

  r.get(
    '/api/me',
    {
      schema: {
        tags: ['auth'],
        summary: 'The caller, their tenants and capabilities per tenant',
        response: responses({ 200: meResponse }),
      },
    },
    async (request) => {
      const principal = await auth.principalOf(request)
      const memberships = await auth.visibleMemberships(principal, await listMemberships(db, principal.user.id))
      return {
        user: presentUser(principal.user),
        // With an API token: what the token may do there (its scope narrows the role).
        tenants: memberships.map(({ tenant, role }) => ({
          id: tenant.id,
          name: tenant.name,
          role,
          capabilities: capabilitiesOf(role).filter((capability) => scopeAllows(principal.scope, capability)),
        })),
      }
    },
  )

  r.get(
    '/api/tokens',
    {
      schema: {
        tags: ['tokens'],
        summary: "The caller's personal API tokens (never the tokens themselves)",
        response: responses({ 200: listEnvelope(apiTokenResponse) }),
      },
    },
    async (request) => {
      const principal = await auth.principalOf(request)
      return { data: (await listTokens(db, principal.user.id)).map(presentApiToken), next_cursor: null }
    },
  )

  r.post(
    '/api/tokens',
    {
      config: { scope: 'tokens.manage' },
      schema: {
        tags: ['tokens'],
        summary: 'Create a personal API token; the response is the only time it is shown',
        body: createTokenInput,
        response: responses({ 201: createdApiTokenResponse }),
      },
    },
    async (request, reply) => {
      const principal = await auth.principalOf(request)
      const creatingToken =
        principal.via === 'token'
          ? { scope: principal.scope, expiresAt: principal.expiresAt, tenantGroupId: principal.tenantGroupId }
          : undefined
      const { token, secret } = await createApiToken(
        db,
        auth.actorOf(request, principal),
        principal.user.id,
        request.body,
        creatingToken,
      )
      return reply.code(201).send({ ...presentApiToken(token), token: secret })
    },
  )

  r.delete(
    '/api/tokens/:tokenId',
    {
      config: { scope: 'tokens.manage' },
      schema: {
        tags: ['tokens'],
        summary: 'Revoke one of your API tokens',
        params: tokenParams,
        response: responses({ 204: z.null() }),
      },
    },
    async (request, reply) => {
      const principal = await auth.principalOf(request)
      if (!UUID_PATTERN.test(request.params.tokenId)) throw notFound('API token')
      await revokeApiToken(db, auth.actorOf(request, principal), principal.user.id, request.params.tokenId)
      return reply.code(204).send(null)
    },
  )

  r.post(
    '/api/users',
    {
      config: { scope: 'workspace.admin' },
      schema: {
        tags: ['users'],
        summary: 'Create a user (workspace admins)',
        body: createUserInput.strict(),
        response: responses({ 201: userResponse }),
      },
    },
    async (request, reply) => {
      const principal = await auth.requireAdmin(request)
      const user = await createUser(db, auth.actorOf(request, principal), request.body)
      return reply.code(201).send(presentUser(user))
    },
  )
}
