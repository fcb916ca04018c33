import { and, eq, gt, isNull, type Placeholder, sql } from 'drizzle-orm'
import type { Database, Executor } from '../../db/engine.ts'
import { preparedFor } from '../../db/prepared.ts'
import { apiTokens, authSessions, signInAttempts, tenantMemberships, tenants, users } from '../../db/schema.ts'
import { uuidv7 } from '../../lib/ids.ts'

const activeSession = (tokenHash: string | Placeholder) =>
  and(eq(authSessions.tokenHash, tokenHash), isNull(authSessions.revokedAt), gt(authSessions.expiresAt, sql`now()`))

export async function findUserByEmail(db: Executor, email: string) {
  const [row] = await db
    .select()
    .from(users)
    .where(sql`lower(${users.email}) = lower(${email})`)
  return row
}

export async function findUserById(db: Executor, id: string) {
  const [row] = await db.select().from(users).where(eq(users.id, id))
  return row
}

// Run on every authenticated request: prepared once per process (db/prepared.ts).
const authQueries = preparedFor((db, name) => ({
  sessionUser: db
    .select({
      user: users,
      sessionId: authSessions.id,
      lastSeenAt: authSessions.lastSeenAt,
      authTime: authSessions.authTime,
      acrs: authSessions.acrs,
      identityId: authSessions.identityId,
      refreshToken: authSessions.refreshToken,
      rolesCheckedAt: authSessions.rolesCheckedAt,
    })
    .from(authSessions)
    .innerJoin(users, eq(users.id, authSessions.userId))
    .where(activeSession(sql.placeholder('tokenHash')))
    .prepare(name('auth_session_user')),
  tokenUser: db
    .select({
      user: users,
      tokenId: apiTokens.id,
      lastUsedAt: apiTokens.lastUsedAt,
      scope: apiTokens.scope,
      expiresAt: apiTokens.expiresAt,
      tenantGroupId: apiTokens.tenantGroupId,
    })
    .from(apiTokens)
    .innerJoin(users, eq(users.id, apiTokens.userId))
    .where(and(eq(apiTokens.tokenHash, sql.placeholder('tokenHash')), isNull(apiTokens.revokedAt)))
    .prepare(name('auth_token_user')),
  membership: db
    .select()
    .from(tenantMemberships)
    .where(
      and(
        eq(tenantMemberships.tenantId, sql.placeholder('tenantId')),
        eq(tenantMemberships.userId, sql.placeholder('userId')),
      ),
    )
    .prepare(name('auth_membership')),
}))

export async function findSessionUser(db: Database, tokenHash: string) {
  const [row] = await authQueries(db).sessionUser.execute({ tokenHash })
  return row
}

export async function findTokenUser(db: Database, tokenHash: string) {
  const [row] = await authQueries(db).tokenUser.execute({ tokenHash })
  return row
}

// Bookkeeping writes are coarse (once a minute) so that a busy script costs reads, not writes.
export async function touchToken(db: Executor, tokenId: string) {
  await db
    .update(apiTokens)
    .set({ lastUsedAt: sql`now()` })
    .where(
      and(
        eq(apiTokens.id, tokenId),
        sql`(${apiTokens.lastUsedAt} IS NULL OR ${apiTokens.lastUsedAt} < now() - interval '1 minute')`,
      ),
    )
}

export async function touchSession(db: Executor, sessionId: string) {
  await db
    .update(authSessions)
    .set({ lastSeenAt: sql`now()` })
    .where(and(eq(authSessions.id, sessionId), sql`${authSessions.lastSeenAt} < now() - interval '1 minute'`))
}

export async function revokeSessionByHash(db: Executor, tokenHash: string) {
  const [row] = await db
    .update(authSessions)
    .set({ revokedAt: sql`now()` })
    .where(activeSession(tokenHash))
    .returning({ id: authSessions.id, userId: authSessions.userId })
  return row
}

export async function listTokens(db: Executor, userId: string) {
  return db
    .select()
    .from(apiTokens)
    .where(and(eq(apiTokens.userId, userId), isNull(apiTokens.revokedAt)))
    .orderBy(apiTokens.createdAt)
}

export async function revokeToken(db: Executor, userId: string, tokenId: string) {
  const [row] = await db
    .update(apiTokens)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(apiTokens.userId, userId), eq(apiTokens.id, tokenId), isNull(apiTokens.revokedAt)))
    .returning()
  return row
}

/** The tenants a user belongs to, with their role in each. */
export async function listMemberships(db: Executor, userId: string) {
  return db
    .select({ tenant: tenants, role: tenantMemberships.role })
    .from(tenantMemberships)
    .innerJoin(tenants, eq(tenants.id, tenantMemberships.tenantId))
    .where(eq(tenantMemberships.userId, userId))
    .orderBy(tenants.name, tenants.id)
}

export async function findMembership(db: Database, tenantId: string, userId: string) {
  const [row] = await authQueries(db).membership.execute({ tenantId, userId })
  return row
}

/**
 * Reserves a sign-in attempt before the password is checked. Under an advisory lock per account
 * and per address, counts the attempts in the window that did not succeed (failed or still being
 * checked) and records this one; so however many arrive at once, at most the limit get through.
 */
export async function reserveSignInAttempt(
  db: Database,
  email: string,
  ip: string | null,
  limits: { windowSeconds: number; perAccount: number; perIp: number },
) {
  const account = email.toLowerCase()
  return db.transaction(async (tx) => {
    // Always account first, then address: two attempts never wait on each other in a cycle.
    await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext('sign-in:account'), hashtext(${account}))`)
    if (ip) await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext('sign-in:ip'), hashtext(${ip}))`)
    const since = sql`now() - make_interval(secs => ${limits.windowSeconds})`
    const open = sql`NOT ${signInAttempts.succeeded} AND ${signInAttempts.createdAt} > ${since}`
    const [row] = await tx
      .select({
        byEmail: sql<number>`(SELECT count(*)::int FROM ${signInAttempts} WHERE ${open} AND ${signInAttempts.email} = ${account})`,
        byIp: ip
          ? sql<number>`(SELECT count(*)::int FROM ${signInAttempts} WHERE ${open} AND ${signInAttempts.ip} = ${ip}::inet)`
          : sql<number>`0`,
      })
      .from(sql`(SELECT 1) AS one`)
    if ((row?.byEmail ?? 0) >= limits.perAccount) return { throttled: 'account' as const }
    if ((row?.byIp ?? 0) >= limits.perIp) return { throttled: 'ip' as const }
    await tx
      .delete(signInAttempts)
      .where(and(eq(signInAttempts.email, account), sql`${signInAttempts.createdAt} <= ${since}`))
    const id = uuidv7()
    await tx.insert(signInAttempts).values({ id, email: account, ip })
    return { id }
  })
}

/** A successful attempt no longer counts against the limit. */
export async function markSignInSucceeded(db: Executor, attemptId: string) {
  await db.update(signInAttempts).set({ succeeded: true }).where(eq(signInAttempts.id, attemptId))
}
