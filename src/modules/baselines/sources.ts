import { sql } from 'drizzle-orm'
import type { Executor } from '../../db/engine.ts'
import { SERVER_SET_PROPERTIES } from '../../graph/writes/strategies.ts'
import { notFound, validationError } from '../../lib/errors.ts'
import { findBackup } from '../backups/repository.ts'
import { toTextArray } from '../inventory/store.ts'
import { backupObjects } from '../restore/plan.ts'
import type { BaselineFrom } from './schemas.ts'

/** One policy's content as an entry pins it, and where it came from. */
export type SourceObject = {
  policyType: string
  displayName: string
  odataType: string | null
  externalId: string
  itemId: string | null
  versionId: string | null
  backupId: string | null
  contentHash: string
  payload: Record<string, unknown>
  assignments: Record<string, unknown>[]
}

/**
 * Paths never compared unless an entry says otherwise: what Graph sets or bumps on its own
 * (timestamps, versions, counters), the properties a restore never writes (graph/writes), and
 * license counters (IntuneCD #168/#172). A path matches itself and everything below it.
 */
export const DEFAULT_IGNORE: readonly string[] = [
  // Not `id` (never a setting path) nor `assignments` (compared unless an entry leaves them out).
  ...SERVER_SET_PROPERTIES.filter((p) => p !== 'id' && p !== 'assignments'),
  'usedLicenseCount',
  'totalLicenseCount',
  'deviceStatusOverview',
  'userStatusOverview',
  'uploadState',
  'publishingState',
]

export const odataTypeOf = (payload: Record<string, unknown>) =>
  typeof payload['@odata.type'] === 'string' ? payload['@odata.type'] : null

type ItemRow = {
  item_id: string
  policy_type: string
  display_name: string
  external_id: string
  content_hash: string
  version_id: string | null
  payload: Record<string, unknown>
  assignments: Record<string, unknown>[]
}

/** The tenant's present items by id, with their latest version: a 422 names the ids it does not have. */
export async function tenantObjects(db: Executor, tenantId: string, itemIds: readonly string[], field: string) {
  const { rows } = await db.execute<ItemRow>(sql`
    SELECT i.id AS item_id, i.policy_type, i.display_name, i.external_id, i.content_hash, i.payload, i.assignments,
      (SELECT v.id FROM inventory_versions v WHERE v.item_id = i.id ORDER BY v.number DESC LIMIT 1) AS version_id
    FROM inventory_items i
    WHERE i.tenant_id = ${tenantId} AND i.id = ANY(${toTextArray(itemIds)}::uuid[]) AND i.removed_at IS NULL`)
  const found = new Set(rows.map((r) => r.item_id))
  const missing = itemIds.filter((id) => !found.has(id))
  if (missing.length > 0)
    throw validationError([
      { field, message: `not present in the tenant's inventory: ${missing.slice(0, 5).join(', ')}` },
    ])
  return rows.map((r): SourceObject => ({
    policyType: r.policy_type,
    displayName: r.display_name,
    odataType: odataTypeOf(r.payload),
    externalId: r.external_id,
    itemId: r.item_id,
    versionId: r.version_id,
    backupId: null,
    contentHash: r.content_hash,
    payload: r.payload,
    assignments: r.assignments,
  }))
}

/** One version of an item (a re-pin): its content. */
export async function versionObject(db: Executor, tenantId: string, itemId: string, versionId: string) {
  const { rows } = await db.execute<ItemRow>(sql`
    SELECT i.id AS item_id, i.policy_type, i.display_name, i.external_id, v.content_hash, v.id AS version_id,
      c.payload, c.assignments
    FROM inventory_items i
    JOIN inventory_versions v ON v.item_id = i.id
    JOIN inventory_contents c ON c.tenant_id = i.tenant_id AND c.content_hash = v.content_hash
    WHERE i.tenant_id = ${tenantId} AND i.id = ${itemId}
      ${versionId === 'latest' ? sql`` : sql`AND v.id = ${versionId}`}
    ORDER BY v.number DESC LIMIT 1`)
  const r = rows[0]
  if (!r) return undefined
  return {
    policyType: r.policy_type,
    displayName: r.display_name,
    odataType: odataTypeOf(r.payload),
    externalId: r.external_id,
    itemId: r.item_id,
    versionId: r.version_id,
    backupId: null,
    contentHash: r.content_hash,
    payload: r.payload,
    assignments: r.assignments,
  } satisfies SourceObject
}

/** Which tenant a backup set belongs to (404 when there is no such set). */
async function backupTenant(db: Executor, backupId: string) {
  const { rows } = await db.execute<{ tenant_id: string }>(
    sql`SELECT tenant_id FROM backup_sets WHERE id = ${backupId}`,
  )
  if (!rows[0]) throw notFound('Backup set')
  return rows[0].tenant_id
}

/**
 * Resolves `from` to the tenant it reads and its objects. `canUse(tenantId)` refuses a tenant the
 * caller may not use (a 404 or 403 thrown before any object is read).
 */
export async function resolveFrom(
  db: Executor,
  from: BaselineFrom,
  canUse: (tenantId: string) => Promise<void>,
): Promise<{ tenantId: string; objects: SourceObject[] }> {
  if ('tenant_id' in from) {
    await canUse(from.tenant_id)
    return {
      tenantId: from.tenant_id,
      objects: await tenantObjects(db, from.tenant_id, from.item_ids, 'from.item_ids'),
    }
  }
  const tenantId = await backupTenant(db, from.backup_id)
  await canUse(tenantId)
  const backup = await findBackup(db, tenantId, from.backup_id)
  if (!backup) throw notFound('Backup set')
  if (backup.set.status === 'running')
    throw validationError([{ field: 'from.backup_id', message: 'the backup set is still being made' }])
  let selection: { policy_type: string; external_id: string }[] | null = null
  let byItem = new Map<string, string>()
  if (from.item_ids) {
    const { rows } = await db.execute<{ id: string; policy_type: string; external_id: string }>(sql`
      SELECT id, policy_type, external_id FROM inventory_items
      WHERE tenant_id = ${tenantId} AND id = ANY(${toTextArray(from.item_ids)}::uuid[])`)
    if (rows.length !== from.item_ids.length)
      throw validationError([{ field: 'from.item_ids', message: "names items that are not the backup's tenant's" }])
    selection = rows.map((r) => ({ policy_type: r.policy_type, external_id: r.external_id }))
    byItem = new Map(rows.map((r) => [`${r.policy_type}\n${r.external_id}`, r.id]))
  }
  const objects = await backupObjects(db, tenantId, from.backup_id, selection)
  if (from.item_ids && objects.length !== from.item_ids.length)
    throw validationError([{ field: 'from.item_ids', message: 'names items the backup set does not hold' }])
  if (!from.item_ids) {
    const { rows } = await db.execute<{ id: string; policy_type: string; external_id: string }>(sql`
      SELECT i.id, i.policy_type, i.external_id FROM inventory_items i
      JOIN backup_set_items b ON b.policy_type = i.policy_type AND b.external_id = i.external_id
      WHERE i.tenant_id = ${tenantId} AND b.backup_id = ${from.backup_id}`)
    byItem = new Map(rows.map((r) => [`${r.policy_type}\n${r.external_id}`, r.id]))
  }
  return {
    tenantId,
    objects: objects
      .filter((o) => o.policyType !== 'group')
      .map((o) => ({
        policyType: o.policyType,
        displayName: o.displayName,
        odataType: odataTypeOf(o.payload),
        externalId: o.externalId,
        itemId: byItem.get(`${o.policyType}\n${o.externalId}`) ?? null,
        versionId: null,
        backupId: from.backup_id,
        contentHash: o.contentHash,
        payload: o.payload,
        assignments: o.assignments,
      })),
  }
}
