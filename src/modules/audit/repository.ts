import { and, desc, eq, sql } from 'drizzle-orm'
import type { Executor } from '../../db/engine.ts'
import { auditEvents, users } from '../../db/schema.ts'
import type { Cursor } from '../../lib/cursor.ts'

/** A tenant's audit trail, newest first, keyset-paginated on (created_at, id). */
export async function listAuditEvents(
  db: Executor,
  tenantId: string,
  options: { cursor?: Cursor | undefined; limit: number },
) {
  const after = options.cursor
    ? sql`(${auditEvents.createdAt}, ${auditEvents.id}) < (${options.cursor.at}::timestamptz, ${options.cursor.id}::uuid)`
    : undefined
  return db
    .select({ event: auditEvents, actorName: users.name, actorEmail: users.email })
    .from(auditEvents)
    .leftJoin(users, eq(users.id, auditEvents.actorUserId))
    .where(and(eq(auditEvents.tenantId, tenantId), after))
    .orderBy(desc(auditEvents.createdAt), desc(auditEvents.id))
    .limit(options.limit)
}
