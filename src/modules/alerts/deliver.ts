import type { Database } from '../../db/engine.ts'
import type { AlertChannelRow, AlertDeliveryRow } from '../../db/schema.ts'
import type { SecretBox } from '../../lib/crypto.ts'
import type { SendResult } from './channel-http.ts'
import { CHANNEL_KINDS, type MailConfig } from './channel-kinds.ts'
import { recordEvent } from './events.ts'
import { buildMessage } from './message.ts'
import { claimDeliveries, findChannel, settleDelivery } from './repository.ts'
import { openChannel } from './secrets.ts'

export type DeliveryOptions = {
  /** Deliveries sent side by side in this process. */
  concurrency: number
  /** One attempt's limit: no answer by then is a timeout (retried). */
  timeoutMs: number
  /** Back-off after the n-th failed attempt: base × 2^(n-1), at most max (Retry-After is honoured within max). */
  backoffBaseSeconds: number
  backoffMaxSeconds: number
  /** Where the console is, for links in messages. */
  consoleUrl: string
  mail: MailConfig | undefined
  /** How long a claimed attempt is leased (default: the timeout and 30 s): after it, another worker may send again. */
  leaseSeconds?: number
  /** Told about every settled attempt (metrics). */
  onSettled?: (kind: string, status: AlertDeliveryRow['status']) => void
}

export function backoffSeconds(attempts: number, options: DeliveryOptions, retryAfter?: number): number {
  const exponential = options.backoffBaseSeconds * 2 ** Math.max(0, attempts - 1)
  // ±20 % so that many deliveries failing together do not come back together.
  const jittered = exponential * (0.8 + Math.random() * 0.4)
  return Math.min(options.backoffMaxSeconds, Math.max(jittered, retryAfter ?? 0))
}

/**
 * Sends the due deliveries, up to `concurrency` at once; returns how many attempts were made. Each
 * attempt was counted and leased when claimed, so one that never reports back is sent again after
 * the lease with the same Idempotency-Key (exactly once at the receiver, ADR 030).
 */
export async function deliverDue(db: Database, secrets: SecretBox, options: DeliveryOptions): Promise<number> {
  const leaseSeconds = options.leaseSeconds ?? Math.ceil(options.timeoutMs / 1000) + 30
  const claimed = await claimDeliveries(db, options.concurrency, leaseSeconds)
  await Promise.all(claimed.map((delivery) => attempt(db, secrets, delivery, options)))
  return claimed.length
}

async function attempt(db: Database, secrets: SecretBox, delivery: AlertDeliveryRow, options: DeliveryOptions) {
  const channel = await findChannel(db, delivery.channelId)
  if (!channel)
    return settle(db, delivery, undefined, { outcome: 'fail', response: 'the channel was deleted' }, options)
  const opened = openChannel(secrets, channel)
  const message = await buildMessage(db, delivery, options.consoleUrl)
  const result = await CHANNEL_KINDS[channel.kind].send({
    target: opened.target,
    secret: opened.secret,
    message,
    timeoutMs: options.timeoutMs,
    mail: options.mail,
  })
  await settle(db, delivery, channel, result, options)
}

async function settle(
  db: Database,
  delivery: AlertDeliveryRow,
  channel: AlertChannelRow | undefined,
  result: SendResult,
  options: DeliveryOptions,
) {
  await db.transaction(async (tx) => {
    let settled: AlertDeliveryRow | undefined
    if (result.outcome === 'sent')
      settled = await settleDelivery(tx, delivery.id, { status: 'sent', response: result.response })
    else {
      const wait = result.outcome === 'retry' ? backoffSeconds(delivery.attempts, options, result.retryAfterSeconds) : 0
      const givesUp = result.outcome === 'fail' || Date.now() + wait * 1000 > delivery.giveUpAt.getTime()
      settled = givesUp
        ? await settleDelivery(tx, delivery.id, {
            status: 'failed',
            response:
              result.outcome === 'fail'
                ? result.response
                : `gave up after ${delivery.attempts} attempts: ${result.response}`.slice(0, 300),
          })
        : await settleDelivery(tx, delivery.id, { status: 'retrying', response: result.response, retryInSeconds: wait })
      // A channel that failed is news for the other channels; a failure of that news is not (no loop).
      if (settled?.status === 'failed' && channel && !delivery.aboutChannelFailure)
        await recordEvent(tx, {
          tenantId: delivery.tenantId,
          kind: 'channel.failed',
          severity: 'high',
          actor: { app_name: 'TenantAtlas' },
          subject: { type: 'alert_channel', id: channel.id, name: channel.name },
          summary: `Alert channel ${channel.name} gave up on a message: ${settled.lastResponse ?? ''}`.slice(0, 400),
          link: '/alerts',
          dedupKey: `channel-failed:${delivery.id}`,
        })
    }
    if (settled) options.onSettled?.(channel?.kind ?? 'unknown', settled.status)
  })
}
