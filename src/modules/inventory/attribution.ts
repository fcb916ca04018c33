import { sql } from 'drizzle-orm'
import type { Database } from '../../db/engine.ts'
import type { ChangedBy } from '../../db/schema.ts'
import type { GraphClient } from '../../graph/graph-client.ts'
import type { GraphTenantContext } from '../../graph/tenant-context.ts'

/**
 * Who changed what, from Intune's audit log (`/deviceManagement/auditEvents`): the events since
 * the tenant's last completed sync (with an overlap for Intune's audit delay), by the Graph id of
 * the object each touched. The sync links a new version to the last event that touched its object.
 */

/** Listing Intune's audit events needs this application permission. */
export const AUDIT_PERMISSION = 'DeviceManagementApps.Read.All'
/** Intune files an audit event some minutes after the change: events this much before the last sync are read again. */
export const AUDIT_OVERLAP_MS = 15 * 60 * 1000

export type AuditTouches = Map<string, ChangedBy>

type AuditEvent = {
  activity?: string
  activityDateTime?: string
  activityOperationType?: string
  actor?: {
    userPrincipalName?: string | null
    applicationDisplayName?: string | null
    servicePrincipalName?: string | null
    auditActorType?: string
    type?: string
  }
  resources?: { resourceId?: string }[]
}

function changedByOf(event: AuditEvent): ChangedBy | undefined {
  const at = event.activityDateTime
  if (!at) return undefined
  const actor = event.actor ?? {}
  const isApp = (actor.auditActorType ?? actor.type) === 'Application' || !actor.userPrincipalName
  const who = isApp
    ? { app_name: actor.applicationDisplayName ?? actor.servicePrincipalName ?? 'Unknown application' }
    : { user_principal_name: actor.userPrincipalName! }
  return { ...who, activity: event.activity ?? event.activityOperationType ?? 'Change', at }
}

/**
 * The audit events since `since`, as the last event per touched object id (lower-cased). Throws
 * the GraphError (`missing_permission` names AUDIT_PERMISSION) when the log cannot be read.
 */
export async function readAuditTouches(
  graph: GraphClient,
  ctx: GraphTenantContext,
  since: Date,
): Promise<AuditTouches> {
  const filter = `activityDateTime ge ${since.toISOString()}`
  const url = `/beta/deviceManagement/auditEvents?$filter=${encodeURIComponent(filter)}&$select=activity,activityDateTime,activityOperationType,actor,resources&$top=999`
  const touches: AuditTouches = new Map()
  for await (const page of graph.pagesOf(ctx, url, { permission: AUDIT_PERMISSION, subject: 'auditEvents' })) {
    for (const event of page as AuditEvent[]) {
      const changedBy = changedByOf(event)
      if (!changedBy) continue
      for (const resource of event.resources ?? []) {
        if (typeof resource.resourceId !== 'string') continue
        const key = resource.resourceId.toLowerCase()
        const previous = touches.get(key)
        if (!previous || previous.at <= changedBy.at) touches.set(key, changedBy)
      }
    }
  }
  return touches
}

/** The start of the tenant's last sync whose units completed: where the audit events of this one begin (before the overlap). */
export async function lastCompletedSyncAt(db: Database, tenantId: string): Promise<Date | null> {
  const { rows } = await db.execute<{ at: Date | string | null }>(sql`
    SELECT max(r.started_at) AS at FROM inventory_type_states s JOIN operation_runs r ON r.id = s.last_run_id WHERE s.tenant_id = ${tenantId}`)
  const at = rows[0]?.at
  return at ? new Date(at) : null
}

/** Sets `changed_by` on the versions and change entries this run wrote, from the audit events that touched their objects. */
export async function attributeRun(
  db: Database,
  scope: { tenantId: string; runId: string },
  touches: AuditTouches,
): Promise<number> {
  if (touches.size === 0) return 0
  const records = [...touches].map(([resource_id, changed_by]) => ({ resource_id, changed_by }))
  const json = JSON.stringify(records)
  return db.transaction(async (tx) => {
    const { rows } = await tx.execute<{ n: number }>(sql`
      WITH e AS (SELECT * FROM jsonb_to_recordset(${json}::jsonb) AS e(resource_id text, changed_by jsonb)),
      v AS (
        UPDATE inventory_versions v SET changed_by = e.changed_by FROM inventory_items i, e
        WHERE v.tenant_id = ${scope.tenantId} AND v.run_id = ${scope.runId} AND v.changed_by IS NULL AND i.id = v.item_id AND lower(i.external_id) = e.resource_id
        RETURNING 1)
      SELECT count(*)::int AS n FROM v`)
    await tx.execute(sql`
      WITH e AS (SELECT * FROM jsonb_to_recordset(${json}::jsonb) AS e(resource_id text, changed_by jsonb))
      UPDATE inventory_changes c SET changed_by = e.changed_by FROM inventory_items i, e
      WHERE c.tenant_id = ${scope.tenantId} AND c.run_id = ${scope.runId} AND c.changed_by IS NULL AND i.id = c.item_id AND lower(i.external_id) = e.resource_id`)
    return rows[0]?.n ?? 0
  })
}
