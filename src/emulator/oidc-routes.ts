import type { IncomingMessage, ServerResponse } from 'node:http'
import type { EmulatorState, PathKind } from './emulator-state.ts'
import {
  authorize,
  keySet,
  multiTenantConfiguration,
  redeemCode,
  redeemRefreshToken,
  submitSignIn,
  type OidcReply,
} from './oidc-provider.ts'

/**
 * Which requests the OpenID provider (oidc-provider.ts) answers; undefined for the rest of the login
 * routes (login-routes.ts: client credentials and the tenant's discovery document).
 */
export function oidcRoute(
  state: EmulatorState,
  req: IncomingMessage,
  method: string,
  segments: string[],
  text: string,
  issuerBase: string,
): { kind: PathKind; reply: OidcReply } | undefined {
  const tenant = decodeURIComponent(segments[0] ?? '')
  const rest = segments.slice(1).join('/')
  const url = req.url ?? '/'
  const query = new URLSearchParams(url.includes('?') ? url.slice(url.indexOf('?') + 1) : '')
  if (rest === 'oauth2/v2.0/authorize' && method === 'GET')
    return { kind: 'other', reply: authorize(state, tenant, query, req.headers.cookie) }
  if (rest === 'oauth2/v2.0/authorize' && method === 'POST')
    return { kind: 'other', reply: submitSignIn(state, tenant, new URLSearchParams(text)) }
  if (rest === 'discovery/v2.0/keys' && method === 'GET') return { kind: 'discovery', reply: keySet(state, tenant) }
  if (rest === 'v2.0/.well-known/openid-configuration' && method === 'GET') {
    const reply = multiTenantConfiguration(tenant, issuerBase)
    return reply ? { kind: 'discovery', reply } : undefined
  }
  if (rest === 'oauth2/v2.0/token' && method === 'POST') {
    const form = new URLSearchParams(text)
    const grant = form.get('grant_type')
    if (grant === 'authorization_code')
      return { kind: 'token', reply: redeemCode(state, tenant, form, req.headers.authorization, issuerBase) }
    if (grant === 'refresh_token')
      return { kind: 'token', reply: redeemRefreshToken(state, tenant, form, req.headers.authorization, issuerBase) }
    return undefined
  }
  return undefined
}

export function sendOidc(res: ServerResponse, reply: OidcReply) {
  const headers = { ...reply.headers }
  if (reply.html !== undefined) {
    res.writeHead(reply.status, {
      'content-type': 'text/html; charset=utf-8',
      'content-length': Buffer.byteLength(reply.html),
      ...headers,
    })
    res.end(reply.html)
    return
  }
  if (reply.body === undefined) {
    res.writeHead(reply.status, headers)
    res.end()
    return
  }
  const text = JSON.stringify(reply.body)
  res.writeHead(reply.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  })
  res.end(text)
}
