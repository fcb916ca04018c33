import { and, count, eq } from 'drizzle-orm'
import type { Executor } from '../../db/engine.ts'
import { type Role, tenantMemberships, tenants, users } from '../../db/schema.ts'

export async function findTenant(db: Executor, tenantId: string) {
  const [row] = await db.select().from(tenants).where(eq(tenants.id, tenantId))
  return row
}

/** Serialises membership changes of one tenant (the last-owner rule reads, then writes). */
export async function lockTenant(db: Executor, tenantId: string) {
  await db.select({ id: tenants.id }).from(tenants).where(eq(tenants.id, tenantId)).for('update')
}

export async function findTenantByEntraId(db: Executor, entraTenantId: string) {
  const [row] = await db.select().from(tenants).where(eq(tenants.entraTenantId, entraTenantId))
  return row
}

export async function listMembers(db: Executor, tenantId: string) {
  return db
    .select({ user: users, membership: tenantMemberships })
    .from(tenantMemberships)
    .innerJoin(users, eq(users.id, tenantMemberships.userId))
    .where(eq(tenantMemberships.tenantId, tenantId))
    .orderBy(users.name, users.id)
}

export async function findMember(db: Executor, tenantId: string, userId: string) {
  const [row] = await db
    .select({ user: users, membership: tenantMemberships })
    .from(tenantMemberships)
    .innerJoin(users, eq(users.id, tenantMemberships.userId))
    .where(and(eq(tenantMemberships.tenantId, tenantId), eq(tenantMemberships.userId, userId)))
  return row
}

export async function countOwners(db: Executor, tenantId: string) {
  const [row] = await db
    .select({ n: count() })
    .from(tenantMemberships)
    .where(and(eq(tenantMemberships.tenantId, tenantId), eq(tenantMemberships.role, 'owner')))
  return row?.n ?? 0
}

export async function upsertMembership(db: Executor, tenantId: string, userId: string, role: Role) {
  await db
    .insert(tenantMemberships)
    .values({ tenantId, userId, role, source: 'manual' })
    .onConflictDoUpdate({
      target: [tenantMemberships.tenantId, tenantMemberships.userId],
      // A role a person sets is theirs from now on: Entra role rules no longer change it (ADR 028).
      set: { role, source: 'manual', updatedAt: new Date() },
    })
}

export async function deleteMembership(db: Executor, tenantId: string, userId: string) {
  await db
    .delete(tenantMemberships)
    .where(and(eq(tenantMemberships.tenantId, tenantId), eq(tenantMemberships.userId, userId)))
}

/** Every tenant's id and name (workspace-wide jobs: the alerts watch). */
export async function listAllTenants(db: Executor) {
  return db.select({ id: tenants.id, name: tenants.name, createdAt: tenants.createdAt }).from(tenants)
}
