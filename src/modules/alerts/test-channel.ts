import type { Database } from '../../db/engine.ts'
import type { SecretBox } from '../../lib/crypto.ts'
import { notFound } from '../../lib/errors.ts'
import { uuidv7 } from '../../lib/ids.ts'
import { type Actor, recordAuditEvent } from '../audit/record-audit-event.ts'
import { CHANNEL_KINDS, type MailConfig } from './channel-kinds.ts'
import { absolute, ALERT_SCHEMA, type AlertMessage } from './message.ts'
import { findChannel } from './repository.ts'
import { openChannel } from './secrets.ts'

/** "Send a test message": one attempt, now, answered with what the receiver said (nothing is retried or logged as a delivery). */
export async function testChannel(
  db: Database,
  secrets: SecretBox,
  actor: Actor,
  channelId: string,
  options: { consoleUrl: string; mail: MailConfig | undefined; timeoutMs: number },
): Promise<{ status: 'sent' | 'failed'; response: string }> {
  const channel = await findChannel(db, channelId)
  if (!channel) throw notFound('Alert channel')
  const opened = openChannel(secrets, channel)
  const message: AlertMessage = {
    schema: ALERT_SCHEMA,
    id: uuidv7(),
    rule: { id: 'test', name: 'Test message' },
    tenant: { id: 'test', name: 'TenantAtlas' },
    actor: 'TenantAtlas',
    headline: `Test message from TenantAtlas to ${channel.name}`,
    event_count: 0,
    events: [],
    link: absolute(options.consoleUrl, '/alerts'),
  }
  const result = await CHANNEL_KINDS[channel.kind].send({
    target: opened.target,
    secret: opened.secret,
    message,
    timeoutMs: options.timeoutMs,
    mail: options.mail,
  })
  const status = result.outcome === 'sent' ? 'sent' : 'failed'
  await recordAuditEvent(db, actor, {
    action: 'alert_channel.tested',
    subject: { type: 'alert_channel', id: channel.id },
    metadata: { status, response: result.response },
  })
  return { status, response: result.response }
}
