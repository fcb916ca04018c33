import type { Executor } from '../../db/engine.ts'
import type { ChangedBy, RunFailure, RunOutcome } from '../../db/schema.ts'
import { insertEvents, releaseRunEvents, userEmail } from './repository.ts'

/**
 * The alert events outbox (ADR 030). Every event is recorded with the executor of the transaction
 * that caused it, so an event exists exactly when its cause was committed. The dispatcher routes
 * events to rules later; nothing here sends anything.
 */

export const EVENT_KINDS = [
  'object.created',
  'object.changed',
  'object.removed',
  'finding.opened',
  'finding.reopened',
  'finding.resolved',
  'exception.expiring',
  'run.failed',
  'run.partially_succeeded',
  'sync.stale',
  'credential.expiring',
  'channel.failed',
] as const
export type EventKind = (typeof EVENT_KINDS)[number]

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const
export type Severity = (typeof SEVERITIES)[number]
export const severityRank = (severity: string) => SEVERITIES.indexOf(severity as Severity)

/** Who caused an event: a person or an application from Intune's audit log, or a TenantAtlas run and who started it. */
export type EventActor = {
  user_principal_name?: string
  app_name?: string
  run_id?: string
  initiated_by?: string | null
}

export type AlertEvent = {
  tenantId: string
  kind: EventKind
  severity: Severity
  /** A change TenantAtlas made itself (restore, bulk, remediation, Undo): carries the run and its initiator. */
  planned?: boolean
  actor?: EventActor | null
  /** The run that recorded it: its events wait for the run to finish (its actors are known then). */
  runId?: string | null
  subject: { type: string; id: string; name: string }
  summary: string
  /** A console path (`/t/…`), made absolute with PUBLIC_URL when sent. */
  link?: string | null
  /** Events with the same key are one event: recorded once (a finding that stays open alerts once). */
  dedupKey?: string | null
  changeId?: string | null
  at?: Date
}

/**
 * Records one event in the caller's transaction. The documented entry point for other modules'
 * events (findings: `finding.opened` / `finding.reopened` / `finding.resolved` with the finding's
 * severity and `dedupKey: "finding:<id>:<opened count>"`, `exception.expiring` with
 * `dedupKey: "exception:<finding id>:<expires_at>"`); returns false when its dedupKey was recorded before.
 */
export async function recordEvent(tx: Executor, event: AlertEvent): Promise<boolean> {
  return (await recordEvents(tx, [event])) === 1
}

/** Set-based: one statement for any number of events; returns how many were new. */
export async function recordEvents(tx: Executor, events: readonly AlertEvent[]): Promise<number> {
  if (events.length === 0) return 0
  return insertEvents(tx, events)
}

/** A change history entry as the inventory store returns it from its insert. */
export type ChangeRow = {
  id: string
  item_id: string
  kind: 'created' | 'updated' | 'removed' | 'restored'
  display_name: string
}

const KIND_OF_CHANGE = {
  created: 'object.created',
  restored: 'object.created',
  updated: 'object.changed',
  removed: 'object.removed',
} as const satisfies Record<ChangeRow['kind'], EventKind>

const VERB = { created: 'created', restored: 'restored', updated: 'changed', removed: 'removed' } as const

/**
 * The inventory store's hook: the change entries it just wrote, in its transaction. A change written
 * by a TenantAtlas run (`changedBy.run_id`) is planned, with the run and its initiator as actor; a
 * sync's changes get their actor from the change entry when the run has attributed it.
 */
export async function recordChangeEvents(
  tx: Executor,
  scope: { tenantId: string; runId: string; policyType: string; changedBy?: ChangedBy | undefined },
  changes: readonly ChangeRow[],
): Promise<number> {
  const planned = Boolean(scope.changedBy?.run_id)
  const actor = scope.changedBy ? actorOfChange(scope.changedBy) : null
  return recordEvents(
    tx,
    changes.map((change) => ({
      tenantId: scope.tenantId,
      kind: KIND_OF_CHANGE[change.kind],
      severity: change.kind === 'removed' ? 'medium' : 'low',
      planned,
      actor,
      runId: scope.runId,
      changeId: change.id,
      subject: { type: scope.policyType, id: change.item_id, name: change.display_name },
      summary: `${VERB[change.kind]} ${change.display_name}`,
      link: `/t/${scope.tenantId}/inventory/${change.item_id}`,
    })),
  )
}

export function actorOfChange(changedBy: ChangedBy): EventActor {
  const actor: EventActor = {}
  if (changedBy.user_principal_name) actor.user_principal_name = changedBy.user_principal_name
  if (changedBy.app_name) actor.app_name = changedBy.app_name
  if (changedBy.run_id) actor.run_id = changedBy.run_id
  if (changedBy.initiated_by !== undefined) actor.initiated_by = changedBy.initiated_by
  return actor
}

/**
 * The operations engine's hook, in the transaction that finishes a run: the run's events are
 * released to the dispatcher, and a failed or partial run is an event itself.
 */
export async function recordRunFinished(
  tx: Executor,
  run: { id: string; tenantId: string; type: string; initiatorUserId: string | null; failures: RunFailure[] },
  outcome: RunOutcome,
  label: string,
): Promise<void> {
  await releaseRunEvents(tx, run.id)
  if (outcome !== 'failed' && outcome !== 'partially_succeeded') return
  const failed = outcome === 'failed'
  const failure = run.failures.find((f) => f.message)?.message
  await recordEvent(tx, {
    tenantId: run.tenantId,
    kind: failed ? 'run.failed' : 'run.partially_succeeded',
    severity: failed ? 'high' : 'medium',
    actor: { run_id: run.id, initiated_by: run.initiatorUserId ? await userEmail(tx, run.initiatorUserId) : null },
    subject: { type: run.type, id: run.id, name: label },
    summary: `${label} ${failed ? 'failed' : 'partially succeeded'}${failure ? `: ${failure}` : ''}`,
    link: `/t/${run.tenantId}/operations/${run.id}`,
    dedupKey: `run:${run.id}`,
  })
}
