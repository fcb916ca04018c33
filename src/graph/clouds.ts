/**
 * Where a tenant signs in and reads Graph, by national cloud. The emulator is a cloud of its
 * own: MSAL only accepts an https authority, so it signs in at a placeholder https host that
 * the MSAL network client maps onto the emulator's URL.
 */

export const CLOUDS = ['global', 'usgov', 'usgovdod', 'china', 'emulator'] as const
export type Cloud = (typeof CLOUDS)[number]

export const EMULATOR_LOGIN_HOST = 'login.emulator.tenantatlas.invalid'

const NATIONAL: Record<Exclude<Cloud, 'emulator'>, { loginUrl: string; graphUrl: string }> = {
  global: { loginUrl: 'https://login.microsoftonline.com', graphUrl: 'https://graph.microsoft.com' },
  usgov: { loginUrl: 'https://login.microsoftonline.us', graphUrl: 'https://graph.microsoft.us' },
  usgovdod: { loginUrl: 'https://login.microsoftonline.us', graphUrl: 'https://dod-graph.microsoft.us' },
  china: { loginUrl: 'https://login.chinacloudapi.cn', graphUrl: 'https://microsoftgraph.chinacloudapi.cn' },
}

export type CloudEndpoints = {
  /** The login host MSAL is configured with. */
  loginUrl: string
  /** Graph's base URL, without a trailing slash or version. */
  graphUrl: string
  /** The client-credentials scope. */
  scope: string
  /** For the emulator: the real base URL login requests are sent to. */
  loginTransportUrl?: string
}

export function cloudEndpoints(cloud: Cloud, emulatorUrl?: string): CloudEndpoints {
  if (cloud === 'emulator') {
    if (!emulatorUrl) throw new Error('A tenant in the emulator cloud needs the emulator URL (GRAPH_EMULATOR_URL)')
    const base = emulatorUrl.replace(/\/+$/, '')
    return {
      loginUrl: `https://${EMULATOR_LOGIN_HOST}`,
      graphUrl: base,
      scope: 'https://graph.microsoft.com/.default',
      loginTransportUrl: base,
    }
  }
  const endpoints = NATIONAL[cloud]
  if (!endpoints) throw new Error(`Unknown cloud: ${String(cloud)}`)
  return { ...endpoints, scope: `${endpoints.graphUrl}/.default` }
}

export const authorityFor = (cloud: Cloud, entraTenantId: string, emulatorUrl?: string) =>
  `${cloudEndpoints(cloud, emulatorUrl).loginUrl}/${entraTenantId}`
