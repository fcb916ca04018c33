import { eq } from 'drizzle-orm'
import type { Database } from '../../db/engine.ts'
import { schedules } from '../../db/schema.ts'
import { notFound } from '../../lib/errors.ts'
import type { TenantAccess } from '../access/policy.ts'
import { type Actor, recordAuditEvent } from '../audit/record-audit-event.ts'
import { lockSchedule } from './repository.ts'

/** Deletes a schedule; the runs it started stay, as system runs. */
export async function deleteSchedule(
  db: Database,
  access: TenantAccess,
  actor: Actor,
  scheduleId: string,
): Promise<void> {
  await db.transaction(async (tx) => {
    const current = await lockSchedule(tx, access.tenantId, scheduleId)
    if (!current) throw notFound('Schedule')
    await tx.delete(schedules).where(eq(schedules.id, current.id))
    await recordAuditEvent(tx, actor, {
      tenantId: access.tenantId,
      action: 'schedule.deleted',
      subject: { type: 'schedule', id: current.id },
      metadata: { name: current.name, operation_type: current.operationType },
    })
  })
}
