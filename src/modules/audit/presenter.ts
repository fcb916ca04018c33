import { z } from 'zod'
import type { AuditEventRow } from '../../db/schema.ts'

export const auditEventResponse = z.object({
  id: z.string(),
  tenant_id: z.string().nullable(),
  action: z.string(),
  actor: z.object({ kind: z.string(), id: z.string().nullable(), name: z.string().nullable(), email: z.string().nullable() }),
  subject: z.object({ type: z.string(), id: z.string() }).nullable(),
  metadata: z.record(z.string(), z.unknown()),
  ip: z.string().nullable(),
  created_at: z.string(),
})

export const presentAuditEvent = (row: { event: AuditEventRow; actorName: string | null; actorEmail: string | null }) => ({
  id: row.event.id,
  tenant_id: row.event.tenantId,
  action: row.event.action,
  actor: { kind: row.event.actorKind, id: row.event.actorUserId, name: row.actorName, email: row.actorEmail },
  subject: row.event.subjectType && row.event.subjectId ? { type: row.event.subjectType, id: row.event.subjectId } : null,
  metadata: row.event.metadata,
  ip: row.event.ip,
  created_at: row.event.createdAt.toISOString(),
})
