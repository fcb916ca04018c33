import { and, eq, sql } from 'drizzle-orm'
import type { Database } from '../../db/engine.ts'
import { authSessions, entraIdentities, users } from '../../db/schema.ts'
import type { EntraConfig } from '../../lib/config.ts'
import { generateToken, sha256, type SecretBox } from '../../lib/crypto.ts'
import { uuidv7 } from '../../lib/ids.ts'
import { addDays } from '../../lib/time.ts'
import type { Principal } from '../access/authenticate.ts'
import { SESSION_DAYS } from '../access/sign-in.ts'
import { recordAuditEvent } from '../audit/record-audit-event.ts'
import { applyGrants, grantsFor, grantsNothing } from './grant-roles.ts'
import { type EntraClaims, type OidcAnswer, type OidcClient, SignInRefused } from './oidc-client.ts'
import { readGroups } from './overage.ts'
import { redeemInvite } from '../tenants/invites.ts'

/** A JIT user's password hash: no password matches it (verifyPassword refuses anything not scrypt). */
export const NO_PASSWORD = 'entra:no-password'

export type EntraDeps = { db: Database; secrets: SecretBox; entra: EntraConfig; emulatorUrl: string | undefined }

const refreshAad = (sessionId: string) => `auth_sessions.refresh_token:${sessionId}`

/** The groups claim, or on overage the user's memberships read through Graph. */
async function groupsOf(deps: EntraDeps, claims: EntraClaims): Promise<string[]> {
  if (claims.groups !== 'overage') return claims.groups.map((g) => g.toLowerCase())
  try {
    return await readGroups(deps.entra, deps.emulatorUrl, claims.tid, claims.oid)
  } catch (error) {
    throw new SignInRefused(
      'groups_unreadable',
      `You are in more groups than fit in the token, and reading them through Graph failed: ${(error as Error).message}`,
    )
  }
}

/**
 * A person back from Entra with checked claims (oidc-client.ts): finds them by (tid, oid), or creates
 * them when the role rules grant them something (just in time); applies the rules' grants; opens a
 * session that remembers when they authenticated (step-up) and how to re-read their claims.
 */
export async function signInWithEntra(
  deps: EntraDeps,
  answer: OidcAnswer,
  request: { ip: string | null; userAgent: string | null },
  /** An invite link's token the person came with: it admits them (JIT) and grants its tenant role. */
  invite?: string,
) {
  const { claims } = answer
  const groups = await groupsOf(deps, claims)
  const token = generateToken('ta_sess')
  const expiresAt = addDays(new Date(), SESSION_DAYS)
  return deps.db.transaction(async (tx) => {
    // Two first sign-ins of one person at once: one creates, the other finds.
    await tx.execute(
      sql`SELECT pg_advisory_xact_lock(hashtext('entra-identity'), hashtext(${`${claims.tid}/${claims.oid}`}))`,
    )
    const grants = await grantsFor(tx, groups, claims.appRoles)
    const [found] = await tx
      .select({ identity: entraIdentities, user: users })
      .from(entraIdentities)
      .innerJoin(users, eq(users.id, entraIdentities.userId))
      .where(and(eq(entraIdentities.tid, claims.tid), eq(entraIdentities.oid, claims.oid)))
    let userId: string
    let identityId: string
    if (found) {
      userId = found.user.id
      identityId = found.identity.id
      await tx
        .update(entraIdentities)
        .set({ username: claims.username, groups, appRoles: claims.appRoles, lastSignInAt: new Date() })
        .where(eq(entraIdentities.id, identityId))
    } else {
      if (grantsNothing(grants) && !invite)
        throw new SignInRefused(
          'no_access',
          `${claims.username || claims.oid} has no role in TenantAtlas: an admin adds a role rule for one of your Entra groups or app roles`,
        )
      const email = claims.username || `${claims.oid}@${claims.tid}`
      const [taken] = await tx
        .select({ id: users.id })
        .from(users)
        .where(sql`lower(${users.email}) = lower(${email})`)
      // Never joined to a local account by e-mail alone: whoever controls that address in Entra is not proven to own it here.
      if (taken)
        throw new SignInRefused(
          'email_in_use',
          `A TenantAtlas account with the e-mail ${email} already exists and is not linked to this Microsoft account: an admin removes or renames it first`,
        )
      userId = uuidv7()
      identityId = uuidv7()
      await tx.insert(users).values({ id: userId, email, name: claims.name, passwordHash: NO_PASSWORD })
      await tx.insert(entraIdentities).values({
        id: identityId,
        userId,
        tid: claims.tid,
        oid: claims.oid,
        username: claims.username,
        groups,
        appRoles: claims.appRoles,
      })
      await recordAuditEvent(
        tx,
        { kind: 'system' },
        {
          action: 'user.created_from_entra',
          subject: { type: 'user', id: userId },
          metadata: { tid: claims.tid, oid: claims.oid, username: claims.username },
        },
      )
    }
    await applyGrants(tx, { kind: 'system' }, userId, grants)
    const invited = invite ? await redeemInvite(tx, invite, userId, request.ip) : undefined
    const sessionId = uuidv7()
    await tx.insert(authSessions).values({
      id: sessionId,
      userId,
      tokenHash: sha256(token),
      ip: request.ip,
      userAgent: request.userAgent?.slice(0, 512) ?? null,
      expiresAt,
      authTime: claims.authTime ?? new Date(),
      acrs: claims.acrs,
      identityId,
      refreshToken: answer.refreshToken ? deps.secrets.encrypt(answer.refreshToken, refreshAad(sessionId)) : null,
      rolesCheckedAt: new Date(),
    })
    await recordAuditEvent(
      tx,
      { kind: 'user', userId, ip: request.ip },
      {
        action: 'auth.signed_in',
        subject: { type: 'session', id: sessionId },
        metadata: { method: 'entra', tid: claims.tid, oid: claims.oid },
      },
    )
    const [user] = await tx.select().from(users).where(eq(users.id, userId))
    return { user: user!, token, expiresAt, invitedTo: invited?.tenantId }
  })
}

/** What a role check found: roles applied (the session goes on), or the session ended (Entra no longer signs the person in). */
export type RoleCheck = 'applied' | 'ended' | 'deferred'

/**
 * Re-reads a session's claims from Entra (its refresh token) and applies the role rules again, at
 * least every ENTRA_ROLE_CHECK_MINUTES (src/http/auth.ts calls it when the session is due). Entra
 * refusing the refresh (the account disabled, deleted or its sessions revoked) ends the session; a
 * network failure leaves it as it is and tries again five minutes later.
 */
export async function recheckSession(
  deps: EntraDeps,
  client: OidcClient,
  session: { id: string; userId: string; identityId: string; refreshToken: string | null },
): Promise<RoleCheck> {
  const end = async (reason: string) => {
    await deps.db.transaction(async (tx) => {
      await tx
        .update(authSessions)
        .set({ revokedAt: sql`now()` })
        .where(eq(authSessions.id, session.id))
      // Nobody signed in through Entra holds Entra-granted rights once Entra stops vouching for them.
      await applyGrants(tx, { kind: 'system' }, session.userId, { admin: false, tenants: new Map() })
      await recordAuditEvent(
        tx,
        { kind: 'system' },
        { action: 'auth.session_ended_by_entra', subject: { type: 'session', id: session.id }, metadata: { reason } },
      )
    })
    return 'ended' as const
  }
  if (!session.refreshToken) return end('no refresh token to re-read the claims with')
  let answer: OidcAnswer
  let groups: string[]
  try {
    answer = await client.refresh(deps.secrets.decrypt(session.refreshToken, refreshAad(session.id)))
    groups = await groupsOf(deps, answer.claims)
  } catch (error) {
    if (error instanceof SignInRefused && error.code === 'invalid_grant') return end(error.message)
    await deps.db
      .update(authSessions)
      .set({
        rolesCheckedAt: sql`now() - make_interval(mins => ${deps.entra.roleCheckMinutes}) + interval '5 minutes'`,
      })
      .where(eq(authSessions.id, session.id))
    return 'deferred'
  }
  await deps.db.transaction(async (tx) => {
    const [identity] = await tx.select().from(entraIdentities).where(eq(entraIdentities.id, session.identityId))
    if (!identity || identity.tid !== answer.claims.tid || identity.oid !== answer.claims.oid)
      throw new SignInRefused('identity_changed', 'The refreshed token names another person')
    await tx
      .update(entraIdentities)
      .set({ groups, appRoles: answer.claims.appRoles })
      .where(eq(entraIdentities.id, identity.id))
    await applyGrants(tx, { kind: 'system' }, session.userId, await grantsFor(tx, groups, answer.claims.appRoles))
    await tx
      .update(authSessions)
      .set({
        rolesCheckedAt: sql`now()`,
        ...(answer.refreshToken
          ? { refreshToken: deps.secrets.encrypt(answer.refreshToken, refreshAad(session.id)) }
          : {}),
      })
      .where(eq(authSessions.id, session.id))
  })
  return 'applied'
}

/** `recheckSession` for the principal the HTTP layer resolved. */
export const recheckPrincipal = (deps: EntraDeps, client: OidcClient, principal: Principal) =>
  recheckSession(deps, client, {
    id: principal.credentialId,
    userId: principal.user.id,
    identityId: principal.session!.identityId!,
    refreshToken: principal.session!.refreshToken,
  })
