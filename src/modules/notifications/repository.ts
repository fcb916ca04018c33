import { and, count, desc, eq, isNull, sql } from 'drizzle-orm'
import type { Executor } from '../../db/engine.ts'
import { notifications } from '../../db/schema.ts'
import type { Cursor } from '../../lib/cursor.ts'

// Notifications belong to a user, not a tenant: userId is the owner every method filters on.

export async function listNotifications(
  db: Executor,
  userId: string,
  options: { unreadOnly: boolean; cursor?: Cursor | undefined; limit: number },
) {
  return db
    .select()
    .from(notifications)
    .where(
      and(
        eq(notifications.userId, userId),
        options.unreadOnly ? isNull(notifications.readAt) : undefined,
        options.cursor
          ? sql`(${notifications.createdAt}, ${notifications.id}) < (${options.cursor.at}::timestamptz, ${options.cursor.id}::uuid)`
          : undefined,
      ),
    )
    .orderBy(desc(notifications.createdAt), desc(notifications.id))
    .limit(options.limit)
}

export async function countUnread(db: Executor, userId: string) {
  const [row] = await db
    .select({ n: count() })
    .from(notifications)
    .where(and(eq(notifications.userId, userId), isNull(notifications.readAt)))
  return row?.n ?? 0
}

export async function markRead(db: Executor, userId: string, id: string) {
  const [row] = await db
    .update(notifications)
    .set({ readAt: sql`coalesce(${notifications.readAt}, now())` })
    .where(and(eq(notifications.userId, userId), eq(notifications.id, id)))
    .returning()
  return row
}

export async function markAllRead(db: Executor, userId: string) {
  const rows = await db
    .update(notifications)
    .set({ readAt: sql`now()` })
    .where(and(eq(notifications.userId, userId), isNull(notifications.readAt)))
    .returning({ id: notifications.id })
  return rows.length
}
