import * as oidc from 'openid-client'
import type { EntraConfig } from '../../lib/config.ts'

/**
 * The OpenID Connect relying party for Microsoft Entra ID (ADR 028), on panva's openid-client: it
 * builds the authorization request (code + PKCE S256, state, nonce) and checks the answer: state,
 * the id token's signature against the tenant's published keys (refetched when a new `kid`
 * appears), issuer, audience, nonce, expiry and, when asked, `auth_time` against `max_age`.
 *
 * Endpoints are the Microsoft identity platform's v2.0 ones in the configured cloud
 * (https://learn.microsoft.com/entra/identity-platform/v2-protocols-oidc). With one tenant the
 * authority is that tenant; with a list it is `organizations`, whose issuer is the template
 * `https://login.microsoftonline.com/{tenantid}/v2.0`, which openid-client resolves with the
 * token's `tid` (then we refuse a tid outside the list).
 *
 * The emulator cloud speaks as the global one: the relying party talks to
 * `https://login.microsoftonline.com`, and a fetch of its own sends those requests to the emulator
 * (with the host it thinks it reached, so the emulator names the issuer as Microsoft's); only the
 * browser is sent to the emulator's own URL.
 */

const LOGIN_HOSTS: Record<Exclude<EntraConfig['cloud'], 'emulator'>, string> = {
  global: 'https://login.microsoftonline.com',
  usgov: 'https://login.microsoftonline.us',
  usgovdod: 'https://login.microsoftonline.us',
  china: 'https://login.chinacloudapi.cn',
}
const EMULATED_HOST = 'https://login.microsoftonline.com'

export const SCOPES = 'openid profile email offline_access'

/** What one sign-in attempt must remember between the redirect and the callback (kept in a sealed cookie). */
export type OidcFlow = {
  state: string
  nonce: string
  verifier: string
  /** Seconds: the authentication must be at most this old (step-up). */
  maxAge: number | null
  acrs: string | null
}

/** The claims of a checked id token that TenantAtlas uses. */
export type EntraClaims = {
  tid: string
  oid: string
  name: string
  username: string
  authTime: Date | null
  /** Every group (transitive), or `overage` when the token names Graph as their source instead. */
  groups: string[] | 'overage'
  appRoles: string[]
  acrs: string[]
}

export type OidcAnswer = { claims: EntraClaims; refreshToken: string | undefined }

export class SignInRefused extends Error {
  override name = 'SignInRefused'
  readonly code: string
  constructor(code: string, message: string) {
    super(message)
    this.code = code
  }
}

/** openid-client's refusals as messages a person (or the admin reading the log) can act on. */
export function explain(error: unknown): SignInRefused {
  if (error instanceof SignInRefused) return error
  if (error instanceof oidc.ResponseBodyError)
    return new SignInRefused(
      // invalid_grant on a refresh: Entra no longer signs this person in (disabled, deleted, sessions revoked).
      error.error === 'invalid_grant' ? 'invalid_grant' : 'provider_refused',
      `Entra refused: ${error.error}: ${error.error_description ?? ''}`.trim(),
    )
  if (error instanceof oidc.AuthorizationResponseError)
    return new SignInRefused(
      error.error === 'access_denied' ? 'access_denied' : 'provider_refused',
      `Entra did not sign you in: ${error.error}: ${error.error_description ?? ''}`.trim(),
    )
  // openid-client wraps oauth4webapi's error, whose cause names the claim that failed.
  type Layer = { message?: string; cause?: unknown; claim?: unknown }
  let message = (error as Layer).message ?? String(error)
  let claim: string | undefined
  for (let layer = error as Layer | undefined; layer && typeof layer === 'object'; layer = layer.cause as Layer) {
    if (typeof layer.claim === 'string') claim = layer.claim
    if (layer !== error && typeof layer.message === 'string') message = layer.message
  }
  if (claim === 'iss')
    return new SignInRefused(
      'wrong_issuer',
      `The id token's issuer is not the configured tenant's (${message}): check ENTRA_TENANT_ID and ENTRA_CLOUD`,
    )
  if (claim === 'aud')
    return new SignInRefused(
      'wrong_audience',
      `The id token was issued to another app (${message}): check ENTRA_CLIENT_ID`,
    )
  if (claim === 'nonce')
    return new SignInRefused(
      'wrong_nonce',
      `The id token's nonce does not match this sign-in (${message}): start again`,
    )
  if (claim === 'auth_time')
    return new SignInRefused('sign_in_too_old', 'Entra answered with an authentication older than asked: sign in again')
  if (/state/i.test(message))
    return new SignInRefused(
      'wrong_state',
      "The sign-in answer does not belong to this browser's sign-in (state mismatch): start again",
    )
  return new SignInRefused(
    'invalid_response',
    `The sign-in answer could not be checked: ${message}${claim ? ` (${claim})` : ''}`,
  )
}

const strings = (value: unknown) =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []

export function claimsOf(raw: Record<string, unknown>): EntraClaims {
  const tid = typeof raw.tid === 'string' ? raw.tid.toLowerCase() : ''
  const oid = typeof raw.oid === 'string' ? raw.oid.toLowerCase() : ''
  if (!tid || !oid)
    throw new SignInRefused(
      'missing_claims',
      'The id token has no tid or oid claim: the app registration must issue v2.0 tokens for work accounts',
    )
  const names = raw._claim_names as Record<string, unknown> | undefined
  const username = typeof raw.preferred_username === 'string' ? raw.preferred_username : ''
  return {
    tid,
    oid,
    username,
    name: typeof raw.name === 'string' && raw.name.trim() !== '' ? raw.name : username || oid,
    authTime: typeof raw.auth_time === 'number' ? new Date(raw.auth_time * 1000) : null,
    groups: names && typeof names === 'object' && 'groups' in names ? 'overage' : strings(raw.groups),
    appRoles: strings(raw.roles),
    acrs: strings(raw.acrs),
  }
}

export type OidcClient = ReturnType<typeof createOidcClient>

export function createOidcClient(entra: EntraConfig, emulatorUrl?: string) {
  const host = entra.cloud === 'emulator' ? EMULATED_HOST : LOGIN_HOSTS[entra.cloud]
  const authority = entra.tenantIds.length === 1 ? entra.tenantIds[0]! : 'organizations'
  const emulator = entra.cloud === 'emulator' ? emulatorUrl?.replace(/\/+$/, '') : undefined
  if (entra.cloud === 'emulator' && !emulator) throw new Error('ENTRA_CLOUD=emulator needs GRAPH_EMULATOR_URL')

  const toEmulator: oidc.CustomFetch = (url, options) => {
    const target = new URL(url)
    const headers = new Headers(options.headers)
    headers.set('x-forwarded-host', target.host)
    headers.set('x-forwarded-proto', 'https')
    return fetch(`${emulator}${target.pathname}${target.search}`, {
      method: options.method,
      headers,
      body: options.body,
      redirect: options.redirect,
      signal: options.signal,
    })
  }
  const fetchOptions = emulator ? { [oidc.customFetch]: toEmulator } : {}

  let configuration: Promise<oidc.Configuration> | undefined
  function config() {
    configuration ??= oidc
      .discovery(new URL(`${host}/${authority}/v2.0`), entra.clientId, entra.clientSecret, undefined, {
        ...fetchOptions,
        timeout: 15,
      })
      .catch((error: unknown) => {
        configuration = undefined // try again at the next sign-in
        throw new SignInRefused(
          'provider_unreachable',
          `Could not read Entra's OpenID configuration at ${host}/${authority}/v2.0: ${(error as Error).message}`,
        )
      })
    return configuration
  }

  /** Only the configured tenants' people get in (with one tenant the issuer check already ensures it). */
  function admitted(claims: EntraClaims): EntraClaims {
    if (!entra.tenantIds.includes(claims.tid))
      throw new SignInRefused(
        'tenant_not_allowed',
        `Accounts of the Entra tenant ${claims.tid} may not sign in here (ENTRA_TENANT_ID lists the tenants that may)`,
      )
    return claims
  }

  return {
    /** The URL to send the browser to, and what the callback must check. */
    async start(redirectUri: string, options: { maxAge?: number; acrs?: string; loginHint?: string } = {}) {
      const c = await config()
      const flow: OidcFlow = {
        state: oidc.randomState(),
        nonce: oidc.randomNonce(),
        verifier: oidc.randomPKCECodeVerifier(),
        maxAge: options.maxAge ?? null,
        acrs: options.acrs ?? null,
      }
      const parameters: Record<string, string> = {
        redirect_uri: redirectUri,
        scope: SCOPES,
        response_mode: 'query',
        code_challenge: await oidc.calculatePKCECodeChallenge(flow.verifier),
        code_challenge_method: 'S256',
        state: flow.state,
        nonce: flow.nonce,
      }
      if (flow.maxAge !== null) parameters.max_age = String(flow.maxAge)
      if (flow.acrs) parameters.claims = JSON.stringify({ id_token: { acrs: { essential: true, value: flow.acrs } } })
      if (options.loginHint) parameters.login_hint = options.loginHint
      const url = oidc.buildAuthorizationUrl(c, parameters)
      const browserUrl = emulator ? `${emulator}${url.pathname}${url.search}` : url.toString()
      return { url: browserUrl, flow }
    },

    /** Checks the callback (state, code, PKCE, the id token) and returns the person's claims. */
    async finish(callbackUrl: URL, flow: OidcFlow): Promise<OidcAnswer> {
      const c = await config()
      const tokens = await oidc
        .authorizationCodeGrant(c, callbackUrl, {
          pkceCodeVerifier: flow.verifier,
          expectedState: flow.state,
          expectedNonce: flow.nonce,
          idTokenExpected: true,
          ...(flow.maxAge !== null ? { maxAge: flow.maxAge } : {}),
        })
        .catch((error: unknown) => {
          throw explain(error)
        })
      const claims = admitted(claimsOf(tokens.claims() as Record<string, unknown>))
      if (flow.acrs && !claims.acrs.includes(flow.acrs))
        throw new SignInRefused(
          'acrs_missing',
          `The sign-in did not meet the authentication context ${flow.acrs} (no such value in the acrs claim)`,
        )
      return { claims, refreshToken: tokens.refresh_token }
    },

    /** The person's claims as Entra states them now (a refresh token redeemed); the new refresh token replaces the old. */
    async refresh(refreshToken: string): Promise<OidcAnswer> {
      const c = await config()
      const tokens = await oidc.refreshTokenGrant(c, refreshToken, { scope: SCOPES }).catch((error: unknown) => {
        throw explain(error)
      })
      const raw = tokens.claims()
      if (!raw) throw new SignInRefused('missing_claims', 'Entra answered the refresh without an id token')
      return { claims: admitted(claimsOf(raw)), refreshToken: tokens.refresh_token }
    },
  }
}
