import { eq, sql } from 'drizzle-orm'
import type { Database, Executor } from '../../db/engine.ts'
import { tenantGroups } from '../../db/schema.ts'
import { conflict, notFound, validationError } from '../../lib/errors.ts'
import { uuidv7 } from '../../lib/ids.ts'
import { type Actor, recordAuditEvent } from '../audit/record-audit-event.ts'
import { groupTenantIds, lockTenantGroup, memberTenantIds, replaceGroupTenants } from './repository.ts'
import type { CreateTenantGroupBody, UpdateTenantGroupBody } from './schemas.ts'

/**
 * A group may only gain tenants its editor belongs to: an unknown id and a tenant outside the
 * editor's reach read the same (422 naming the position), so a group reveals no tenant's existence.
 */
async function reachableTenants(tx: Executor, userId: string, tenantIds: string[]) {
  const unique = [...new Set(tenantIds)]
  const mine = await memberTenantIds(tx, userId, unique)
  const issues = tenantIds.flatMap((id, i) =>
    mine.has(id) ? [] : [{ field: `tenant_ids.${i}`, message: `no tenant ${id} that you belong to` }],
  )
  if (issues.length > 0) throw validationError(issues)
  return unique
}

const duplicateName = (name: string) => conflict(`A tenant group named "${name}" already exists`)

const isUniqueViolation = (error: unknown): boolean =>
  typeof error === 'object' &&
  error !== null &&
  ((error as { code?: unknown }).code === '23505' || isUniqueViolation((error as { cause?: unknown }).cause))

/** `editorId`: the admin whose tenants the group may hold (the actor may be the CLI acting for them). */
export async function createTenantGroup(
  db: Database,
  actor: Actor,
  editorId: string,
  body: CreateTenantGroupBody,
): Promise<string> {
  try {
    return await db.transaction(async (tx) => {
      const tenantIds = await reachableTenants(tx, editorId, body.tenant_ids)
      const id = uuidv7()
      await tx.insert(tenantGroups).values({ id, name: body.name })
      await replaceGroupTenants(tx, id, [], tenantIds)
      await recordAuditEvent(tx, actor, {
        action: 'tenant_group.created',
        subject: { type: 'tenant_group', id },
        metadata: { name: body.name, tenant_ids: tenantIds },
      })
      return id
    })
  } catch (error) {
    if (isUniqueViolation(error)) throw duplicateName(body.name)
    throw error
  }
}

/**
 * Renames a group or sets its tenants. `tenant_ids` replaces the tenants the editor can see; tenants
 * of the group the editor does not belong to (another admin's) stay, as the editor never saw them.
 */
export async function updateTenantGroup(
  db: Database,
  actor: Actor,
  editorId: string,
  groupId: string,
  body: UpdateTenantGroupBody,
) {
  try {
    await db.transaction(async (tx) => {
      const current = await lockTenantGroup(tx, groupId)
      if (!current) throw notFound('Tenant group')
      const changes: Record<string, unknown> = {}
      if (body.name !== undefined && body.name !== current.name) {
        await tx
          .update(tenantGroups)
          .set({ name: body.name, updatedAt: sql`now()` })
          .where(eq(tenantGroups.id, groupId))
        Object.assign(changes, { name: body.name, previous_name: current.name })
      }
      if (body.tenant_ids !== undefined) {
        const wanted = await reachableTenants(tx, editorId, body.tenant_ids)
        const before = await groupTenantIds(tx, groupId)
        const visible = await memberTenantIds(tx, editorId, before)
        const remove = before.filter((id) => visible.has(id) && !wanted.includes(id))
        const add = wanted.filter((id) => !before.includes(id))
        await replaceGroupTenants(tx, groupId, remove, add)
        if (remove.length + add.length > 0) {
          await tx
            .update(tenantGroups)
            .set({ updatedAt: sql`now()` })
            .where(eq(tenantGroups.id, groupId))
          Object.assign(changes, { added_tenant_ids: add, removed_tenant_ids: remove })
        }
      }
      if (Object.keys(changes).length === 0) return
      await recordAuditEvent(tx, actor, {
        action: 'tenant_group.updated',
        subject: { type: 'tenant_group', id: groupId },
        metadata: { name: body.name ?? current.name, ...changes },
      })
    })
  } catch (error) {
    if (isUniqueViolation(error)) throw duplicateName(body.name ?? '')
    throw error
  }
}

/** Deletes a group; its tenants, and everything else, stay. */
export async function deleteTenantGroup(db: Database, actor: Actor, groupId: string) {
  await db.transaction(async (tx) => {
    const current = await lockTenantGroup(tx, groupId)
    if (!current) throw notFound('Tenant group')
    const tenantIds = await groupTenantIds(tx, groupId)
    await tx.delete(tenantGroups).where(eq(tenantGroups.id, groupId))
    await recordAuditEvent(tx, actor, {
      action: 'tenant_group.deleted',
      subject: { type: 'tenant_group', id: groupId },
      metadata: { name: current.name, tenant_ids: tenantIds },
    })
  })
}
