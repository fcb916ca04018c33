import type { Executor } from '../../db/engine.ts'
import type { AlertDeliveryRow, AlertEventRow } from '../../db/schema.ts'
import { findTenant } from '../tenants/repository.ts'
import type { EventActor } from './events.ts'
import { findMessage, findRule, messageCounts, messageEvents } from './repository.ts'

/** A message's events carried in full (the rest are counted): keeps a webhook body bounded. */
export const MESSAGE_EVENT_LIMIT = 200

export const ALERT_SCHEMA = 'tenantatlas.alert/1'

export type MessageEvent = {
  kind: string
  at: string
  planned: boolean
  severity: string
  actor: EventActor | null
  subject: { type: string; id: string; name: string }
  summary: string
  link: string | null
}

/** A delivery's content, the same for every channel kind and every attempt (ADR 030: `tenantatlas.alert/1`). */
export type AlertMessage = {
  schema: typeof ALERT_SCHEMA
  /** The delivery's id: also the Idempotency-Key. */
  id: string
  rule: { id: string; name: string }
  tenant: { id: string; name: string }
  actor: string
  headline: string
  event_count: number
  events: MessageEvent[]
  link: string
}

const PHRASES: Record<string, [string, string]> = {
  'object.created': ['created', 'object'],
  'object.changed': ['changed', 'object'],
  'object.removed': ['removed', 'object'],
  'finding.opened': ['opened', 'finding'],
  'finding.reopened': ['reopened', 'finding'],
  'finding.resolved': ['resolved', 'finding'],
  'exception.expiring': ['has expiring', 'exception'],
  'run.failed': ['had failing', 'run'],
  'run.partially_succeeded': ['had partial', 'run'],
  'sync.stale': ['has stale', 'sync'],
  'credential.expiring': ['has expiring', 'credential'],
  'channel.failed': ['has failing', 'alert channel'],
}

const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`

/** "jane@contoso changed 7 settings in 3 objects, removed 1 object in Contoso": one sentence for the whole message. */
export function headlineOf(
  actor: string,
  tenant: string,
  counts: readonly { kind: string; n: number; subjects: number }[],
) {
  const parts = counts.map(({ kind, n, subjects }) => {
    const [verb, noun] = PHRASES[kind] ?? [kind, 'event']
    return kind === 'object.changed' && n !== subjects
      ? `${verb} ${plural(subjects, noun)} ${n} times`
      : `${verb} ${plural(n, noun)}`
  })
  return `${actor} ${parts.join(', ')} in ${tenant}`
}

export const absolute = (consoleUrl: string, path: string) => new URL(path, consoleUrl).toString()

export async function buildMessage(
  tx: Executor,
  delivery: Pick<AlertDeliveryRow, 'id' | 'messageId' | 'ruleId' | 'tenantId'>,
  consoleUrl: string,
): Promise<AlertMessage> {
  const [message, rule, tenant, counts, events] = await Promise.all([
    findMessage(tx, delivery.messageId),
    findRule(tx, delivery.ruleId),
    findTenant(tx, delivery.tenantId),
    messageCounts(tx, delivery.messageId),
    messageEvents(tx, delivery.messageId, MESSAGE_EVENT_LIMIT),
  ])
  const actor = message?.actorKey ?? 'unknown'
  const tenantName = tenant?.name ?? 'a removed tenant'
  return {
    schema: ALERT_SCHEMA,
    id: delivery.id,
    rule: { id: delivery.ruleId, name: rule?.name ?? 'a removed rule' },
    tenant: { id: delivery.tenantId, name: tenantName },
    actor,
    headline: headlineOf(actor, tenantName, counts),
    event_count: counts.reduce((sum, c) => sum + c.n, 0),
    events: events.map((e) => presentEvent(e, consoleUrl)),
    link: absolute(consoleUrl, `/t/${delivery.tenantId}/changes`),
  }
}

function presentEvent(event: AlertEventRow, consoleUrl: string): MessageEvent {
  return {
    kind: event.kind,
    at: event.at.toISOString(),
    planned: event.planned,
    severity: event.severity,
    actor: event.actor ?? null,
    subject: event.subject,
    summary: event.summary,
    link: event.link ? absolute(consoleUrl, event.link) : null,
  }
}
