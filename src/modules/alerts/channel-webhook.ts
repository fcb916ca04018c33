import { createHmac, randomBytes } from 'node:crypto'
import { z } from 'zod'
import { postJson } from './channel-http.ts'
import type { ChannelKind } from './channel-kinds.ts'
import { maskUrl } from './mask.ts'

/**
 * `X-TenantAtlas-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>`: the
 * receiver recomputes it over the raw body (README, "Verifying a webhook").
 */
export function signature(secret: string, body: string, at: Date = new Date()): string {
  const t = Math.floor(at.getTime() / 1000)
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`
}

export const webhookChannel: ChannelKind = {
  kind: 'webhook',
  fields: {
    url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2048),
    secret: z.string().min(16, 'must be at least 16 characters').max(256).optional(),
  },
  target(body) {
    const url = body.url as string
    const secret = (body.secret as string | undefined) ?? randomBytes(32).toString('base64url')
    return { target: url, masked: maskUrl(url), secret, generatedSecret: body.secret === undefined }
  },
  async send({ target, secret, message, timeoutMs }) {
    const body = JSON.stringify({ ...message, sent_at: new Date().toISOString() })
    const headers: Record<string, string> = { 'idempotency-key': message.id }
    if (secret) headers['x-tenantatlas-signature'] = signature(secret, body)
    return postJson(target, body, headers, timeoutMs)
  },
}
