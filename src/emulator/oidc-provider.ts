import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { EmulatedTenant } from './emulated-tenant.ts'
import type { EmulatorState } from './emulator-state.ts'
import { directoryUser, directoryUsers, passwordMatches, type DirectoryUser } from './directory-routes.ts'
import { OidcKeys } from './oidc-keys.ts'

/**
 * The Microsoft identity platform's OpenID Connect endpoints for emulated tenants (docs/emulator.md,
 * "Sign-in"), as the v2.0 endpoints are documented:
 * https://learn.microsoft.com/entra/identity-platform/v2-protocols-oidc and
 * https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow.
 *
 * - `GET /{tenant}/oauth2/v2.0/authorize`: a sign-in page listing the tenant's directory users (for
 *   `organizations` or `common`: every emulated tenant's), single sign-on through a cookie unless
 *   `prompt=login`, an authentication older than `max_age`, or a `claims` request for `acrs` values
 *   the session has not met; `prompt=none` without a session answers `login_required`.
 * - `POST /{tenant}/oauth2/v2.0/token` with `grant_type=authorization_code`: the client's secret
 *   (`client_secret_post` or `_basic`), the redirect URI and the PKCE verifier (S256) are checked;
 *   a code works once, for ten minutes.
 * - `GET /{tenant}/discovery/v2.0/keys`: the RS256 key set (oidc-keys.ts).
 *
 * The id token carries the claims of https://learn.microsoft.com/entra/identity-platform/id-token-claims-reference:
 * `iss` (`{host}/{tid}/v2.0`), `aud` (the client id), `tid`, `oid`, `sub` (pairwise per app),
 * `preferred_username`, `name`, `nonce`, `auth_time`, `roles` (app roles assigned to the user or a
 * group it is a direct member of), `groups` (every group, transitively) and, past the overage limit
 * (200 in a JWT), no `groups` but `_claim_names`/`_claim_sources` pointing at Graph, as described in
 * https://learn.microsoft.com/security/zero-trust/develop/configure-tokens-group-claims-app-roles.
 */

export type OidcSettings = {
  /** Above this many groups the token carries the overage claim instead (Entra: 200 for a JWT). */
  groups_limit: number
  /** Whether the app registration emits the groups claim at all (`groupMembershipClaims`). */
  group_claims: boolean
  /** Faults for relying-party tests: a token with another issuer, audience or nonce than asked. */
  wrong_issuer: boolean
  wrong_audience: boolean
  wrong_nonce: boolean
  /**
   * How long ago a sign-in on the page counts as having happened (its `auth_time`): a person whose
   * Entra session began this morning, so that a relying party's `max_age` step-up can be tried
   * without waiting. 0: now.
   */
  auth_age_seconds: number
}

const DEFAULT_SETTINGS: OidcSettings = {
  groups_limit: 200,
  group_claims: true,
  wrong_issuer: false,
  wrong_audience: false,
  wrong_nonce: false,
  auth_age_seconds: 0,
}

type CodeGrant = {
  tenantId: string
  clientId: string
  redirectUri: string
  codeChallenge: string | null
  nonce: string | null
  scope: string[]
  userId: string
  authTime: number
  acrs: string[]
  expiresAt: number
}

type SsoSession = { tenantId: string; userId: string; authTime: number; acrs: Set<string> }

class OidcState {
  keys = new OidcKeys()
  settings: OidcSettings = { ...DEFAULT_SETTINGS }
  codes = new Map<string, CodeGrant>()
  /** Refresh tokens (offline_access): the sign-in they continue, claims read afresh at each use. */
  refreshTokens = new Map<string, Omit<CodeGrant, 'redirectUri' | 'codeChallenge' | 'expiresAt'>>()
  sessions = new Map<string, SsoSession>()
}

const states = new WeakMap<EmulatorState, OidcState>()
const oidcOf = (state: EmulatorState) => {
  let s = states.get(state)
  if (!s) states.set(state, (s = new OidcState()))
  return s
}

export type OidcReply = { status: number; headers?: Record<string, string>; body?: unknown; html?: string }

const SSO_COOKIE = 'emu_sso'
const CODE_LIFETIME_MS = 10 * 60_000
const ID_TOKEN_LIFETIME_S = 3600
const MULTI_TENANT = new Set(['organizations', 'common'])

const sha256url = (text: string) => createHash('sha256').update(text).digest('base64url')

function equalText(a: string, b: string) {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)

function aad(status: number, error: string, code: number, description: string): OidcReply {
  return { status, body: { error, error_description: `AADSTS${code}: ${description}`, error_codes: [code] } }
}

/** The tenants a segment names: one tenant, or every tenant for `organizations` / `common`. */
function tenantsOf(state: EmulatorState, segment: string): EmulatedTenant[] | undefined {
  if (MULTI_TENANT.has(segment)) return [...state.tenants.values()]
  const tenant = state.tenants.get(segment)
  return tenant ? [tenant] : undefined
}

/** `GET /{organizations|common}/v2.0/.well-known/openid-configuration`: the issuer is a template, as Entra's is. */
export function multiTenantConfiguration(segment: string, issuerBase: string): OidcReply | undefined {
  if (!MULTI_TENANT.has(segment)) return undefined
  const base = `${issuerBase}/${segment}`
  return {
    status: 200,
    body: {
      token_endpoint: `${base}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${base}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${issuerBase}/{tenantid}/v2.0`,
      request_uri_parameter_supported: false,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      cloud_instance_name: 'microsoftonline.com',
    },
  }
}

/** The `acrs` values a `claims` request asks for (`{"id_token": {"acrs": {"essential": true, "value"|"values": …}}}`). */
function requestedAcrs(claims: string | null): string[] | { error: string } {
  if (!claims) return []
  let parsed: unknown
  try {
    parsed = JSON.parse(claims)
  } catch {
    return { error: 'The claims parameter is not valid JSON.' }
  }
  const out = new Set<string>()
  // Entra puts acrs in the access token; a relying party that only signs in asks for it in the id token.
  for (const target of ['id_token', 'access_token']) {
    const acrs = (parsed as Record<string, Record<string, { value?: unknown; values?: unknown }> | undefined>)?.[target]
      ?.acrs
    if (!acrs) continue
    for (const v of [acrs.value, ...(Array.isArray(acrs.values) ? (acrs.values as unknown[]) : [])])
      if (typeof v === 'string' && v !== '') out.add(v)
  }
  return [...out]
}

type AuthorizeRequest = {
  tenants: EmulatedTenant[]
  clientId: string
  redirectUri: string
  state: string | null
  nonce: string | null
  scope: string[]
  codeChallenge: string | null
  prompt: string | null
  maxAge: number | null
  acrs: string[]
  params: URLSearchParams
}

/** Checks an authorize request; an error the client can be told about goes to its redirect URI, as Entra does. */
function parseAuthorize(state: EmulatorState, segment: string, params: URLSearchParams): AuthorizeRequest | OidcReply {
  const all = tenantsOf(state, segment)
  if (!all)
    return aad(400, 'invalid_tenant', 90002, `Tenant '${segment}' not found. Check the tenant ID and the cloud.`)
  const clientId = params.get('client_id') ?? ''
  const tenants = all.filter((t) => t.settings.clientId === clientId)
  if (tenants.length === 0)
    return aad(
      400,
      'unauthorized_client',
      700016,
      `Application with identifier '${clientId}' was not found in the directory '${segment}'.`,
    )
  const redirectUri = params.get('redirect_uri') ?? ''
  if (!/^https?:\/\//.test(redirectUri))
    return aad(
      400,
      'invalid_request',
      50011,
      `The redirect URI '${redirectUri}' specified in the request is not valid.`,
    )
  const back = (error: string, description: string): OidcReply =>
    redirect(redirectUri, params.get('state'), { error, error_description: description })
  if (params.get('response_type') !== 'code')
    return back('unsupported_response_type', 'AADSTS700054: response_type must be code for this app.')
  const scope = (params.get('scope') ?? '').split(' ').filter(Boolean)
  if (!scope.includes('openid')) return back('invalid_scope', 'AADSTS70011: The scope must include openid.')
  const challenge = params.get('code_challenge')
  const method = params.get('code_challenge_method') ?? 'plain'
  if (challenge !== null && method !== 'S256')
    return back('invalid_request', 'AADSTS501491: code_challenge_method must be S256.')
  const maxAgeText = params.get('max_age')
  const maxAge = maxAgeText === null ? null : Number(maxAgeText)
  if (maxAge !== null && (!Number.isInteger(maxAge) || maxAge < 0))
    return back('invalid_request', 'AADSTS90014: max_age must be a whole number of seconds.')
  const acrs = requestedAcrs(params.get('claims'))
  if (!Array.isArray(acrs)) return back('invalid_request', `AADSTS90014: ${acrs.error}`)
  return {
    tenants,
    clientId,
    redirectUri,
    state: params.get('state'),
    nonce: params.get('nonce'),
    scope,
    codeChallenge: challenge,
    prompt: params.get('prompt'),
    maxAge,
    acrs,
    params,
  }
}

function redirect(to: string, state: string | null, values: Record<string, string>, cookie?: string): OidcReply {
  const url = new URL(to)
  for (const [k, v] of Object.entries(values)) url.searchParams.set(k, v)
  if (state !== null) url.searchParams.set('state', state)
  return {
    status: 302,
    headers: { location: url.toString(), 'cache-control': 'no-store', ...(cookie ? { 'set-cookie': cookie } : {}) },
  }
}

const cookieOf = (header: string | undefined, name: string) =>
  header
    ?.split(';')
    .map((part) => part.trim().split('='))
    .find(([k]) => k === name)?.[1]

function issueCode(
  oidc: OidcState,
  request: AuthorizeRequest,
  tenant: EmulatedTenant,
  session: SsoSession,
  cookie?: string,
) {
  const code = randomBytes(32).toString('base64url')
  oidc.codes.set(code, {
    tenantId: tenant.settings.tenantId,
    clientId: request.clientId,
    redirectUri: request.redirectUri,
    codeChallenge: request.codeChallenge,
    nonce: request.nonce,
    scope: request.scope,
    userId: session.userId,
    authTime: session.authTime,
    acrs: request.acrs.filter((a) => session.acrs.has(a)),
    expiresAt: Date.now() + CODE_LIFETIME_MS,
  })
  return redirect(request.redirectUri, request.state, { code }, cookie)
}

/** `GET /{tenant}/oauth2/v2.0/authorize`: single sign-on when the session may answer, else the sign-in page. */
export function authorize(state: EmulatorState, segment: string, params: URLSearchParams, cookies?: string): OidcReply {
  const request = parseAuthorize(state, segment, params)
  if ('status' in request) return request
  const oidc = oidcOf(state)
  const session = oidc.sessions.get(cookieOf(cookies, SSO_COOKIE) ?? '')
  const tenant = session && request.tenants.find((t) => t.settings.tenantId === session.tenantId)
  const now = Math.floor(Date.now() / 1000)
  const fresh =
    session !== undefined &&
    tenant !== undefined &&
    request.prompt !== 'login' &&
    (request.maxAge === null || (request.maxAge > 0 && now - session.authTime <= request.maxAge)) &&
    request.acrs.every((a) => session.acrs.has(a)) &&
    directoryUser(tenant, session.userId)?.enabled === true
  if (fresh) return issueCode(oidc, request, tenant, session)
  if (request.prompt === 'none')
    return redirect(request.redirectUri, request.state, {
      error: 'login_required',
      error_description: 'AADSTS50058: A silent sign-in request was sent but no user is signed in.',
    })
  return { status: 200, html: signInPage(request, null) }
}

/** `POST /{tenant}/oauth2/v2.0/authorize`: the sign-in page's form (the request's parameters plus `username`, `password`). */
export function submitSignIn(state: EmulatorState, segment: string, form: URLSearchParams): OidcReply {
  const username = form.get('username') ?? ''
  const password = form.get('password') ?? ''
  const params = new URLSearchParams(form)
  params.delete('username')
  params.delete('password')
  const request = parseAuthorize(state, segment, params)
  if ('status' in request) return request
  let found: { tenant: EmulatedTenant; user: DirectoryUser } | undefined
  for (const tenant of request.tenants) {
    const user = directoryUser(tenant, username)
    if (user) found = { tenant, user }
  }
  if (!found || !passwordMatches(found.tenant, found.user.id, password))
    return { status: 200, html: signInPage(request, 'Your account or password is incorrect.') }
  if (!found.user.enabled)
    return { status: 200, html: signInPage(request, 'Your account has been locked. Contact your administrator.') }
  const oidc = oidcOf(state)
  const sid = randomBytes(24).toString('base64url')
  // Signing in on this page meets every authentication context asked for (the emulator has no MFA to do).
  const session: SsoSession = {
    tenantId: found.tenant.settings.tenantId,
    userId: found.user.id,
    authTime: Math.floor(Date.now() / 1000) - oidc.settings.auth_age_seconds,
    acrs: new Set(request.acrs),
  }
  oidc.sessions.set(sid, session)
  return issueCode(oidc, request, found.tenant, session, `${SSO_COOKIE}=${sid}; Path=/; HttpOnly; SameSite=Lax`)
}

function signInPage(request: AuthorizeRequest, error: string | null): string {
  const hidden = [...request.params]
    .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
    .join('')
  const users = request.tenants.flatMap((t) => directoryUsers(t).filter((u) => u.enabled))
  const rows = users
    .map(
      (u) =>
        `<li><form method="post">${hidden}<input type="hidden" name="username" value="${escapeHtml(u.upn)}">` +
        `<input type="password" name="password" placeholder="Password (if set)" aria-label="Password for ${escapeHtml(u.upn)}">` +
        `<button type="submit" data-testid="emulator-user" data-upn="${escapeHtml(u.upn)}">${escapeHtml(u.name)} (${escapeHtml(u.upn)})</button></form></li>`,
    )
    .join('')
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in to your account (emulator)</title></head>
<body><h1>Sign in</h1><p>Microsoft identity platform emulator${request.maxAge !== null || request.prompt === 'login' || request.acrs.length > 0 ? ': please sign in again' : ''}</p>
${error ? `<p role="alert">${escapeHtml(error)}</p>` : ''}
<ul>${rows || '<li>No directory users: create one with POST /_emulator/tenants/{id}/users</li>'}</ul>
<form method="post">${hidden}<label>User <input name="username"></label><label>Password <input type="password" name="password"></label><button type="submit">Sign in</button></form>
</body></html>`
}

/** `POST /{tenant}/oauth2/v2.0/token` with `grant_type=authorization_code`. */
export function redeemCode(
  state: EmulatorState,
  segment: string,
  form: URLSearchParams,
  authorization: string | undefined,
  issuerBase: string,
): OidcReply {
  const oidc = oidcOf(state)
  const { clientId, secret } = clientOf(form, authorization)
  const tenants = tenantsOf(state, segment)
  if (!tenants) return aad(400, 'invalid_tenant', 90002, `Tenant '${segment}' not found.`)
  const code = form.get('code') ?? ''
  const grant = oidc.codes.get(code)
  oidc.codes.delete(code) // once, whatever follows
  const invalidGrant = (text: string) => aad(400, 'invalid_grant', 70008, text)
  if (!grant || grant.expiresAt < Date.now())
    return invalidGrant('The provided authorization code or refresh token has expired or was already used.')
  const tenant = tenants.find((t) => t.settings.tenantId === grant.tenantId)
  if (!tenant || grant.clientId !== clientId)
    return aad(400, 'invalid_client', 700016, `Application '${clientId}' does not match the code's.`)
  if (secret === null || !equalText(secret, tenant.settings.clientSecret))
    return aad(401, 'invalid_client', 7000215, 'Invalid client secret provided.')
  if (form.get('redirect_uri') !== grant.redirectUri)
    return invalidGrant('AADSTS50148: The redirect_uri does not match the one of the authorization request.')
  if (grant.codeChallenge !== null) {
    const verifier = form.get('code_verifier')
    if (!verifier) return aad(400, 'invalid_request', 50148, 'The code_verifier is missing.')
    if (sha256url(verifier) !== grant.codeChallenge)
      return aad(400, 'invalid_grant', 50148, 'The code_verifier does not match the code_challenge.')
  }
  return mintTokens(state, tenant, grant, issuerBase)
}

/** `POST /{tenant}/oauth2/v2.0/token` with `grant_type=refresh_token`: new tokens with the user's claims as they are now. */
export function redeemRefreshToken(
  state: EmulatorState,
  segment: string,
  form: URLSearchParams,
  authorization: string | undefined,
  issuerBase: string,
): OidcReply {
  const oidc = oidcOf(state)
  const { clientId, secret } = clientOf(form, authorization)
  const grant = oidc.refreshTokens.get(form.get('refresh_token') ?? '')
  if (!grant) return aad(400, 'invalid_grant', 70008, 'The refresh token has expired, was revoked or was already used.')
  const tenant = tenantsOf(state, segment)?.find((t) => t.settings.tenantId === grant.tenantId)
  if (!tenant || grant.clientId !== clientId)
    return aad(400, 'invalid_client', 700016, `Application '${clientId}' does not match the refresh token's.`)
  if (secret === null || !equalText(secret, tenant.settings.clientSecret))
    return aad(401, 'invalid_client', 7000215, 'Invalid client secret provided.')
  oidc.refreshTokens.delete(form.get('refresh_token') ?? '') // rotated, as Entra does for web apps
  return mintTokens(state, tenant, { ...grant, nonce: null }, issuerBase)
}

function clientOf(form: URLSearchParams, authorization: string | undefined) {
  const basic = /^Basic\s+(\S+)$/i.exec(authorization ?? '')
  if (!basic) return { clientId: form.get('client_id') ?? '', secret: form.get('client_secret') }
  const [id, pass] = Buffer.from(basic[1]!, 'base64').toString('utf8').split(':')
  return { clientId: decodeURIComponent(id ?? ''), secret: decodeURIComponent(pass ?? '') }
}

function mintTokens(
  state: EmulatorState,
  tenant: EmulatedTenant,
  grant: Omit<CodeGrant, 'redirectUri' | 'codeChallenge' | 'expiresAt'>,
  issuerBase: string,
): OidcReply {
  const oidc = oidcOf(state)
  const clientId = grant.clientId
  const user = directoryUser(tenant, grant.userId)
  if (!user?.enabled)
    return aad(400, 'invalid_grant', 50057, 'The user account is disabled or no longer exists in the directory.')
  const s = oidc.settings
  const tid = tenant.settings.tenantId
  const now = Math.floor(Date.now() / 1000)
  const claims: Record<string, unknown> = {
    ver: '2.0',
    iss: `${issuerBase}/${s.wrong_issuer ? '00000000-0000-0000-0000-00000000dead' : tid}/v2.0`,
    aud: s.wrong_audience ? '00000000-0000-0000-0000-00000000beef' : clientId,
    iat: now,
    nbf: now,
    exp: now + ID_TOKEN_LIFETIME_S,
    sub: sha256url(`${user.id}:${clientId}`).slice(0, 43),
    tid,
    oid: user.id,
    name: user.name,
    preferred_username: user.upn,
    auth_time: grant.authTime,
  }
  if (grant.scope.includes('email')) claims.email = user.upn
  if (grant.nonce !== null) claims.nonce = s.wrong_nonce ? 'not-the-nonce-you-sent' : grant.nonce
  if (user.appRoles.length > 0) claims.roles = user.appRoles
  if (s.group_claims) {
    if (user.groups.length > s.groups_limit) {
      claims._claim_names = { groups: 'src1' }
      claims._claim_sources = {
        src1: { endpoint: `https://graph.microsoft.com/v1.0/users/${user.id}/getMemberObjects` },
      }
    } else claims.groups = user.groups
  }
  if (grant.acrs.length > 0) claims.acrs = grant.acrs
  const idToken = oidc.keys.sign(claims)
  const accessToken = oidc.keys.sign({
    aud: '00000003-0000-0000-c000-000000000000',
    iss: `https://sts.windows.net/${tid}/`,
    tid,
    oid: user.id,
    scp:
      grant.scope.filter((x) => !['openid', 'profile', 'email', 'offline_access'].includes(x)).join(' ') || 'User.Read',
    iat: now,
    nbf: now,
    exp: now + ID_TOKEN_LIFETIME_S,
  })
  state.stats.tokensIssued++
  let refreshToken: string | undefined
  if (grant.scope.includes('offline_access')) {
    refreshToken = randomBytes(32).toString('base64url')
    const { tenantId, clientId: client, nonce, scope, userId, authTime, acrs } = grant
    oidc.refreshTokens.set(refreshToken, { tenantId, clientId: client, nonce, scope, userId, authTime, acrs })
  }
  return {
    status: 200,
    headers: { 'cache-control': 'no-store' },
    body: {
      token_type: 'Bearer',
      scope: grant.scope.join(' '),
      expires_in: ID_TOKEN_LIFETIME_S,
      ext_expires_in: ID_TOKEN_LIFETIME_S,
      access_token: accessToken,
      id_token: idToken,
      ...(refreshToken ? { refresh_token: refreshToken } : {}),
    },
  }
}

/** `GET /{tenant}/discovery/v2.0/keys` */
export function keySet(state: EmulatorState, segment: string): OidcReply {
  if (!tenantsOf(state, segment)) return aad(400, 'invalid_tenant', 90002, `Tenant '${segment}' not found.`)
  return { status: 200, body: oidcOf(state).keys.jwks() }
}

/**
 * The control API under `/_emulator/oidc` (docs/emulator.md): `GET`/`PUT` the settings
 * (`groups_limit`, `group_claims`, the `wrong_*` faults; a PUT resets what it does not name),
 * `POST /_emulator/oidc/keys/rotate` `{"retire_previous"?: bool}`, `DELETE /_emulator/oidc/sessions`
 * (every emulated browser session ends: the next authorize shows the page).
 */
export function oidcControl(state: EmulatorState, method: string, parts: string[], body: unknown): OidcReply {
  const oidc = oidcOf(state)
  const input = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>
  const invalid = (message: string): OidcReply => ({
    status: 400,
    body: { error: { code: 'invalid_request', message } },
  })
  if (parts.length === 0) {
    if (method === 'GET') return { status: 200, body: { ...oidc.settings, signing_kid: oidc.keys.currentKid } }
    if (method !== 'PUT')
      return { status: 405, body: { error: { code: 'method_not_allowed', message: 'Use GET or PUT' } } }
    const next: OidcSettings = { ...DEFAULT_SETTINGS }
    for (const [key, value] of Object.entries(input)) {
      if (key === 'groups_limit' || key === 'auth_age_seconds') {
        if (typeof value !== 'number' || !Number.isInteger(value) || value < 0)
          return invalid(`${key}: must be a whole number ≥ 0`)
        next[key] = value
      } else if (
        key === 'group_claims' ||
        key === 'wrong_issuer' ||
        key === 'wrong_audience' ||
        key === 'wrong_nonce'
      ) {
        if (typeof value !== 'boolean') return invalid(`${key}: must be true or false`)
        next[key] = value
      } else
        return invalid(
          `${key}: unknown setting (groups_limit, group_claims, wrong_issuer, wrong_audience, wrong_nonce, ` +
            'auth_age_seconds)',
        )
    }
    oidc.settings = next
    return { status: 200, body: { ...oidc.settings, signing_kid: oidc.keys.currentKid } }
  }
  if (parts.join('/') === 'keys/rotate' && method === 'POST') {
    if (input.retire_previous !== undefined && typeof input.retire_previous !== 'boolean')
      return invalid('retire_previous: must be true or false')
    return { status: 200, body: oidc.keys.rotate(input.retire_previous === true) }
  }
  if (parts.join('/') === 'sessions' && method === 'DELETE') {
    oidc.sessions.clear()
    return { status: 204 }
  }
  return { status: 404, body: { error: { code: 'not_found', message: `No route /_emulator/oidc/${parts.join('/')}` } } }
}
