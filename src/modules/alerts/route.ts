import { sql } from 'drizzle-orm'
import type { Database, Executor } from '../../db/engine.ts'
import type { AlertEventRow } from '../../db/schema.ts'
import { changeAuthors } from '../inventory/history.ts'
import { groupTenantIds } from '../tenant-groups/repository.ts'
import { actorOfChange, type EventActor } from './events.ts'
import {
  addMessageEvents,
  allRules,
  collectingMessages,
  dueMessages,
  failedChannelsOf,
  type GroupKey,
  groupKeyOf,
  markRouted,
  routableEvents,
  sealMessages,
  setActors,
} from './repository.ts'
import { actorLabel, ruleMatches, type RoutableEvent } from './rules.ts'

/** Routing passes of all workers take turns (one transaction each): grouping needs one view of the open messages. */
const ROUTING_LOCK = sql`hashtext('tenantatlas.alerts.routing')`

export type RouteOptions = { batch: number; giveUpSeconds: number }

/**
 * One routing pass: every ready event is matched against every rule and added to the collecting
 * message of its (rule, tenant, actor); then every message whose time has come is sealed with one
 * delivery per channel of its rule (ADR 030). One transaction, so an event is routed exactly once
 * and a message sealed exactly once, whatever crashes.
 */
export async function routeAndSeal(db: Database, options: RouteOptions): Promise<{ routed: number; sealed: number }> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.execute<{ locked: boolean }>(
      sql`SELECT pg_try_advisory_xact_lock(${ROUTING_LOCK}) AS locked`,
    )
    if (!rows[0]?.locked) return { routed: 0, sealed: 0 }
    let routed = 0
    const rules = await allRules(tx)
    const groupTenants = new Map<string, Set<string>>()
    for (const rule of rules) {
      const groups = 'tenant_group_ids' in rule.tenants ? rule.tenants.tenant_group_ids : []
      const ids = new Set<string>()
      for (const group of groups) for (const id of await groupTenantIds(tx, group)) ids.add(id)
      groupTenants.set(rule.id, ids)
    }
    for (;;) {
      const events = await routableEvents(tx, options.batch)
      if (events.length === 0) break
      const routable = await withActors(tx, events)
      const keys = new Map<string, GroupKey>()
      const pairs: { key: string; event_id: string }[] = []
      for (const event of routable)
        for (const rule of rules) {
          if (!ruleMatches(rule, event, groupTenants.get(rule.id) ?? new Set())) continue
          const key = { rule_id: rule.id, tenant_id: event.tenantId, actor_key: actorLabel(event.actor) }
          const id = groupKeyOf(key)
          keys.set(id, { ...key, window_seconds: rule.windowSeconds })
          pairs.push({ key: id, event_id: event.id })
        }
      if (keys.size > 0) {
        const messages = await collectingMessages(tx, [...keys.values()])
        await addMessageEvents(
          tx,
          pairs.map((p) => ({ message_id: messages.get(p.key)!, event_id: p.event_id })),
        )
      }
      await markRouted(
        tx,
        events.map((e) => e.id),
      )
      routed += events.length
      if (events.length < options.batch) break
    }
    const sealed = await seal(tx, rules, options.giveUpSeconds)
    return { routed, sealed }
  })
}

/** A sync's changes are attributed from Intune's audit log before its run finishes: their actor is read now. */
async function withActors(tx: Executor, events: readonly AlertEventRow[]): Promise<RoutableEvent[]> {
  const unattributed = events.filter((e) => e.changeId && !e.actor)
  const authors = await changeAuthors(
    tx,
    unattributed.map((e) => e.changeId!),
  )
  const found: { id: string; actor: EventActor }[] = []
  for (const event of unattributed) {
    const changedBy = authors.get(event.changeId!)
    if (changedBy) found.push({ id: event.id, actor: actorOfChange(changedBy) })
  }
  await setActors(tx, found)
  const actors = new Map(found.map((f) => [f.id, f.actor]))
  return events.map((e) => ({
    id: e.id,
    tenantId: e.tenantId,
    kind: e.kind,
    severity: e.severity,
    planned: e.planned,
    actor: actors.get(e.id) ?? (e.actor as EventActor | null),
    subject: e.subject,
  }))
}

async function seal(
  tx: Executor,
  rules: readonly { id: string; channelIds: string[] }[],
  giveUpSeconds: number,
): Promise<number> {
  const due = await dueMessages(tx)
  if (due.length === 0) return 0
  const channelsOf = new Map(rules.map((r) => [r.id, r.channelIds]))
  const failed = await failedChannelsOf(
    tx,
    due.map((m) => m.id),
  )
  const deliveries = due.flatMap((message) => {
    const about = failed.get(message.id)
    // A message about a failing channel goes to the rule's other channels, and its own failure raises nothing.
    return (channelsOf.get(message.ruleId) ?? [])
      .filter((channelId) => !about?.has(channelId))
      .map((channelId) => ({
        message_id: message.id,
        channel_id: channelId,
        rule_id: message.ruleId,
        tenant_id: message.tenantId,
        about_channel_failure: Boolean(about),
      }))
  })
  await sealMessages(
    tx,
    due.map((m) => m.id),
    deliveries,
    giveUpSeconds,
  )
  return due.length
}
