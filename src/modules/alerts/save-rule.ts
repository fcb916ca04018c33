import type { Database, Executor } from '../../db/engine.ts'
import type { AlertRuleRow, AlertRuleTenants } from '../../db/schema.ts'
import { forbidden, notFound, validationError, type FieldIssue } from '../../lib/errors.ts'
import { uuidv7 } from '../../lib/ids.ts'
import { type Actor, recordAuditEvent } from '../audit/record-audit-event.ts'
import { existingTenantGroupIds } from '../tenant-groups/repository.ts'
import { type AlertsReach, ruleWithin } from './reach.ts'
import { deleteRuleRow, existingChannelIds, insertRule, lockRule, updateRuleRow } from './repository.ts'
import type { CreateRuleBody, UpdateRuleBody } from './schemas.ts'

/**
 * What a rule names must exist and be the caller's: channels, tenant groups (admins), tenants (an
 * owner's own; an unknown id and a tenant of someone else read the same, 422 naming the position).
 */
async function checkTargets(
  tx: Executor,
  reach: AlertsReach,
  values: { channel_ids?: string[] | undefined; tenants?: AlertRuleTenants | undefined },
) {
  const issues: FieldIssue[] = []
  if (values.channel_ids) {
    const found = await existingChannelIds(tx, values.channel_ids)
    values.channel_ids.forEach((id, i) => {
      if (!found.has(id)) issues.push({ field: `channel_ids.${i}`, message: `no alert channel ${id}` })
    })
  }
  const tenants = values.tenants
  if (tenants && !reach.admin && !('tenant_ids' in tenants))
    throw forbidden('Only a workspace admin can make a rule for all tenants or for tenant groups')
  if (tenants && 'tenant_ids' in tenants && !reach.admin)
    tenants.tenant_ids.forEach((id, i) => {
      if (!reach.tenantIds.has(id))
        issues.push({ field: `tenants.tenant_ids.${i}`, message: `no tenant ${id} that you own` })
    })
  if (tenants && 'tenant_group_ids' in tenants) {
    const found = await existingTenantGroupIds(tx, tenants.tenant_group_ids)
    tenants.tenant_group_ids.forEach((id, i) => {
      if (!found.has(id)) issues.push({ field: `tenants.tenant_group_ids.${i}`, message: `no tenant group ${id}` })
    })
  }
  if (issues.length > 0) throw validationError(issues)
}

const dedupe = <T>(list: T[]) => [...new Set(list)]

export async function createRule(db: Database, actor: Actor, reach: AlertsReach, body: CreateRuleBody) {
  return db.transaction(async (tx) => {
    await checkTargets(tx, reach, body)
    const id = uuidv7()
    const rule = await insertRule(tx, {
      id,
      name: body.name,
      events: dedupe(body.events),
      minSeverity: body.min_severity ?? null,
      planned: body.planned,
      actors: body.actors ?? null,
      tenants: body.tenants,
      channelIds: dedupe(body.channel_ids),
      windowSeconds: body.window_seconds,
      createdBy: 'userId' in actor ? (actor.userId ?? null) : null,
    })
    await recordAuditEvent(tx, actor, {
      action: 'alert_rule.created',
      subject: { type: 'alert_rule', id },
      metadata: body,
    })
    return rule
  })
}

/** A rule outside the caller's reach is a 404, as if it did not exist. */
async function lockReachable(tx: Executor, reach: AlertsReach, ruleId: string): Promise<AlertRuleRow> {
  const rule = await lockRule(tx, ruleId)
  if (!rule || !ruleWithin(reach, rule.tenants)) throw notFound('Alert rule')
  return rule
}

export async function updateRule(db: Database, actor: Actor, reach: AlertsReach, ruleId: string, body: UpdateRuleBody) {
  return db.transaction(async (tx) => {
    await lockReachable(tx, reach, ruleId)
    await checkTargets(tx, reach, body)
    const rule = await updateRuleRow(tx, ruleId, {
      ...(body.name === undefined ? {} : { name: body.name }),
      ...(body.events === undefined ? {} : { events: dedupe(body.events) }),
      ...(body.min_severity === undefined ? {} : { minSeverity: body.min_severity }),
      ...(body.planned === undefined ? {} : { planned: body.planned }),
      ...(body.actors === undefined ? {} : { actors: body.actors }),
      ...(body.tenants === undefined ? {} : { tenants: body.tenants }),
      ...(body.channel_ids === undefined ? {} : { channelIds: dedupe(body.channel_ids) }),
      ...(body.window_seconds === undefined ? {} : { windowSeconds: body.window_seconds }),
    })
    await recordAuditEvent(tx, actor, {
      action: 'alert_rule.updated',
      subject: { type: 'alert_rule', id: ruleId },
      metadata: body,
    })
    return rule
  })
}

export async function deleteRule(db: Database, actor: Actor, reach: AlertsReach, ruleId: string) {
  await db.transaction(async (tx) => {
    const rule = await lockReachable(tx, reach, ruleId)
    await deleteRuleRow(tx, ruleId)
    await recordAuditEvent(tx, actor, {
      action: 'alert_rule.deleted',
      subject: { type: 'alert_rule', id: ruleId },
      metadata: { name: rule.name },
    })
  })
}
