import { and, eq, inArray, sql } from 'drizzle-orm'
import type { Executor } from '../../db/engine.ts'
import { tenantGroupMembers, tenantGroups, tenantMemberships } from '../../db/schema.ts'

export type VisibleTenantGroup = { id: string; name: string; tenantIds: string[]; createdAt: Date; updatedAt: Date }

/**
 * Groups as one user sees them: each group's tenants restricted to the tenants the user belongs to.
 * A workspace admin (`all`) sees every group, even one without a tenant they can see, to manage it;
 * anyone else only groups with at least one of their tenants. Workspace-level: the user comes first.
 */
export async function listVisibleTenantGroups(
  db: Executor,
  userId: string,
  options: { all: boolean; groupId?: string },
) {
  const rows = await db.execute<{
    id: string
    name: string
    tenant_ids: string[]
    created_at: string
    updated_at: string
  }>(sql`
    SELECT g.id, g.name, g.created_at, g.updated_at,
           coalesce(array_agg(m.tenant_id ORDER BY t.name, t.id) FILTER (WHERE tm.user_id IS NOT NULL), '{}') AS tenant_ids
      FROM tenant_groups g
      LEFT JOIN tenant_group_members m ON m.group_id = g.id
      LEFT JOIN tenants t ON t.id = m.tenant_id
      LEFT JOIN tenant_memberships tm ON tm.tenant_id = m.tenant_id AND tm.user_id = ${userId}
     WHERE ${options.groupId === undefined ? sql`true` : sql`g.id = ${options.groupId}`}
     GROUP BY g.id
    HAVING ${options.all} OR count(tm.user_id) > 0
     ORDER BY lower(g.name), g.id`)
  return rows.rows.map((r): VisibleTenantGroup => ({
    id: r.id,
    name: r.name,
    tenantIds: r.tenant_ids,
    createdAt: new Date(r.created_at),
    updatedAt: new Date(r.updated_at),
  }))
}

export async function lockTenantGroup(db: Executor, groupId: string) {
  const [row] = await db.select().from(tenantGroups).where(eq(tenantGroups.id, groupId)).for('update')
  return row
}

export async function groupTenantIds(db: Executor, groupId: string) {
  const rows = await db
    .select({ tenantId: tenantGroupMembers.tenantId })
    .from(tenantGroupMembers)
    .where(eq(tenantGroupMembers.groupId, groupId))
  return rows.map((r) => r.tenantId)
}

/** Of these tenant ids, the ones the user belongs to. */
export async function memberTenantIds(db: Executor, userId: string, tenantIds: string[]) {
  if (tenantIds.length === 0) return new Set<string>()
  const rows = await db
    .select({ tenantId: tenantMemberships.tenantId })
    .from(tenantMemberships)
    .where(and(eq(tenantMemberships.userId, userId), inArray(tenantMemberships.tenantId, tenantIds)))
  return new Set(rows.map((r) => r.tenantId))
}

export async function replaceGroupTenants(db: Executor, groupId: string, remove: string[], add: string[]) {
  if (remove.length > 0) {
    await db
      .delete(tenantGroupMembers)
      .where(and(eq(tenantGroupMembers.groupId, groupId), inArray(tenantGroupMembers.tenantId, remove)))
  }
  if (add.length > 0)
    await db
      .insert(tenantGroupMembers)
      .values(add.map((tenantId) => ({ groupId, tenantId })))
      .onConflictDoNothing()
}

/** Of these group ids, the ones that exist. */
export async function existingTenantGroupIds(db: Executor, groupIds: readonly string[]) {
  if (groupIds.length === 0) return new Set<string>()
  const rows = await db
    .select({ id: tenantGroups.id })
    .from(tenantGroups)
    .where(inArray(tenantGroups.id, [...groupIds]))
  return new Set(rows.map((r) => r.id))
}
