import type { AuditEvent } from '../../lib/types.ts'

/**
 * The audit trail in words (issue 24, ADR 026): each event as a sentence, and where its subject
 * lives in the console. An action this file does not know is shown as its code, never hidden.
 */

const str = (value: unknown) => (typeof value === 'string' && value !== '' ? value : null)
const quoted = (value: unknown) => (str(value) ? `"${str(value)}"` : null)

type Label = (type: string) => string
const run = (m: Record<string, unknown>, label: Label) => {
  const type = str(m.type)
  if (!type) return 'a run'
  const name = label(type)
  const lower = name[0]!.toLowerCase() + name.slice(1)
  return `${/^[aeiou]/i.test(lower) ? 'an' : 'a'} ${lower} run`
}

const SENTENCES: Record<string, (m: Record<string, unknown>, label: Label) => string> = {
  'operation_run.queued': (m, label) => `started ${run(m, label)}`,
  'operation_run.start_deduplicated': (m, label) => `asked for ${run(m, label)} that was already running`,
  'auth.signed_in': () => 'signed in',
  'auth.signed_out': () => 'signed out',
  'auth.sign_in_failed': (m) => `failed to sign in${str(m.email) ? ` as ${str(m.email)}` : ''}`,
  'auth.sign_in_throttled': () => 'was stopped from signing in (too many attempts)',
  'backup.deleted': (m) => `deleted the backup ${quoted(m.name) ?? ''}`.trim(),
  'backup.imported': (m) => `imported the backup ${quoted(m.name) ?? ''}`.trim(),
  'backup.retention_set': () => 'changed the backup retention',
  'backup.updated': (m) =>
    m.protected === true ? 'protected a backup' : m.protected === false ? 'unprotected a backup' : 'changed a backup',
  'member.added': (m) => `added ${str(m.email) ?? 'a member'}${str(m.role) ? ` as ${str(m.role)}` : ''}`,
  'member.removed': (m) => `removed ${str(m.email) ?? 'a member'}`,
  'member.role_changed': (m) =>
    `changed the role of ${str(m.email) ?? 'a member'}${str(m.previous_role) ? ` from ${str(m.previous_role)}` : ''}${str(m.role) ? ` to ${str(m.role)}` : ''}`,
  'operation_run.cancel_requested': () => 'asked to cancel a run',
  'operation_run.completed': (m, label) =>
    `finished ${run(m, label)}${str(m.outcome) ? `: ${str(m.outcome)!.replace(/_/g, ' ')}` : ''}`,
  'operation_run.requeued': () => 'queued a run again',
  'restore_plan.created': (m) =>
    m.undo_of_run_id
      ? 'planned the undo of a bulk run'
      : `planned a restore${typeof m.items === 'number' ? ` of ${m.items} objects` : ''}`,
  'restore_plan.updated': (m) =>
    m.refreshed === true
      ? 'refreshed a restore plan'
      : typeof m.mapping_changes === 'number' && m.mapping_changes > 0
        ? `changed ${m.mapping_changes} ${m.mapping_changes === 1 ? 'mapping' : 'mappings'} of a restore plan`
        : 'changed a restore plan',
  'schedule.created': (m) => `created the schedule ${quoted(m.name) ?? ''}`.trim(),
  'schedule.deleted': (m) => `deleted the schedule ${quoted(m.name) ?? ''}`.trim(),
  'schedule.updated': (m) => `changed the schedule ${quoted(m.name) ?? ''}`.trim(),
  'tenant.created': (m) => `added the tenant ${quoted(m.name) ?? ''}`.trim(),
  'tenant.updated': (m) => (str(m.name) ? `renamed the tenant to "${str(m.name)}"` : 'changed the tenant connection'),
  'tenant_group.created': (m) => `created the tenant group ${quoted(m.name) ?? ''}`.trim(),
  'tenant_group.deleted': (m) => `deleted the tenant group ${quoted(m.name) ?? ''}`.trim(),
  'tenant_group.updated': (m) => `changed the tenant group ${quoted(m.name) ?? ''}`.trim(),
  'token.created': (m) => `created the API token ${quoted(m.name) ?? ''}`.trim(),
  'token.revoked': (m) => `revoked the API token ${quoted(m.name) ?? ''}`.trim(),
  'user.created': (m) => `created the user ${str(m.email) ?? ''}`.trim(),
}

/** What happened, without the actor: "deleted the backup "Before the change"". */
export const auditSentence = (event: AuditEvent, label: Label = (type) => type): string =>
  SENTENCES[event.action]?.(event.metadata, label) ?? event.action

/** Where the event's subject is in the console, if it has a page. */
export function subjectLink(event: AuditEvent, tenantId: string): { to: string; label: string } | null {
  const s = event.subject
  if (!s) return null
  switch (s.type) {
    case 'operation_run':
      return { to: `/t/${tenantId}/operations/${s.id}`, label: 'the run' }
    case 'restore_plan':
      return { to: `/t/${tenantId}/restore/${s.id}`, label: 'the plan' }
    case 'backup':
      return event.action === 'backup.deleted' ? null : { to: `/t/${tenantId}/backups/${s.id}`, label: 'the backup' }
    case 'schedule':
      return { to: `/t/${tenantId}/schedules`, label: 'schedules' }
    case 'user':
      return { to: `/t/${tenantId}/members`, label: 'members' }
    default:
      return null
  }
}

/** The action domains the filter offers (the part before the dot). */
export const ACTION_DOMAINS: { value: string; label: string }[] = [
  { value: 'auth', label: 'Sign-ins' },
  { value: 'backup', label: 'Backups' },
  { value: 'restore_plan', label: 'Restore plans' },
  { value: 'operation_run', label: 'Runs' },
  { value: 'schedule', label: 'Schedules' },
  { value: 'member', label: 'Members' },
  { value: 'tenant', label: 'Tenant' },
  { value: 'token', label: 'API tokens' },
]

const cell = (value: string) => (/[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value)

/** The events as CSV (what the page shows, plus the raw action and details for a spreadsheet). */
export function auditCsv(events: AuditEvent[], actorOf: (e: AuditEvent) => string, label?: Label): string {
  const head = ['time', 'actor', 'what', 'action', 'subject_type', 'subject_id', 'ip', 'details']
  const rows = events.map((e) => [
    e.created_at,
    actorOf(e),
    auditSentence(e, label),
    e.action,
    e.subject?.type ?? '',
    e.subject?.id ?? '',
    e.ip ?? '',
    Object.keys(e.metadata).length > 0 ? JSON.stringify(e.metadata) : '',
  ])
  return [head, ...rows].map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n'
}
