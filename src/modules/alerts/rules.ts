import type { AlertRuleRow } from '../../db/schema.ts'
import { type EventActor, severityRank } from './events.ts'

/** An event as the dispatcher routes it: its actor resolved (a sync's change is attributed by then). */
export type RoutableEvent = {
  id: string
  tenantId: string
  kind: string
  severity: string
  planned: boolean
  actor: EventActor | null
  subject: { type: string; id: string; name: string }
}

/** Who an event's message is about: a person, an application, the person who started a TenantAtlas run, or nobody known. */
export function actorLabel(actor: EventActor | null): string {
  if (!actor) return 'unknown'
  return actor.user_principal_name ?? actor.initiated_by ?? actor.app_name ?? (actor.run_id ? 'TenantAtlas' : 'unknown')
}

const names = (actor: EventActor | null) =>
  [actor?.user_principal_name, actor?.app_name, actor?.initiated_by]
    .filter((n): n is string => typeof n === 'string')
    .map((n) => n.toLowerCase())

/**
 * Does this rule take this event? Kind, minimum severity, planned or not, actors in / not in its
 * lists (a person's UPN, an app's name or a run's initiator, case-insensitive), and its tenants
 * (`groupTenants`: the tenants of its tenant groups, resolved by the caller).
 */
export function ruleMatches(
  rule: Pick<AlertRuleRow, 'events' | 'minSeverity' | 'planned' | 'actors' | 'tenants'>,
  event: RoutableEvent,
  groupTenants: ReadonlySet<string>,
): boolean {
  if (!rule.events.includes(event.kind)) return false
  if (rule.minSeverity && severityRank(event.severity) < severityRank(rule.minSeverity)) return false
  if (rule.planned === 'exclude' && event.planned) return false
  const who = names(event.actor)
  const include = rule.actors?.include?.map((n) => n.toLowerCase())
  if (include && include.length > 0 && !who.some((n) => include.includes(n))) return false
  const exclude = rule.actors?.exclude?.map((n) => n.toLowerCase())
  if (exclude && who.some((n) => exclude.includes(n))) return false
  const tenants = rule.tenants
  if ('all' in tenants) return true
  if ('tenant_ids' in tenants) return tenants.tenant_ids.includes(event.tenantId)
  return groupTenants.has(event.tenantId)
}
