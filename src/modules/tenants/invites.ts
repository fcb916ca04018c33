import { and, eq, gt, isNull, sql } from 'drizzle-orm'
import { z } from 'zod'
import type { Database, Executor } from '../../db/engine.ts'
import { authSessions, invites, tenants, users } from '../../db/schema.ts'
import { generateToken, hashPassword, sha256 } from '../../lib/crypto.ts'
import { AppError, conflict, notFound } from '../../lib/errors.ts'
import { uuidv7 } from '../../lib/ids.ts'
import { addDays } from '../../lib/time.ts'
import { parseInput, requiredText } from '../../lib/validation.ts'
import { emailSchema, passwordSchema } from '../access/create-user.ts'
import { SESSION_DAYS } from '../access/sign-in.ts'
import { type Actor, recordAuditEvent } from '../audit/record-audit-event.ts'
import { upsertMembership } from './repository.ts'
import { roleSchema } from './schemas.ts'

/**
 * Invites (issue 28 item 3): a tenant owner invites an e-mail address with a role; the link is
 * shown to the inviter once (no mail is sent) and works once, for 7 days. The invitee opens it and
 * either sets a password (a new local account with that e-mail) or signs in with Microsoft; either
 * way they land in the tenant with the invited role, granted by hand (`manual`).
 */

export const INVITE_DAYS = 7
export const createInviteInput = z.strictObject({ email: emailSchema, role: roleSchema })
export const acceptInviteInput = z.strictObject({ name: requiredText(200), password: passwordSchema })

export async function createInvite(db: Database, actor: Actor, tenantId: string, raw: unknown) {
  const input = parseInput(createInviteInput, raw)
  const token = generateToken('ta_inv')
  return db.transaction(async (tx) => {
    const id = uuidv7()
    const [invite] = await tx
      .insert(invites)
      .values({
        id,
        tenantId,
        email: input.email,
        role: input.role,
        tokenHash: sha256(token),
        createdBy: actor.userId ?? null,
        expiresAt: addDays(new Date(), INVITE_DAYS),
      })
      .returning()
    await recordAuditEvent(tx, actor, {
      tenantId,
      action: 'member.invited',
      subject: { type: 'invite', id },
      metadata: { email: input.email, role: input.role },
    })
    return { invite: invite!, token }
  })
}

/** An open invite by its link's token (404 when unknown, used or expired: the same answer). */
export async function findOpenInvite(db: Executor, token: string) {
  const [row] = await db
    .select({ invite: invites, tenantName: tenants.name })
    .from(invites)
    .innerJoin(tenants, eq(tenants.id, invites.tenantId))
    .where(and(eq(invites.tokenHash, sha256(token)), isNull(invites.acceptedAt), gt(invites.expiresAt, sql`now()`)))
  if (!row) throw notFound('Invite')
  return row
}

/** Marks the invite used by this user and grants its role (in the caller's transaction). */
export async function redeemInvite(tx: Executor, token: string, userId: string, ip: string | null) {
  const [invite] = await tx
    .update(invites)
    .set({ acceptedAt: sql`now()`, acceptedBy: userId })
    .where(and(eq(invites.tokenHash, sha256(token)), isNull(invites.acceptedAt), gt(invites.expiresAt, sql`now()`)))
    .returning()
  if (!invite) throw notFound('Invite')
  await upsertMembership(tx, invite.tenantId, userId, invite.role)
  await recordAuditEvent(
    tx,
    { kind: 'user', userId, ip },
    {
      tenantId: invite.tenantId,
      action: 'member.invite_accepted',
      subject: { type: 'invite', id: invite.id },
      metadata: { email: invite.email, role: invite.role },
    },
  )
  return invite
}

/** The password path: a new local account with the invited e-mail, signed in. */
export async function acceptWithPassword(
  db: Database,
  token: string,
  raw: unknown,
  request: { ip: string | null; userAgent: string | null },
) {
  const input = parseInput(acceptInviteInput, raw)
  const { invite } = await findOpenInvite(db, token)
  const passwordHash = await hashPassword(input.password)
  const session = generateToken('ta_sess')
  const expiresAt = addDays(new Date(), SESSION_DAYS)
  return db.transaction(async (tx) => {
    const [taken] = await tx
      .select({ id: users.id })
      .from(users)
      .where(sql`lower(${users.email}) = lower(${invite.email})`)
    if (taken)
      throw conflict(
        `An account with the e-mail ${invite.email} exists already: ask the inviter to add it from Members instead`,
      )
    const userId = uuidv7()
    await tx.insert(users).values({ id: userId, email: invite.email, name: input.name, passwordHash })
    await recordAuditEvent(
      tx,
      { kind: 'user', userId, ip: request.ip },
      {
        action: 'user.created',
        subject: { type: 'user', id: userId },
        metadata: { email: invite.email, via: 'invite' },
      },
    )
    const redeemed = await redeemInvite(tx, token, userId, request.ip)
    await tx.insert(authSessions).values({
      id: uuidv7(),
      userId,
      tokenHash: sha256(session),
      ip: request.ip,
      userAgent: request.userAgent?.slice(0, 512) ?? null,
      expiresAt,
      authTime: new Date(),
    })
    return { tenantId: redeemed.tenantId, token: session }
  })
}

export const inviteNotUsable = () =>
  new AppError(404, 'not_found', 'Invite not found, already used or expired: ask for a new one')
