import { randomUUID } from 'node:crypto'
import fastifyCookie from '@fastify/cookie'
import fastifySwagger from '@fastify/swagger'
import fastifySwaggerUi from '@fastify/swagger-ui'
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify'
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod'
import type { DatabaseHandle } from '../db/engine.ts'
import type { Config } from '../lib/config.ts'
import type { SecretBox } from '../lib/crypto.ts'
import { registerAccessRoutes } from '../modules/access/routes.ts'
import { defaultSignInLimits, type SignInLimits } from '../modules/access/sign-in.ts'
import { registerAuditRoutes } from '../modules/audit/routes.ts'
import { registerTenantRoutes } from '../modules/tenants/routes.ts'
import { createAuth } from '../modules/access/http-auth.ts'
import type { LiveHub } from '../modules/operations/live-hub.ts'
import type { OperationsEngine } from '../modules/operations/engine.ts'
import { registerOperationRoutes } from '../modules/operations/routes.ts'
import { registerNotificationRoutes } from '../modules/notifications/routes.ts'
import { registerHistoryRoutes } from '../modules/inventory/history-routes.ts'
import { registerInventoryRoutes } from '../modules/inventory/routes.ts'
import { registerScheduleRoutes } from '../modules/schedules/routes.ts'
import { registerBackupRoutes } from '../modules/backups/routes.ts'
import { registerRestoreRoutes } from '../modules/restore/routes.ts'
import { registerTargetRoutes } from '../modules/tenant-objects/routes.ts'
import { registerBulkRoutes } from '../modules/bulk/routes.ts'
import { registerTenantGroupRoutes } from '../modules/tenant-groups/routes.ts'
import { registerAlertRoutes } from '../modules/alerts/routes.ts'
import { registerMetricsRoutes, startMetricsServer } from '../modules/metrics/routes.ts'
import { registerOverviewRoutes } from '../modules/overview/routes.ts'
import { registerAssignmentRoutes } from '../modules/assignments/routes.ts'
import { createOidcClient } from '../modules/entra/oidc-client.ts'
import { recheckPrincipal } from '../modules/entra/entra-sign-in.ts'
import { registerEntraRoutes } from '../modules/entra/routes.ts'
import { registerInviteRoutes } from '../modules/tenants/invite-routes.ts'
import { registerCompareRoutes } from '../modules/compare/routes.ts'
import { registerBaselineRoutes } from '../modules/baselines/routes.ts'
import { registerFindingRoutes } from '../modules/findings/routes.ts'
import { registerDocumentationRoutes } from '../modules/documentation/routes.ts'
import type { HttpDeps } from './deps.ts'
import { registerErrorHandling } from './errors.ts'
import { setSecurityHeaders } from './security-headers.ts'
import { unstorableTextError } from './storable-text.ts'
import { registerSystemRoutes } from './system-routes.ts'
import { registerWebAssets } from './web-assets.ts'
import { jsonDepthExceeds, MAX_JSON_DEPTH, tooDeep } from '../lib/json-depth.ts'

export type AppOptions = {
  handle: DatabaseHandle
  /** Starts and cancels runs; need not execute them (`serve --no-worker`). */
  engine: OperationsEngine
  hub: LiveHub
  config: Config
  secrets: SecretBox
  logger: FastifyBaseLogger
  signInLimits?: SignInLimits
}

export type RouteInfo = {
  method: string
  url: string
  hasBody: boolean
  /** What the route's config declares (`capability` for tenant routes, `scope` outside them), for docs/api.md. */
  capability?: string
  scope?: string
  /** The handler, whose source names the capability of a route that checks it there (scripts/api-docs.ts). */
  handler: unknown
}
const routeLists = new WeakMap<FastifyInstance, RouteInfo[]>()
/** Every route the app serves (for the authorization test table and the OpenAPI check). */
export const routesOf = (app: FastifyInstance) => routeLists.get(app) ?? []

/** API routes that answer without credentials. */
export const PUBLIC_API_ROUTES = new Set([
  '/api/auth/sign-in',
  '/api/auth/sign-out',
  '/api/openapi.json',
  '/api/auth/providers',
  '/api/auth/oidc/start',
  '/api/auth/oidc/callback',
  '/api/invites/:token',
  '/api/invites/:token/accept',
])

const REQUEST_ID = /^[\w.:-]{1,128}$/

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger,
    bodyLimit: 256 * 1024,
    trustProxy: options.config.trustProxy,
    requestIdHeader: 'x-request-id',
    genReqId: (req) => {
      const incoming = req.headers['x-request-id']
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID()
    },
    routerOptions: { ignoreTrailingSlash: true },
    // A URL the router cannot decode (`%ZZ`) or a path parameter past 100 characters: the envelope, not Fastify's own body.
    frameworkErrors: (error, request, rawReply) => {
      const reply = rawReply as FastifyReply
      setSecurityHeaders(reply)
      void reply.header('x-request-id', request.id)
      const tooLong = error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      void reply
        .code(tooLong ? 414 : 400)
        .send(
          tooLong
            ? { error: { code: 'uri_too_long', message: 'A path parameter is too long' } }
            : { error: { code: 'bad_url', message: 'The URL is not valid: check its percent-encoding' } },
        )
    },
  })
  const routes: RouteInfo[] = []
  routeLists.set(app, routes)
  app.addHook('onRoute', (route) => {
    const { capability, scope } = route.config ?? {}
    for (const method of [route.method].flat()) {
      if (method === 'HEAD') continue
      const hasBody = Boolean(route.schema?.body)
      routes.push({ method, url: route.url, hasBody, capability, scope, handler: route.handler })
    }
  })
  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id)
    setSecurityHeaders(reply)
  })

  // Nesting is bounded before the body is parsed, and so before anything walks it (ADR 022).
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (jsonDepthExceeds(body as string, MAX_JSON_DEPTH)) {
      done(tooDeep('The JSON body', MAX_JSON_DEPTH), undefined)
      return
    }
    void parseJson(request, body as string, done)
  })
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  registerErrorHandling(app)
  await app.register(fastifyCookie)
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'TenantAtlas API',
        version: '1',
        description: 'Authenticate with the session cookie or `Authorization: Bearer <personal API token>`.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          session: { type: 'apiKey', in: 'cookie', name: 'ta_session' },
        },
      },
      security: [{ bearer: [] }, { session: [] }],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  })
  await app.register(fastifySwaggerUi, { routePrefix: '/api/docs' })

  const entra = options.config.entra
  const oidc = entra ? createOidcClient(entra, options.config.graphEmulatorUrl) : undefined
  const entraDeps = entra
    ? { db: options.handle.db, secrets: options.secrets, entra, emulatorUrl: options.config.graphEmulatorUrl }
    : undefined
  const deps: HttpDeps = {
    db: options.handle.db,
    handle: options.handle,
    config: options.config,
    secrets: options.secrets,
    auth: createAuth(options.handle.db, options.config, {
      recheckEntraSession: oidc && entraDeps ? (principal) => recheckPrincipal(entraDeps, oidc, principal) : undefined,
    }),
    signInLimits: options.signInLimits ?? defaultSignInLimits,
    engine: options.engine,
    hub: options.hub,
    oidc,
  }
  // Who is asking, and whether they may, is settled before the body is validated: no credentials
  // is a 401, a foreign tenant a 404 and a missing capability a 403, whatever the body holds.
  app.addHook('preValidation', async (request) => {
    const url = request.routeOptions.url
    if (!url?.startsWith('/api/') || url.startsWith('/api/docs') || PUBLIC_API_ROUTES.has(url)) return
    const principal = await deps.auth.principalOf(request)
    const { scope } = request.routeOptions.config
    if (scope === 'workspace.admin') await deps.auth.requireAdmin(request)
    else if (scope) deps.auth.assertScope(request, principal, scope)
    const { tenantId } = request.params as { tenantId?: string }
    if (!url.startsWith('/api/tenants/:tenantId') || tenantId === undefined) return
    const capability = request.routeOptions.config.capability
    await (capability
      ? deps.auth.tenantAccess(request, tenantId, capability)
      : deps.auth.membershipOf(request, tenantId))
  })
  // Text PostgreSQL cannot store (NUL, a lone UTF-16 surrogate) is refused naming its field, whatever the route.
  app.addHook('preValidation', (request, _reply, done) => done(unstorableTextError(request)))

  registerSystemRoutes(app, deps)
  app.get('/api/openapi.json', { schema: { hide: true } }, () => app.swagger())
  registerAccessRoutes(app, deps)
  registerTenantRoutes(app, deps)
  registerAuditRoutes(app, deps)
  registerOperationRoutes(app, deps)
  registerNotificationRoutes(app, deps)
  registerInventoryRoutes(app, deps)
  registerHistoryRoutes(app, deps)
  registerScheduleRoutes(app, deps)
  registerBackupRoutes(app, deps)
  registerRestoreRoutes(app, deps)
  registerBulkRoutes(app, deps)
  registerTenantGroupRoutes(app, deps)
  registerAlertRoutes(app, deps)
  const metrics = registerMetricsRoutes(app, deps)
  // METRICS_PORT: the same registry on a port of its own, closed with the app.
  if (deps.config.metricsPort !== undefined) {
    const server = await startMetricsServer(metrics, deps.config.metricsPort, deps.config.host)
    app.addHook('onClose', async () => new Promise<void>((resolve) => server.close(() => resolve())))
  }
  registerOverviewRoutes(app, deps)
  registerAssignmentRoutes(app, deps)
  registerEntraRoutes(app, deps)
  registerInviteRoutes(app, deps)
  registerTargetRoutes(app, deps)
  registerCompareRoutes(app, deps)
  registerBaselineRoutes(app, deps)
  registerFindingRoutes(app, deps)
  registerDocumentationRoutes(app, deps)
  await registerWebAssets(app)
  await app.ready()
  return app
}
