import { desc, eq, inArray } from 'drizzle-orm'
import { z } from 'zod'
import type { Database, Executor } from '../../db/engine.ts'
import { roleRules, tenantGroups, tenants, type RoleRuleRow } from '../../db/schema.ts'
import { notFound, validationError } from '../../lib/errors.ts'
import { uuidv7 } from '../../lib/ids.ts'
import { parseInput } from '../../lib/validation.ts'
import { ROLES } from '../access/policy.ts'
import { type Actor, recordAuditEvent } from '../audit/record-audit-event.ts'

/**
 * Role rules (ADR 028): an Entra group object id or app role value → workspace admin, or a role in
 * some tenants or tenant groups. They are read at every sign-in and role check (grant-roles.ts).
 */

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export const roleRuleInput = z
  .strictObject({
    claim: z.enum(['group', 'app_role']),
    value: z.string().trim().min(1).max(256),
    grants: z.union([
      z.strictObject({ workspace_admin: z.literal(true) }),
      z.strictObject({ role: z.enum(ROLES), tenant_ids: z.array(z.uuid()).min(1).max(1000) }),
      z.strictObject({ role: z.enum(ROLES), tenant_group_ids: z.array(z.uuid()).min(1).max(1000) }),
    ]),
  })
  .superRefine((rule, ctx) => {
    if (rule.claim === 'group' && !GUID.test(rule.value))
      ctx.addIssue({
        code: 'custom',
        path: ['value'],
        message: "a group is named by its object id (a GUID from Entra's group page), not its name",
      })
  })

export const roleRuleResponse = z.object({
  id: z.string(),
  claim: z.enum(['group', 'app_role']),
  value: z.string(),
  grants: z.union([
    z.object({ workspace_admin: z.literal(true) }),
    z.object({ role: z.enum(ROLES), tenant_ids: z.array(z.string()) }),
    z.object({ role: z.enum(ROLES), tenant_group_ids: z.array(z.string()) }),
  ]),
  created_at: z.string(),
})

export function presentRoleRule(rule: RoleRuleRow): z.infer<typeof roleRuleResponse> {
  const grants = rule.workspaceAdmin
    ? { workspace_admin: true as const }
    : rule.tenantGroupIds.length > 0
      ? { role: rule.role!, tenant_group_ids: rule.tenantGroupIds }
      : { role: rule.role!, tenant_ids: rule.tenantIds }
  return { id: rule.id, claim: rule.claim, value: rule.value, grants, created_at: rule.createdAt.toISOString() }
}

export const listRoleRules = (db: Executor) => db.select().from(roleRules).orderBy(desc(roleRules.createdAt))

export async function createRoleRule(db: Database, actor: Actor, raw: unknown) {
  const input = parseInput(roleRuleInput, raw)
  const grants = input.grants
  return db.transaction(async (tx) => {
    if ('tenant_ids' in grants) {
      const found = await tx.select({ id: tenants.id }).from(tenants).where(inArray(tenants.id, grants.tenant_ids))
      const unknown = grants.tenant_ids.filter((id) => !found.some((t) => t.id === id))
      if (unknown.length > 0)
        throw validationError([{ field: 'grants.tenant_ids', message: `no tenant ${unknown[0]}` }])
    }
    if ('tenant_group_ids' in grants) {
      const found = await tx
        .select({ id: tenantGroups.id })
        .from(tenantGroups)
        .where(inArray(tenantGroups.id, grants.tenant_group_ids))
      const unknown = grants.tenant_group_ids.filter((id) => !found.some((t) => t.id === id))
      if (unknown.length > 0)
        throw validationError([{ field: 'grants.tenant_group_ids', message: `no tenant group ${unknown[0]}` }])
    }
    const [rule] = await tx
      .insert(roleRules)
      .values({
        id: uuidv7(),
        claim: input.claim,
        value: input.claim === 'group' ? input.value.toLowerCase() : input.value,
        workspaceAdmin: 'workspace_admin' in grants,
        role: 'role' in grants ? grants.role : null,
        tenantIds: 'tenant_ids' in grants ? [...new Set(grants.tenant_ids)] : [],
        tenantGroupIds: 'tenant_group_ids' in grants ? [...new Set(grants.tenant_group_ids)] : [],
        createdBy: actor.userId ?? null,
      })
      .returning()
    await recordAuditEvent(tx, actor, {
      action: 'role_rule.created',
      subject: { type: 'role_rule', id: rule!.id },
      metadata: presentRoleRule(rule!),
    })
    return rule!
  })
}

export async function deleteRoleRule(db: Database, actor: Actor, id: string) {
  return db.transaction(async (tx) => {
    const [rule] = await tx.delete(roleRules).where(eq(roleRules.id, id)).returning()
    if (!rule) throw notFound('Role rule')
    await recordAuditEvent(tx, actor, {
      action: 'role_rule.deleted',
      subject: { type: 'role_rule', id },
      metadata: presentRoleRule(rule),
    })
  })
}
