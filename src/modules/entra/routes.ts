import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { HttpDeps } from '../../http/deps.ts'
import { listEnvelope, responses } from '../../http/schemas.ts'
import { AppError, notFound } from '../../lib/errors.ts'
import { signInWithEntra } from './entra-sign-in.ts'
import { passwordsOff } from './password-policy.ts'
import { explain, type OidcFlow } from './oidc-client.ts'
import {
  createRoleRule,
  deleteRoleRule,
  listRoleRules,
  presentRoleRule,
  roleRuleInput,
  roleRuleResponse,
} from './role-rules.ts'

/**
 * Sign-in with Microsoft Entra ID (ADR 028): `GET /api/auth/oidc/start` sends the browser to Entra
 * with a sealed cookie holding the flow's state, nonce and PKCE verifier; `GET /api/auth/oidc/callback`
 * checks the answer, signs the person in and sends them back where they were. Role rules are the
 * workspace admins' (`/api/role-rules`).
 */

const FLOW_COOKIE = 'ta_oidc'
const FLOW_PATH = '/api/auth/oidc'
const FLOW_SECONDS = 10 * 60
const flowAad = 'oidc-flow'

type SealedFlow = { flow: OidcFlow; returnTo: string; at: number; invite?: string }

/** A path on this server only: never another origin (open redirect), never a protocol-relative URL. */
export function safeReturnTo(value: string | undefined): string {
  if (!value || !value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return '/'
  return value.slice(0, 2000)
}

const startQuery = z.object({
  return_to: z.string().max(2000).optional().describe('Where to go after signing in: a path on this server'),
  step_up: z
    .enum(['true', 'false'])
    .optional()
    .describe('true: a fresh sign-in for a destructive action (max_age, or the configured acrs context)'),
  login_hint: z.string().max(256).optional(),
  invite: z.string().max(200).optional().describe("An invite link's token: accepted with this Microsoft account"),
})

export function registerEntraRoutes(app: FastifyInstance, { db, auth, config, secrets, oidc }: HttpDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>()
  const entra = config.entra

  const originOf = (request: FastifyRequest) =>
    config.publicUrl?.replace(/\/+$/, '') ?? `${request.protocol}://${request.host}`
  // Normalised as a URL prints it (no :80 on http), as openid-client rebuilds it from the callback's URL.
  const redirectUri = (request: FastifyRequest) => new URL(`${originOf(request)}${FLOW_PATH}/callback`).toString()
  const cookieOptions = (request: FastifyRequest) => ({
    httpOnly: true,
    sameSite: 'lax' as const,
    secure: request.protocol === 'https',
    path: FLOW_PATH,
  })
  /** A refused sign-in goes back to the console's sign-in page, which shows the message. */
  const refuse = (reply: FastifyReply, code: string, message: string) =>
    reply.redirect(`/login?${new URLSearchParams({ error: code, error_description: message }).toString()}`, 302)

  r.get(
    '/api/auth/providers',
    {
      schema: {
        tags: ['auth'],
        summary: 'How people sign in here: with a password, with Microsoft, or both',
        response: responses({ 200: z.object({ password: z.boolean(), microsoft: z.boolean() }) }),
      },
    },
    async () => ({ password: !(await passwordsOff(db, config)), microsoft: Boolean(entra) }),
  )

  r.get(
    '/api/auth/oidc/start',
    {
      schema: {
        tags: ['auth'],
        summary: 'Sign in with Microsoft: redirects to Entra ID (authorization code + PKCE)',
        querystring: startQuery,
        response: responses({ 302: z.null() }),
      },
    },
    async (request, reply) => {
      if (!entra || !oidc) throw notFound('Sign-in with Microsoft (ENTRA_CLIENT_ID is not configured)')
      const stepUp = request.query.step_up === 'true'
      const { url, flow } = await oidc
        .start(redirectUri(request), {
          ...(stepUp && !entra.stepUpAcrs ? { maxAge: entra.stepUpMaxAgeMinutes * 60 } : {}),
          ...(stepUp && entra.stepUpAcrs ? { acrs: entra.stepUpAcrs } : {}),
          ...(request.query.login_hint ? { loginHint: request.query.login_hint } : {}),
        })
        .catch((error: unknown) => {
          const refused = explain(error)
          throw new AppError(502, refused.code, refused.message)
        })
      const sealed: SealedFlow = {
        flow,
        returnTo: safeReturnTo(request.query.return_to),
        at: Date.now(),
        ...(request.query.invite ? { invite: request.query.invite } : {}),
      }
      void reply.setCookie(FLOW_COOKIE, secrets.encrypt(JSON.stringify(sealed), flowAad), {
        ...cookieOptions(request),
        maxAge: FLOW_SECONDS,
      })
      return reply.redirect(url, 302)
    },
  )

  r.get(
    '/api/auth/oidc/callback',
    {
      schema: {
        tags: ['auth'],
        summary: "Entra ID's answer: checks it, signs the person in, redirects back (or to /login with the reason)",
        querystring: z.record(z.string(), z.string()),
        response: responses({ 302: z.null() }),
      },
    },
    async (request, reply) => {
      if (!entra || !oidc) throw notFound('Sign-in with Microsoft (ENTRA_CLIENT_ID is not configured)')
      const raw = request.cookies[FLOW_COOKIE]
      void reply.clearCookie(FLOW_COOKIE, cookieOptions(request))
      let sealed: SealedFlow
      try {
        if (!raw) throw new Error('no flow cookie')
        sealed = JSON.parse(secrets.decrypt(raw, flowAad)) as SealedFlow
        if (Date.now() - sealed.at > FLOW_SECONDS * 1000) throw new Error('expired')
      } catch {
        return refuse(
          reply,
          'sign_in_expired',
          'This sign-in was not started in this browser, or took more than 10 minutes: start again',
        )
      }
      const current = new URL(`${redirectUri(request)}?${new URLSearchParams(request.query).toString()}`)
      try {
        const answer = await oidc.finish(current, sealed.flow)
        const result = await signInWithEntra(
          { db, secrets, entra, emulatorUrl: config.graphEmulatorUrl },
          answer,
          { ip: request.ip, userAgent: request.headers['user-agent'] ?? null },
          sealed.invite,
        )
        auth.setSessionCookie(request, reply, result.token)
        return reply.redirect(result.invitedTo ? `/t/${result.invitedTo}` : sealed.returnTo, 302)
      } catch (error) {
        const refused = explain(error)
        request.log.warn({ code: refused.code, reason: refused.message }, 'sign-in with Microsoft refused')
        return refuse(reply, refused.code, refused.message)
      }
    },
  )

  r.get(
    '/api/role-rules',
    {
      config: { scope: 'workspace.admin' },
      schema: {
        tags: ['auth'],
        summary: 'Rules mapping Entra groups and app roles to workspace admin or tenant roles (admins)',
        response: responses({ 200: listEnvelope(roleRuleResponse) }),
      },
    },
    async (request) => {
      await auth.requireAdmin(request)
      return { data: (await listRoleRules(db)).map(presentRoleRule), next_cursor: null }
    },
  )

  r.post(
    '/api/role-rules',
    {
      config: { scope: 'workspace.admin' },
      schema: {
        tags: ['auth'],
        summary: 'Add a role rule (applied at each sign-in and role check)',
        body: roleRuleInput,
        response: responses({ 201: roleRuleResponse }),
      },
    },
    async (request, reply) => {
      const principal = await auth.requireAdmin(request)
      const rule = await createRoleRule(db, auth.actorOf(request, principal), request.body)
      return reply.code(201).send(presentRoleRule(rule))
    },
  )

  r.delete(
    '/api/role-rules/:ruleId',
    {
      config: { scope: 'workspace.admin' },
      schema: {
        tags: ['auth'],
        summary: 'Remove a role rule (people lose what it granted at their next role check)',
        params: z.object({ ruleId: z.uuid() }),
        response: responses({ 204: z.null() }),
      },
    },
    async (request, reply) => {
      const principal = await auth.requireAdmin(request)
      await deleteRoleRule(db, auth.actorOf(request, principal), request.params.ruleId)
      return reply.code(204).send(null)
    },
  )
}
