import { z } from 'zod'
import type { AuditEventRow } from '../../db/schema.ts'

export const auditEventResponse = z.object({
  id: z.string(),
  tenant_id: z.string().nullable(),
  action: z.string(),
  actor: z.object({
    kind: z.string(),
    id: z.string().nullable(),
    name: z.string().nullable(),
    email: z.string().nullable(),
  }),
  subject: z.object({ type: z.string(), id: z.string() }).nullable(),
  metadata: z.record(z.string(), z.unknown()),
  ip: z.string().nullable(),
  created_at: z.string(),
})

/** A system action a schedule took is attributed to it ("Schedule: Nightly sync"); the start of its run names it. */
const scheduleOf = (metadata: Record<string, unknown>) => {
  const schedule = metadata.schedule as { name?: unknown } | undefined
  return typeof schedule?.name === 'string' ? `Schedule: ${schedule.name}` : null
}

export const presentAuditEvent = (row: {
  event: AuditEventRow
  actorName: string | null
  actorEmail: string | null
}) => ({
  id: row.event.id,
  tenant_id: row.event.tenantId,
  action: row.event.action,
  actor: {
    kind: row.event.actorKind,
    id: row.event.actorUserId,
    name: row.actorName ?? scheduleOf(row.event.metadata),
    email: row.actorEmail,
  },
  subject:
    row.event.subjectType && row.event.subjectId ? { type: row.event.subjectType, id: row.event.subjectId } : null,
  metadata: row.event.metadata,
  ip: row.event.ip,
  created_at: row.event.createdAt.toISOString(),
})
