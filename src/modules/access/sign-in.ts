import { addDays } from '../../lib/time.ts'
import type { Database } from '../../db/engine.ts'
import { authSessions } from '../../db/schema.ts'
import { dummyPasswordHash, generateToken, sha256, verifyPassword } from '../../lib/crypto.ts'
import { AppError } from '../../lib/errors.ts'
import { uuidv7 } from '../../lib/ids.ts'
import { recordAuditEvent } from '../audit/record-audit-event.ts'
import { findUserByEmail, markSignInSucceeded, reserveSignInAttempt } from './repository.ts'

export const SESSION_DAYS = 7

export type SignInLimits = { windowSeconds: number; perAccount: number; perIp: number }
export const defaultSignInLimits: SignInLimits = { windowSeconds: 15 * 60, perAccount: 5, perIp: 20 }

export type SignInRequest = { email: string; password: string; ip: string | null; userAgent: string | null }

/**
 * Email + password sign-in. Every attempt is reserved before the password is checked
 * (repository.ts), so the limit holds across every web process sharing the database and
 * whatever arrives in parallel. Failures are also audit events.
 */
export async function signIn(
  db: Database,
  request: SignInRequest,
  limits: SignInLimits = defaultSignInLimits,
  options: { passwordsOff?: () => Promise<boolean> } = {},
) {
  const attempt = await reserveSignInAttempt(db, request.email, request.ip, limits)
  if ('throttled' in attempt) {
    await recordAuditEvent(
      db,
      { kind: 'anonymous', ip: request.ip },
      {
        action: 'auth.sign_in_throttled',
        metadata: { email: request.email, reason: attempt.throttled },
      },
    )
    throw new AppError(
      429,
      'too_many_attempts',
      `Too many failed sign-ins. Try again in ${Math.round(limits.windowSeconds / 60)} minutes.`,
    )
  }

  const user = await findUserByEmail(db, request.email)
  const valid = await verifyPassword(request.password, user?.passwordHash ?? (await dummyPasswordHash()))
  if (!user || !valid) {
    await recordAuditEvent(
      db,
      user ? { kind: 'user', userId: user.id, ip: request.ip } : { kind: 'anonymous', ip: request.ip },
      {
        action: 'auth.sign_in_failed',
        subject: user ? { type: 'user', id: user.id } : undefined,
        metadata: { email: request.email, reason: user ? 'wrong_password' : 'unknown_account' },
      },
    )
    throw new AppError(401, 'invalid_credentials', 'E-mail or password is incorrect')
  }
  // Checked after the password, so the answer reveals nothing about accounts to someone without one.
  if (!user.breakGlass && options.passwordsOff && (await options.passwordsOff())) {
    await markSignInSucceeded(db, attempt.id)
    throw new AppError(
      403,
      'password_sign_in_off',
      'Password sign-in is turned off here: use "Sign in with Microsoft" (break-glass accounts excepted)',
    )
  }

  const token = generateToken('ta_sess')
  const expiresAt = addDays(new Date(), SESSION_DAYS)
  await db.transaction(async (tx) => {
    await markSignInSucceeded(tx, attempt.id)
    const sessionId = uuidv7()
    await tx.insert(authSessions).values({
      id: sessionId,
      userId: user.id,
      tokenHash: sha256(token),
      ip: request.ip,
      userAgent: request.userAgent?.slice(0, 512) ?? null,
      expiresAt,
      authTime: new Date(),
    })
    await recordAuditEvent(
      tx,
      { kind: 'user', userId: user.id, ip: request.ip },
      {
        action: 'auth.signed_in',
        subject: { type: 'session', id: sessionId },
      },
    )
  })
  return { user, token, expiresAt }
}
