import type { z } from 'zod'
import type { Database, Executor } from '../../db/engine.ts'
import type { Role } from '../../db/schema.ts'
import { conflict, notFound, validationError } from '../../lib/errors.ts'
import { parseInput } from '../../lib/validation.ts'
import { findUserByEmail } from '../access/repository.ts'
import { type Actor, recordAuditEvent } from '../audit/record-audit-event.ts'
import { countOwners, deleteMembership, findMember, findTenant, lockTenant, upsertMembership } from './repository.ts'
import { addMemberInput, roleSchema } from './schemas.ts'

async function assertNotLastOwner(tx: Executor, tenantId: string, currentRole: Role) {
  if (currentRole === 'owner' && (await countOwners(tx, tenantId)) <= 1) {
    throw conflict('A tenant must keep at least one owner: make someone else owner first')
  }
}

/**
 * Adds a user to a tenant, or changes their role when they already are a member
 * (`member add` is meant to be re-runnable). Returns whether a membership was created.
 */
export async function addMember(
  db: Database,
  actor: Actor,
  tenantId: string,
  rawInput: z.input<typeof addMemberInput>,
  options: { upsert: boolean },
) {
  const input = parseInput(addMemberInput, rawInput)
  return db.transaction(async (tx) => {
    await lockTenant(tx, tenantId)
    if (!(await findTenant(tx, tenantId))) throw notFound('Tenant')
    const user = await findUserByEmail(tx, input.email)
    if (!user)
      throw validationError([{ field: 'email', message: `no user with e-mail ${input.email}; create the user first` }])
    const existing = await findMember(tx, tenantId, user.id)
    if (existing && !options.upsert) throw conflict(`${input.email} is already a member (${existing.membership.role})`)
    if (existing && existing.membership.role !== input.role)
      await assertNotLastOwner(tx, tenantId, existing.membership.role)
    await upsertMembership(tx, tenantId, user.id, input.role)
    await recordAuditEvent(tx, actor, {
      tenantId,
      action: existing ? 'member.role_changed' : 'member.added',
      subject: { type: 'user', id: user.id },
      metadata: {
        email: user.email,
        role: input.role,
        ...(existing ? { previous_role: existing.membership.role } : {}),
      },
    })
    return { member: (await findMember(tx, tenantId, user.id))!, created: !existing }
  })
}

export async function changeMemberRole(db: Database, actor: Actor, tenantId: string, userId: string, rawRole: unknown) {
  const role = parseInput(roleSchema, rawRole)
  return db.transaction(async (tx) => {
    await lockTenant(tx, tenantId)
    const existing = await findMember(tx, tenantId, userId)
    if (!existing) throw notFound('Member')
    if (existing.membership.role !== role) {
      await assertNotLastOwner(tx, tenantId, existing.membership.role)
      await upsertMembership(tx, tenantId, userId, role)
      await recordAuditEvent(tx, actor, {
        tenantId,
        action: 'member.role_changed',
        subject: { type: 'user', id: userId },
        metadata: { email: existing.user.email, role, previous_role: existing.membership.role },
      })
    }
    return (await findMember(tx, tenantId, userId))!
  })
}

export async function removeMember(db: Database, actor: Actor, tenantId: string, userId: string) {
  await db.transaction(async (tx) => {
    await lockTenant(tx, tenantId)
    const existing = await findMember(tx, tenantId, userId)
    if (!existing) throw notFound('Member')
    await assertNotLastOwner(tx, tenantId, existing.membership.role)
    await deleteMembership(tx, tenantId, userId)
    await recordAuditEvent(tx, actor, {
      tenantId,
      action: 'member.removed',
      subject: { type: 'user', id: userId },
      metadata: { email: existing.user.email, previous_role: existing.membership.role },
    })
  })
}
