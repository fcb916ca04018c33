import type { Database } from '../../db/engine.ts'
import { conflict, notFound, validationError } from '../../lib/errors.ts'
import { type Actor, recordAuditEvent } from '../audit/record-audit-event.ts'
import { acknowledgeFinding, exceptFinding, findFinding, removeException } from './repository.ts'

/** Acknowledge an open finding (someone has seen it); audited. */
export async function acknowledge(
  db: Database,
  actor: Actor,
  tenantId: string,
  userId: string | null,
  findingId: string,
  now = new Date(),
) {
  const finding = await findFinding(db, tenantId, findingId)
  if (!finding) throw notFound('Finding')
  return db.transaction(async (tx) => {
    const row = await acknowledgeFinding(tx, tenantId, finding.id, userId, now)
    if (!row) throw conflict(`Only an open finding can be acknowledged (this one is ${finding.state})`)
    await recordAuditEvent(tx, actor, {
      tenantId,
      action: 'finding.acknowledged',
      subject: { type: 'finding', id: finding.id },
      metadata: { path: finding.path, baseline_id: finding.baselineId },
    })
    return row
  })
}

/**
 * An exception pins the value the tenant holds now: the finding stays silent while it holds exactly
 * that value, and reopens when it changes or the exception expires. Audited with its reason.
 */
export async function except(
  db: Database,
  actor: Actor,
  tenantId: string,
  approver: { id: string | null; name: string },
  findingId: string,
  body: { reason: string; expires_at: string | null },
  now = new Date(),
) {
  const finding = await findFinding(db, tenantId, findingId)
  if (!finding) throw notFound('Finding')
  if (body.expires_at !== null && new Date(body.expires_at).getTime() <= now.getTime())
    throw validationError([{ field: 'expires_at', message: 'must be in the future' }])
  return db.transaction(async (tx) => {
    const row = await exceptFinding(tx, tenantId, finding.id, {
      value: finding.actual ?? null,
      reason: body.reason,
      approved_by: approver.name,
      expires_at: body.expires_at,
    })
    if (!row) throw conflict(`Only an open or acknowledged finding can be excepted (this one is ${finding.state})`)
    await recordAuditEvent(tx, actor, {
      tenantId,
      action: 'finding.excepted',
      subject: { type: 'finding', id: finding.id },
      metadata: { path: finding.path, reason: body.reason, expires_at: body.expires_at, approver_id: approver.id },
    })
    return row
  })
}

export async function withdrawException(db: Database, actor: Actor, tenantId: string, findingId: string) {
  const finding = await findFinding(db, tenantId, findingId)
  if (!finding) throw notFound('Finding')
  return db.transaction(async (tx) => {
    const row = await removeException(tx, tenantId, finding.id)
    if (!row) throw conflict('The finding has no exception')
    await recordAuditEvent(tx, actor, {
      tenantId,
      action: 'finding.exception_removed',
      subject: { type: 'finding', id: finding.id },
      metadata: { path: finding.path, exception: finding.exception },
    })
    return row
  })
}
