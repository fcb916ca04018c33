import { z } from 'zod'
import { postJson } from './channel-http.ts'
import type { ChannelKind } from './channel-kinds.ts'
import type { AlertMessage } from './message.ts'
import { maskUrl } from './mask.ts'

/** Teams refuses a message over about 28 KB; we stay under this. */
export const TEAMS_MAX_BYTES = 27 * 1024
/** Workflows ("When a Teams webhook request is received") renders Adaptive Cards up to 1.5 on desktop; 1.4 is safe everywhere. */
export const ADAPTIVE_CARD_VERSION = '1.4'

const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value))

/**
 * The message as a Workflows webhook takes it: one Adaptive Card attachment. Events are listed, each
 * linking to its diff, as many as fit under Teams' size limit; the rest are counted.
 */
export function adaptiveCard(message: AlertMessage) {
  const card = {
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: ADAPTIVE_CARD_VERSION,
    body: [
      { type: 'TextBlock', text: message.headline, weight: 'Bolder', size: 'Medium', wrap: true },
      {
        type: 'FactSet',
        facts: [
          { title: 'Tenant', value: message.tenant.name },
          { title: 'Rule', value: message.rule.name },
          { title: 'Events', value: String(message.event_count) },
        ],
      },
    ] as Record<string, unknown>[],
    actions: [{ type: 'Action.OpenUrl', title: 'Open in TenantAtlas', url: message.link }],
  }
  const envelope = {
    type: 'message',
    attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content: card }],
  }
  let listed = 0
  for (const event of message.events) {
    const text = `${event.planned ? '(planned) ' : ''}${event.summary}${event.link ? ` — [diff](${event.link})` : ''}`
    const line = { type: 'TextBlock', text: text.slice(0, 500), wrap: true, spacing: 'Small' }
    // Room is kept for the closing "and N more" line.
    if (bytes(envelope) + bytes(line) + 200 > TEAMS_MAX_BYTES) break
    card.body.push(line)
    listed++
  }
  if (message.event_count > listed)
    card.body.push({ type: 'TextBlock', text: `…and ${message.event_count - listed} more`, isSubtle: true, wrap: true })
  return envelope
}

export const teamsChannel: ChannelKind = {
  kind: 'teams',
  fields: { url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2048) },
  target(body) {
    const url = body.url as string
    return { target: url, masked: maskUrl(url) }
  },
  async send({ target, message, timeoutMs }) {
    return postJson(target, JSON.stringify(adaptiveCard(message)), { 'idempotency-key': message.id }, timeoutMs)
  },
}
