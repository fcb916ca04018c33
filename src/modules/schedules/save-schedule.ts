import { eq, sql } from 'drizzle-orm'
import type { Database } from '../../db/engine.ts'
import { schedules, type ScheduleRow } from '../../db/schema.ts'
import { conflict, notFound, validationError, type FieldIssue } from '../../lib/errors.ts'
import { uuidv7 } from '../../lib/ids.ts'
import { fieldIssues } from '../../lib/validation.ts'
import { authorizeStart } from '../access/authority.ts'
import type { TenantAccess } from '../access/policy.ts'
import { FULL_SCOPE, formatScope } from '../access/token-scope.ts'
import { type Actor, recordAuditEvent } from '../audit/record-audit-event.ts'
import type { Catalog } from '../operations/catalog.ts'
import { nextSlot, scheduleIssues } from './cron.ts'
import { lockSchedule } from './repository.ts'
import type { CreateScheduleBody, UpdateScheduleBody } from './schemas.ts'

/**
 * The type a schedule starts must be schedulable, the caller allowed to start it, and its input
 * valid for it (stored canonical, as a run's context); the cron expression and the time zone must
 * parse. Every problem is a 422 naming its field.
 */
function validated(
  catalog: Catalog,
  access: TenantAccess,
  fields: { operationType: string; input: unknown; cron: string; timezone: string },
) {
  const schedulable = catalog.types().filter((t) => catalog.spec(t).schedulable)
  if (!catalog.has(fields.operationType) || !catalog.spec(fields.operationType).schedulable) {
    throw validationError([
      {
        field: 'operation_type',
        message: `"${fields.operationType}" is not a schedulable operation type (schedulable: ${schedulable.join(', ') || 'none'})`,
      },
    ])
  }
  const spec = catalog.spec(fields.operationType)
  authorizeStart(access, spec.capability)
  const issues: FieldIssue[] = scheduleIssues(fields.cron, fields.timezone)
  const given = fields.input ?? {}
  const parsed = spec.input.safeParse(
    spec.scheduleDefaults && typeof given === 'object' && given !== null && !Array.isArray(given)
      ? spec.scheduleDefaults(given as Record<string, unknown>)
      : given,
  )
  if (!parsed.success)
    issues.push(
      ...fieldIssues(parsed.error).map((i) => ({
        field: i.field === '(body)' ? 'input' : `input.${i.field}`,
        message: i.message,
      })),
    )
  if (issues.length > 0 || !parsed.success) throw validationError(issues)
  return parsed.data
}

const duplicateName = (name: string) => conflict(`A schedule named "${name}" already exists in this tenant`)

const isUniqueViolation = (error: unknown): boolean =>
  typeof error === 'object' &&
  error !== null &&
  ((error as { code?: unknown }).code === '23505' || isUniqueViolation((error as { cause?: unknown }).cause))

export async function createSchedule(
  db: Database,
  catalog: Catalog,
  access: TenantAccess,
  actor: Actor,
  body: CreateScheduleBody,
  now = new Date(),
): Promise<ScheduleRow> {
  const input = validated(catalog, access, {
    operationType: body.operation_type,
    input: body.input,
    cron: body.cron,
    timezone: body.timezone,
  })
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(schedules)
      .values({
        id: uuidv7(),
        tenantId: access.tenantId,
        name: body.name,
        operationType: body.operation_type,
        input,
        cron: body.cron.trim(),
        timezone: body.timezone,
        enabled: body.enabled,
        nextRunAt: body.enabled ? nextSlot(body.cron, body.timezone, now) : null,
        createdBy: access.userId,
        creatorScope: formatScope(access.scope ?? FULL_SCOPE),
      })
      .onConflictDoNothing({ target: [schedules.tenantId, schedules.name] })
      .returning()
    if (!row) throw duplicateName(body.name)
    await recordAuditEvent(tx, actor, {
      tenantId: access.tenantId,
      action: 'schedule.created',
      subject: { type: 'schedule', id: row.id },
      metadata: {
        name: row.name,
        operation_type: row.operationType,
        cron: row.cron,
        timezone: row.timezone,
        enabled: row.enabled,
      },
    })
    return row
  })
}

/** Changes a schedule; a changed cron, time zone or re-enabling computes the next slot from now. */
export async function updateSchedule(
  db: Database,
  catalog: Catalog,
  access: TenantAccess,
  actor: Actor,
  scheduleId: string,
  body: UpdateScheduleBody,
  now = new Date(),
): Promise<ScheduleRow> {
  try {
    return await db.transaction(async (tx) => {
      const current = await lockSchedule(tx, access.tenantId, scheduleId)
      if (!current) throw notFound('Schedule')
      const next = {
        name: body.name ?? current.name,
        cron: body.cron?.trim() ?? current.cron,
        timezone: body.timezone ?? current.timezone,
        enabled: body.enabled ?? current.enabled,
      }
      const input = validated(catalog, access, {
        operationType: current.operationType,
        input: body.input ?? current.input,
        ...next,
      })
      const timing =
        next.cron !== current.cron || next.timezone !== current.timezone || (next.enabled && !current.enabled)
      const nextRunAt = !next.enabled
        ? null
        : timing || !current.nextRunAt
          ? nextSlot(next.cron, next.timezone, now)
          : current.nextRunAt
      const [row] = await tx
        .update(schedules)
        .set({ ...next, input, nextRunAt, updatedAt: sql`now()` })
        .where(eq(schedules.id, current.id))
        .returning()
      const changed = Object.keys(body).filter((k) => body[k as keyof UpdateScheduleBody] !== undefined)
      await recordAuditEvent(tx, actor, {
        tenantId: access.tenantId,
        action: 'schedule.updated',
        subject: { type: 'schedule', id: current.id },
        metadata: { name: row!.name, changed, cron: row!.cron, timezone: row!.timezone, enabled: row!.enabled },
      })
      return row!
    })
  } catch (error) {
    if (isUniqueViolation(error)) throw duplicateName(body.name ?? '')
    throw error
  }
}
