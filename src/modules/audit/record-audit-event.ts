import { auditEvents } from '../../db/schema.ts'
import type { Executor } from '../../db/engine.ts'
import { uuidv7 } from '../../lib/ids.ts'

/** Who did something: a signed-in user, a user's API token, the CLI, or the system itself. */
export type Actor =
  { kind: 'user' | 'token'; userId: string; ip: string | null } | { kind: 'cli' | 'system'; userId?: null; ip?: null }

export type AuditInput = {
  tenantId?: string | null
  action: string
  subject?: { type: string; id: string }
  metadata?: Record<string, unknown>
}

/** Writes one audit event with the executor it is given: callers pass their transaction. */
export async function recordAuditEvent(
  tx: Executor,
  actor: Actor | { kind: 'anonymous'; ip: string | null },
  input: AuditInput,
) {
  await tx.insert(auditEvents).values({
    id: uuidv7(),
    tenantId: input.tenantId ?? null,
    actorUserId: 'userId' in actor ? (actor.userId ?? null) : null,
    actorKind: actor.kind,
    action: input.action,
    subjectType: input.subject?.type ?? null,
    subjectId: input.subject?.id ?? null,
    metadata: input.metadata ?? {},
    ip: actor.ip ?? null,
  })
}
