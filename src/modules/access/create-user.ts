import { z } from 'zod'
import type { Database } from '../../db/engine.ts'
import { users } from '../../db/schema.ts'
import { hashPassword } from '../../lib/crypto.ts'
import { conflict } from '../../lib/errors.ts'
import { uuidv7 } from '../../lib/ids.ts'
import { type Actor, recordAuditEvent } from '../audit/record-audit-event.ts'
import { findUserByEmail } from './repository.ts'
import { parseInput, requiredText } from '../../lib/validation.ts'

export const emailSchema = z
  .email({ error: 'must be an e-mail address' })
  .max(254, { error: 'must be at most 254 characters' })
export const passwordSchema = z
  .string({ error: 'is required' })
  .min(10, { error: 'must be at least 10 characters' })
  .max(256, { error: 'must be at most 256 characters' })

export const createUserInput = z.object({
  email: emailSchema,
  name: requiredText(200),
  password: passwordSchema,
  is_admin: z.boolean().default(false),
  /** Signs in with this password even when PASSWORD_SIGN_IN=off (the CLI only: the server's operator). */
  break_glass: z.boolean().default(false),
})

export type CreateUserInput = z.input<typeof createUserInput>

export async function createUser(db: Database, actor: Actor, rawInput: CreateUserInput) {
  const input = parseInput(createUserInput, rawInput)
  const passwordHash = await hashPassword(input.password)
  return db.transaction(async (tx) => {
    if (await findUserByEmail(tx, input.email)) throw conflict(`A user with e-mail ${input.email} already exists`)
    const [user] = await tx
      .insert(users)
      .values({
        id: uuidv7(),
        email: input.email,
        name: input.name,
        passwordHash,
        isAdmin: input.is_admin,
        breakGlass: input.break_glass,
      })
      .returning()
    await recordAuditEvent(tx, actor, {
      action: 'user.created',
      subject: { type: 'user', id: user!.id },
      metadata: { email: input.email, is_admin: input.is_admin, break_glass: input.break_glass },
    })
    return user!
  })
}
