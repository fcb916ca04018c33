import { describe, expect, it } from 'vitest'
import type { AuditEvent } from '../../lib/types.ts'
import { auditQueryParams } from './audit-page.tsx'
import { auditCsv, auditSentence, subjectLink } from './audit-sentences.ts'

const event = (
  action: string,
  metadata: Record<string, unknown> = {},
  subject?: AuditEvent['subject'],
): AuditEvent => ({
  id: 'e1',
  tenant_id: 't1',
  action,
  actor: { kind: 'user', id: 'u1', name: 'Ada', email: 'ada@example.com' },
  subject: subject ?? null,
  metadata,
  ip: '10.0.0.1',
  created_at: '2030-01-01T10:00:00.000Z',
})
const label = (type: string) => ({ 'inventory.sync': 'Inventory sync', 'restore.execute': 'Restore' })[type] ?? type

describe('the audit trail in words', () => {
  it('says each event as a sentence, runs by their label, and keeps an unknown action as its code', () => {
    expect(auditSentence(event('operation_run.queued', { type: 'inventory.sync' }), label)).toBe(
      'started an inventory sync run',
    )
    expect(
      auditSentence(
        event('operation_run.completed', { type: 'restore.execute', outcome: 'partially_succeeded' }),
        label,
      ),
    ).toBe('finished a restore run: partially succeeded')
    expect(
      auditSentence(event('member.role_changed', { email: 'bo@x.com', role: 'manager', previous_role: 'readonly' })),
    ).toBe('changed the role of bo@x.com from readonly to manager')
    expect(auditSentence(event('restore_plan.created', { undo_of_run_id: 'r1', items: 3 }))).toBe(
      'planned the undo of a bulk run',
    )
    expect(auditSentence(event('something.new'))).toBe('something.new')
  })

  it('links the subject where the console has a page for it', () => {
    expect(subjectLink(event('operation_run.queued', {}, { type: 'operation_run', id: 'r1' }), 't1')).toEqual({
      to: '/t/t1/operations/r1',
      label: 'the run',
    })
    expect(subjectLink(event('backup.deleted', {}, { type: 'backup', id: 'b1' }), 't1')).toBeNull()
  })

  it('exports CSV with quoted cells and the raw action beside the sentence', () => {
    const csv = auditCsv(
      [event('backup.deleted', { name: 'Before, "the" change' }, { type: 'backup', id: 'b1' })],
      () => 'Ada',
      label,
    )
    expect(csv.split('\r\n')[0]).toBe('time,actor,what,action,subject_type,subject_id,ip,details')
    expect(csv.split('\r\n')[1]).toBe(
      '2030-01-01T10:00:00.000Z,Ada,"deleted the backup ""Before, ""the"" change""",backup.deleted,backup,b1,10.0.0.1,"{""name"":""Before, \\""the\\"" change""}"',
    )
  })

  it('turns the day filters into instants; "To" includes its whole day', () => {
    const q = auditQueryParams({ actor: ' ada ', action: 'backup', since: '2030-01-01', until: '2030-01-01' })
    expect(q.actor).toBe('ada')
    expect(q.action).toBe('backup')
    expect(new Date(q.until!).getTime() - new Date(q.since!).getTime()).toBe(24 * 3600 * 1000)
    expect(auditQueryParams({ actor: '', action: null, since: '', until: '' })).toEqual({
      actor: undefined,
      action: undefined,
      since: undefined,
      until: undefined,
    })
  })
})
