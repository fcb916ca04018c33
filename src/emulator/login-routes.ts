import { randomUUID } from 'node:crypto'
import type { EmulatorState } from './emulator-state.ts'

/**
 * The Microsoft identity platform for emulated tenants: client-credentials tokens and the
 * discovery documents MSAL reads first. Errors carry Entra's AADSTS codes so the client's
 * error mapping is exercised exactly as against Entra.
 */

export type Reply = { status: number; headers?: Record<string, string>; body: unknown }

function aadError(status: number, error: string, code: number, description: string): Reply {
  const trace = randomUUID()
  const correlation = randomUUID()
  const timestamp = new Date().toISOString().replace('T', ' ').slice(0, 19) + 'Z'
  return {
    status,
    body: {
      error,
      error_description: `AADSTS${code}: ${description} Trace ID: ${trace} Correlation ID: ${correlation} Timestamp: ${timestamp}`,
      error_codes: [code],
      timestamp,
      trace_id: trace,
      correlation_id: correlation,
      error_uri: `https://login.microsoftonline.com/error?code=${code}`,
    },
  }
}

const tenantNotFound = (tenant: string) =>
  aadError(
    400,
    'invalid_tenant',
    90002,
    `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
  )

/** `POST /{tenant}/oauth2/v2.0/token` */
export function issueToken(
  state: EmulatorState,
  tenantSegment: string,
  form: URLSearchParams,
  issuerBase: string,
): Reply {
  const tenant = state.tenants.get(tenantSegment)
  if (!tenant) return tenantNotFound(tenantSegment)
  if (form.get('grant_type') !== 'client_credentials')
    return aadError(400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.')
  const clientId = form.get('client_id') ?? ''
  if (clientId !== tenant.settings.clientId) {
    return aadError(
      400,
      'unauthorized_client',
      700016,
      `Application with identifier '${clientId}' was not found in the directory '${tenantSegment}'.`,
    )
  }
  if (form.get('client_secret') !== tenant.settings.clientSecret) {
    return aadError(
      400,
      'invalid_client',
      7000215,
      `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
    )
  }
  const scope = form.get('scope') ?? ''
  if (!scope.split(' ').some((s) => s.endsWith('/.default')))
    return aadError(
      400,
      'invalid_scope',
      1002012,
      'The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier.',
    )
  const now = Math.floor(Date.now() / 1000)
  const lifetime = tenant.settings.tokenLifetimeSeconds
  const accessToken = state.signer.sign({
    aud: 'https://graph.microsoft.com',
    iss: `${issuerBase}/${tenant.settings.tenantId}/v2.0`,
    tid: tenant.settings.tenantId,
    appid: clientId,
    roles: [...tenant.permissions].sort(),
    iat: now,
    nbf: now,
    exp: now + lifetime,
  })
  state.stats.tokensIssued++
  return {
    status: 200,
    body: { token_type: 'Bearer', expires_in: lifetime, ext_expires_in: lifetime, access_token: accessToken },
  }
}

/** `GET /{tenant}/v2.0/.well-known/openid-configuration`, with endpoints on the host the caller used. */
export function openIdConfiguration(state: EmulatorState, tenantSegment: string, issuerBase: string): Reply {
  if (!state.tenants.has(tenantSegment)) return tenantNotFound(tenantSegment)
  const base = `${issuerBase}/${tenantSegment}`
  return {
    status: 200,
    body: {
      token_endpoint: `${base}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${issuerBase}/${tenantSegment}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${base}/v2.0`,
      request_uri_parameter_supported: false,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      tenant_region_scope: 'EU',
      cloud_instance_name: 'microsoftonline.com',
    },
  }
}

/** `GET /common/discovery/instance`: MSAL's instance discovery, answered for the host itself. */
export function instanceDiscovery(issuerBase: string, host: string): Reply {
  return {
    status: 200,
    body: {
      tenant_discovery_endpoint: `${issuerBase}/{tenant}/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
    },
  }
}
