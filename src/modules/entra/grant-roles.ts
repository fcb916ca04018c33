import { and, eq, inArray } from 'drizzle-orm'
import type { Executor } from '../../db/engine.ts'
import { roleRules, tenantGroupMembers, tenantMemberships, tenants, users, type Role } from '../../db/schema.ts'
import { type Actor, recordAuditEvent } from '../audit/record-audit-event.ts'
import { countOwners, lockTenant } from '../tenants/repository.ts'

/**
 * What a person's Entra claims grant through the role rules, and applying it (ADR 028). Only
 * memberships that came from Entra (`source = 'entra'`) are created, changed or removed here; one a
 * person granted by hand stays as it is, and so does a workspace admin right not granted by a rule.
 */

const RANK: Record<Role, number> = { readonly: 0, operator: 1, manager: 2, owner: 3 }

export type EntraGrants = { admin: boolean; tenants: Map<string, Role> }

export async function grantsFor(db: Executor, groups: string[], appRoles: string[]): Promise<EntraGrants> {
  const groupSet = new Set(groups.map((g) => g.toLowerCase()))
  const roleSet = new Set(appRoles)
  const rules = (await db.select().from(roleRules)).filter((rule) =>
    rule.claim === 'group' ? groupSet.has(rule.value) : roleSet.has(rule.value),
  )
  const grants: EntraGrants = { admin: rules.some((r) => r.workspaceAdmin), tenants: new Map() }
  const tenantGroupIds = [...new Set(rules.flatMap((r) => r.tenantGroupIds))]
  const inGroups =
    tenantGroupIds.length === 0
      ? []
      : await db.select().from(tenantGroupMembers).where(inArray(tenantGroupMembers.groupId, tenantGroupIds))
  const wanted = new Map<string, Role>()
  for (const rule of rules) {
    if (!rule.role) continue
    const ids = [
      ...rule.tenantIds,
      ...inGroups.filter((m) => rule.tenantGroupIds.includes(m.groupId)).map((m) => m.tenantId),
    ]
    for (const id of ids) {
      const current = wanted.get(id)
      if (!current || RANK[rule.role] > RANK[current]) wanted.set(id, rule.role)
    }
  }
  // A rule may name a tenant that was removed since.
  if (wanted.size > 0) {
    const existing = await db
      .select({ id: tenants.id })
      .from(tenants)
      .where(inArray(tenants.id, [...wanted.keys()]))
    for (const { id } of existing) grants.tenants.set(id, wanted.get(id)!)
  }
  return grants
}

export const grantsNothing = (grants: EntraGrants) => !grants.admin && grants.tenants.size === 0

/** Brings the user's Entra-sourced memberships and admin right to what the grants say; audits what changed. */
export async function applyGrants(tx: Executor, actor: Actor, userId: string, grants: EntraGrants) {
  // Ordered by tenant so that tenants are locked in one order by concurrent sign-ins (no deadlock).
  const current = await tx
    .select()
    .from(tenantMemberships)
    .where(eq(tenantMemberships.userId, userId))
    .orderBy(tenantMemberships.tenantId)
  const changes: { tenant_id: string; from: Role | null; to: Role | null }[] = []
  const kept: { tenant_id: string; wanted: Role | null }[] = []
  for (const m of current) {
    if (m.source !== 'entra') continue
    const role = grants.tenants.get(m.tenantId)
    if (role === m.role) continue
    // A tenant keeps an owner, as with a hand edit: Entra may take the owner role away only when
    // someone else owns the tenant. Until then the membership stays (still `entra`, so the next
    // sign-in or role check applies the change once another owner exists) and the refusal is audited.
    if (m.role === 'owner') {
      await lockTenant(tx, m.tenantId)
      if ((await countOwners(tx, m.tenantId)) <= 1) {
        kept.push({ tenant_id: m.tenantId, wanted: role ?? null })
        continue
      }
    }
    if (!role) {
      await tx
        .delete(tenantMemberships)
        .where(and(eq(tenantMemberships.tenantId, m.tenantId), eq(tenantMemberships.userId, userId)))
      changes.push({ tenant_id: m.tenantId, from: m.role, to: null })
    } else if (role !== m.role) {
      await tx
        .update(tenantMemberships)
        .set({ role, updatedAt: new Date() })
        .where(and(eq(tenantMemberships.tenantId, m.tenantId), eq(tenantMemberships.userId, userId)))
      changes.push({ tenant_id: m.tenantId, from: m.role, to: role })
    }
  }
  const held = new Set(current.map((m) => m.tenantId))
  const added = [...grants.tenants].filter(([tenantId]) => !held.has(tenantId))
  if (added.length > 0) {
    await tx
      .insert(tenantMemberships)
      .values(added.map(([tenantId, role]) => ({ tenantId, userId, role, source: 'entra' as const })))
      .onConflictDoNothing()
    for (const [tenantId, role] of added) changes.push({ tenant_id: tenantId, from: null, to: role })
  }
  const [user] = await tx.select().from(users).where(eq(users.id, userId))
  let admin: 'granted' | 'revoked' | null = null
  if (grants.admin && !user!.isAdmin) {
    await tx
      .update(users)
      .set({ isAdmin: true, adminViaEntra: true, updatedAt: new Date() })
      .where(eq(users.id, userId))
    admin = 'granted'
  } else if (!grants.admin && user!.adminViaEntra) {
    await tx
      .update(users)
      .set({ isAdmin: false, adminViaEntra: false, updatedAt: new Date() })
      .where(eq(users.id, userId))
    admin = 'revoked'
  }
  for (const k of kept)
    await recordAuditEvent(tx, actor, {
      tenantId: k.tenant_id,
      action: 'member.entra_last_owner_kept',
      subject: { type: 'user', id: userId },
      metadata: { role: 'owner', entra_role: k.wanted, reason: 'a tenant must keep at least one owner' },
    })
  if (changes.length > 0 || admin) {
    await recordAuditEvent(tx, actor, {
      action: 'auth.entra_roles_applied',
      subject: { type: 'user', id: userId },
      metadata: { memberships: changes, workspace_admin: admin },
    })
    for (const change of changes)
      await recordAuditEvent(tx, actor, {
        tenantId: change.tenant_id,
        action: 'member.entra_role_applied',
        subject: { type: 'user', id: userId },
        metadata: { from: change.from, to: change.to },
      })
  }
  return { changes, admin, kept }
}
