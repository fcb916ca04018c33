import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node'

/**
 * MSAL's `system.networkClient` on fetch, used for the emulator cloud: requests MSAL sends to
 * the placeholder https login host go to the emulator's real URL, with the public host in
 * X-Forwarded-Host so the discovery documents name the host MSAL expects.
 */
export function createRewritingNetworkClient(options: {
  fromOrigin: string
  toBaseUrl: string
  timeoutMs: number
}): INetworkModule {
  const from = new URL(options.fromOrigin)
  const send = async <T>(
    method: 'GET' | 'POST',
    url: string,
    request: NetworkRequestOptions | undefined,
    timeoutMs?: number,
  ): Promise<NetworkResponse<T>> => {
    const target = new URL(url)
    const headers: Record<string, string> = { ...request?.headers }
    let destination = url
    if (target.origin === from.origin) {
      destination = `${options.toBaseUrl}${target.pathname}${target.search}`
      headers['x-forwarded-host'] = from.host
      headers['x-forwarded-proto'] = from.protocol.replace(':', '')
    }
    const response = await fetch(destination, {
      method,
      headers,
      body: method === 'POST' ? request?.body : undefined,
      signal: AbortSignal.timeout(timeoutMs ?? options.timeoutMs),
    })
    const text = await response.text()
    let body: unknown
    try {
      body = text ? JSON.parse(text) : {}
    } catch {
      body = { error: 'invalid_response', error_description: `Non-JSON response (${response.status})` }
    }
    return { status: response.status, headers: Object.fromEntries(response.headers), body: body as T }
  }
  return {
    sendGetRequestAsync: (url, request, timeout) => send('GET', url, request, timeout),
    sendPostRequestAsync: (url, request) => send('POST', url, request),
  }
}
