import { and, desc, eq, gte, ilike, lt, or, sql, type SQL } from 'drizzle-orm'
import type { Executor } from '../../db/engine.ts'
import { auditEvents, users } from '../../db/schema.ts'
import type { Cursor } from '../../lib/cursor.ts'

const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`)

/** The audit page's filters: who (a part of a name or e-mail), what (an action or its domain: `backup`), when. */
export type AuditFilters = {
  actor?: string | undefined
  action?: string | undefined
  since?: Date | undefined
  until?: Date | undefined
}

function filterSql(f: AuditFilters): (SQL | undefined)[] {
  const actor = f.actor ? `%${escapeLike(f.actor)}%` : undefined
  return [
    actor ? or(ilike(users.name, actor), ilike(users.email, actor)) : undefined,
    f.action
      ? f.action.includes('.')
        ? eq(auditEvents.action, f.action)
        : or(eq(auditEvents.action, f.action), sql`${auditEvents.action} like ${`${escapeLike(f.action)}.%`}`)
      : undefined,
    f.since ? gte(auditEvents.createdAt, f.since) : undefined,
    f.until ? lt(auditEvents.createdAt, f.until) : undefined,
  ]
}

/** A tenant's audit trail, newest first, keyset-paginated on (created_at, id). */
export async function listAuditEvents(
  db: Executor,
  tenantId: string,
  options: { cursor?: Cursor | undefined; limit: number; filters?: AuditFilters },
) {
  const f = options.filters ?? {}
  const after = options.cursor
    ? sql`(${auditEvents.createdAt}, ${auditEvents.id}) < (${options.cursor.at}::timestamptz, ${options.cursor.id}::uuid)`
    : undefined
  return db
    .select({ event: auditEvents, actorName: users.name, actorEmail: users.email })
    .from(auditEvents)
    .leftJoin(users, eq(users.id, auditEvents.actorUserId))
    .where(and(eq(auditEvents.tenantId, tenantId), after, ...filterSql(f)))
    .orderBy(desc(auditEvents.createdAt), desc(auditEvents.id))
    .limit(options.limit)
}
