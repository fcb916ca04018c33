import { and, eq } from 'drizzle-orm'
import type { Executor } from '../../db/engine.ts'
import { entraIdentities, users } from '../../db/schema.ts'
import type { Config } from '../../lib/config.ts'

/** Whether a workspace admin signs in through Entra: until one does, turning passwords off would lock everyone out. */
export async function entraAdminExists(db: Executor): Promise<boolean> {
  const [row] = await db
    .select({ id: users.id })
    .from(users)
    .innerJoin(entraIdentities, eq(entraIdentities.userId, users.id))
    .where(and(eq(users.isAdmin, true)))
    .limit(1)
  return row !== undefined
}

/** PASSWORD_SIGN_IN=off takes effect once Entra sign-in is configured and an admin has used it (ADR 028). */
export const passwordsOff = async (db: Executor, config: Config) =>
  config.passwordSignIn === 'off' && config.entra !== undefined && (await entraAdminExists(db))
