import { createHash } from 'node:crypto'
import { ConfidentialClientApplication, LogLevel } from '@azure/msal-node'
import { cloudEndpoints, EMULATOR_LOGIN_HOST } from './clouds.ts'
import { GraphError } from './errors.ts'
import { createRewritingNetworkClient } from './msal-network-client.ts'
import type { GraphTenantContext } from './tenant-context.ts'

/**
 * App-only tokens through MSAL's client-credentials flow. MSAL caches each token in memory
 * and fetches a new one five minutes before it expires; we keep one MSAL application per
 * (cloud, tenant, app, secret) and share one in-flight request among concurrent callers.
 */

export type TokenProvider = {
  getToken(ctx: GraphTenantContext, options?: { forceRefresh?: boolean }): Promise<string>
}

type Options = { timeoutMs?: number }

const AADSTS = /AADSTS(\d+)/

export function createMsalTokenProvider(options: Options = {}): TokenProvider {
  const timeoutMs = options.timeoutMs ?? 30_000
  const apps = new Map<string, ConfidentialClientApplication>()
  const inFlight = new Map<string, Promise<string>>()

  const appFor = (ctx: GraphTenantContext, key: string) => {
    let app = apps.get(key)
    if (app) return app
    const endpoints = cloudEndpoints(ctx.cloud, ctx.emulatorUrl)
    app = new ConfidentialClientApplication({
      auth: {
        clientId: ctx.clientId,
        clientSecret: ctx.clientSecret,
        authority: `${endpoints.loginUrl}/${ctx.entraTenantId}`,
        ...(endpoints.loginTransportUrl ? { knownAuthorities: [EMULATOR_LOGIN_HOST] } : {}),
      },
      system: {
        // MSAL's own logger could print request details; ours stays silent.
        loggerOptions: { logLevel: LogLevel.Error, piiLoggingEnabled: false, loggerCallback: () => undefined },
        ...(endpoints.loginTransportUrl
          ? {
              networkClient: createRewritingNetworkClient({
                fromOrigin: endpoints.loginUrl,
                toBaseUrl: endpoints.loginTransportUrl,
                timeoutMs,
              }),
            }
          : {}),
      },
    })
    apps.set(key, app)
    return app
  }

  return {
    async getToken(ctx, request = {}) {
      const key = cacheKey(ctx)
      const shared = inFlight.get(key)
      if (shared && !request.forceRefresh) return shared
      const scope = cloudEndpoints(ctx.cloud, ctx.emulatorUrl).scope
      const promise = appFor(ctx, key)
        .acquireTokenByClientCredential({ scopes: [scope], skipCache: request.forceRefresh === true })
        .then(
          (result) => {
            if (!result?.accessToken)
              throw new GraphError(
                'invalid_credentials',
                `Sign-in for tenant ${ctx.entraTenantId} returned no access token`,
              )
            return result.accessToken
          },
          (error: unknown) => {
            throw mapSignInError(error, ctx)
          },
        )
        .finally(() => inFlight.delete(key))
      inFlight.set(key, promise)
      return promise
    },
  }
}

/** The secret is part of the key only as a hash, so a rotated secret gets a new application. */
function cacheKey(ctx: GraphTenantContext): string {
  const secret = createHash('sha256').update(ctx.clientSecret).digest('hex').slice(0, 16)
  return [ctx.cloud, ctx.emulatorUrl ?? '', ctx.entraTenantId, ctx.clientId, secret].join('|')
}

/** Maps an MSAL/Entra error to an actionable GraphError; Entra's descriptions never contain the secret. */
export function mapSignInError(
  error: unknown,
  ctx: Pick<GraphTenantContext, 'entraTenantId' | 'clientId'>,
): GraphError {
  if (error instanceof GraphError) return error
  const e = error as { errorCode?: string; errorMessage?: string; message?: string }
  const text = `${e.errorCode ?? ''} ${e.errorMessage ?? e.message ?? ''}`
  const aadsts = AADSTS.exec(text)?.[1]
  // Entra's own sentence (AADSTS code and description) is the actionable part.
  const first = /AADSTS\d+: [^.]*\./.exec(text)?.[0] ?? ''
  if (aadsts === '7000215' || aadsts === '7000222' || aadsts === '7000216' || e.errorCode === 'invalid_client') {
    const expired = aadsts === '7000222'
    return new GraphError(
      'invalid_credentials',
      `The client secret of app ${ctx.clientId} was rejected${expired ? ' because it has expired' : ''}: create a new secret in Entra and update the tenant connection (${first})`,
      { cause: error },
    )
  }
  if (aadsts === '700016' || e.errorCode === 'unauthorized_client') {
    return new GraphError(
      'app_not_found',
      `App ${ctx.clientId} is not registered in tenant ${ctx.entraTenantId}: check the client id or consent the app in that tenant (${first})`,
      { cause: error },
    )
  }
  if (
    aadsts === '90002' ||
    aadsts === '900023' ||
    e.errorCode === 'invalid_tenant' ||
    /endpoints_resolution_error/.test(text)
  ) {
    return new GraphError(
      'tenant_not_found',
      `Tenant ${ctx.entraTenantId} was not found in this cloud (or its sign-in endpoint could not be reached): check the tenant id and the cloud${first ? ` (${first})` : ''}`,
      { cause: error },
    )
  }
  return new GraphError(
    'graph_unavailable',
    `Sign-in for tenant ${ctx.entraTenantId} failed: ${first || 'no response from the identity platform'}`,
    { cause: error },
  )
}
