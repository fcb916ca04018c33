import { and, asc, desc, eq, inArray, isNotNull, isNull, sql } from 'drizzle-orm'
import type { Executor } from '../../db/engine.ts'
import {
  backupSetItems,
  backupSets,
  inventoryContents,
  inventoryItems,
  inventoryTypeStates,
  inventoryVersions,
  restoreMappings,
  restorePlanItems,
  restorePlans,
  type MappingKind,
  type RestorePlanRow,
} from '../../db/schema.ts'
import type { BuiltPlan, PlanSelection } from './plan.ts'

/**
 * The only place that reads and writes the restore module's tables (restore_plans, their items,
 * the remembered mappings). Other modules call the exported commands (create-plan.ts) instead.
 */

/** A new plan's row (its items and mapping follow with savePlan, in the same transaction). */
export async function insertPlan(
  tx: Executor,
  plan: {
    id: string
    targetTenantId: string
    sourceTenantId: string
    backupId: string
    selection: PlanSelection
    createdByUserId: string
  },
): Promise<void> {
  await tx.insert(restorePlans).values(plan)
}

/** When the target's inventory was last synced (any type): a plan built before is stale. */
export async function targetSyncedAt(db: Executor, tenantId: string): Promise<Date | null> {
  const [row] = await db
    .select({ at: sql<Date | string | null>`max(${inventoryTypeStates.lastSyncedAt})` })
    .from(inventoryTypeStates)
    .where(eq(inventoryTypeStates.tenantId, tenantId))
  return row?.at ? new Date(row.at) : null
}

/** Stores a built plan: a new one, or the plan's items replaced (refresh, mapping edits). */
export async function savePlan(tx: Executor, planId: string, built: BuiltPlan) {
  await tx.delete(restorePlanItems).where(eq(restorePlanItems.planId, planId))
  for (let i = 0; i < built.items.length; i += 1000) {
    await tx.insert(restorePlanItems).values(
      built.items.slice(i, i + 1000).map((item) => ({
        planId,
        id: item.id,
        position: item.position,
        policyType: item.policyType,
        sourceExternalId: item.sourceExternalId,
        displayName: item.displayName,
        contentHash: item.contentHash,
        action: item.action,
        targetExternalId: item.targetExternalId,
        reason: item.reason,
        warnings: item.warnings,
        excluded: item.excluded,
        changes: item.changes,
      })),
    )
  }
  await tx
    .update(restorePlans)
    .set({ mapping: built.mapping, targetSyncedAt: built.targetSyncedAt, builtAt: sql`now()`, updatedAt: sql`now()` })
    .where(eq(restorePlans.id, planId))
}

export async function findPlan(
  db: Executor,
  targetTenantId: string,
  planId: string,
): Promise<RestorePlanRow | undefined> {
  const [row] = await db
    .select()
    .from(restorePlans)
    .where(and(eq(restorePlans.targetTenantId, targetTenantId), eq(restorePlans.id, planId)))
  return row
}

export async function planItems(db: Executor, planId: string) {
  return db
    .select()
    .from(restorePlanItems)
    .where(eq(restorePlanItems.planId, planId))
    .orderBy(asc(restorePlanItems.position))
}

/** Remembers mappings for the tenant pair (a later plan proposes them first). */
export async function rememberMappings(
  tx: Executor,
  sourceTenantId: string,
  targetTenantId: string,
  entries: readonly { kind: MappingKind; source_id: string; target_id: string | null }[],
) {
  if (entries.length === 0) return
  await tx
    .insert(restoreMappings)
    .values(
      entries.map((e) => ({
        sourceTenantId,
        targetTenantId,
        kind: e.kind,
        sourceId: e.source_id,
        targetId: e.target_id,
      })),
    )
    .onConflictDoUpdate({
      target: [
        restoreMappings.sourceTenantId,
        restoreMappings.targetTenantId,
        restoreMappings.kind,
        restoreMappings.sourceId,
      ],
      set: { targetId: sql`excluded.target_id`, updatedAt: sql`now()` },
    })
}

/** Leaves plan items out of (or back in) the execution. */
export async function setItemsExcluded(tx: Executor, planId: string, itemIds: readonly string[], excluded: boolean) {
  if (itemIds.length === 0) return
  await tx
    .update(restorePlanItems)
    .set({ excluded })
    .where(and(eq(restorePlanItems.planId, planId), inArray(restorePlanItems.id, [...itemIds])))
}

/** Records the run that executes the plan (null: the plan was rebuilt and may execute again). */
export async function setPlanRun(tx: Executor, planId: string, runId: string | null) {
  await tx.update(restorePlans).set({ runId }).where(eq(restorePlans.id, planId))
}

/** Locks the plan row for the execute that reads it; returns the run that executed it, if one did. */
export async function lockPlanRun(tx: Executor, planId: string): Promise<string | null> {
  const [locked] = await tx
    .select({ runId: restorePlans.runId })
    .from(restorePlans)
    .where(eq(restorePlans.id, planId))
    .for('update')
  return locked?.runId ?? null
}

/** The run of the latest executed plan of `tenantId` built from the backup set, if any. */
export async function executedRunOfBackup(db: Executor, tenantId: string, backupId: string): Promise<string | null> {
  const [row] = await db
    .select({ runId: restorePlans.runId })
    .from(restorePlans)
    .where(
      and(
        eq(restorePlans.targetTenantId, tenantId),
        eq(restorePlans.backupId, backupId),
        isNotNull(restorePlans.runId),
      ),
    )
    .orderBy(desc(restorePlans.createdAt))
    .limit(1)
  return row?.runId ?? null
}

/** A version of an item with the item and its stored content (null: no such version, or its content is gone). */
export async function versionWithContent(db: Executor, versionId: string) {
  const [row] = await db
    .select({ version: inventoryVersions, item: inventoryItems, content: inventoryContents })
    .from(inventoryVersions)
    .innerJoin(inventoryItems, eq(inventoryItems.id, inventoryVersions.itemId))
    .leftJoin(
      inventoryContents,
      and(
        eq(inventoryContents.tenantId, inventoryVersions.tenantId),
        eq(inventoryContents.contentHash, inventoryVersions.contentHash),
      ),
    )
    .where(eq(inventoryVersions.id, versionId))
  return row
}

/** A backup set by id, whatever its tenant (the caller checks it may view that tenant). */
export async function backupSetById(db: Executor, backupId: string) {
  const [set] = await db.select().from(backupSets).where(eq(backupSets.id, backupId))
  return set
}

/** Of the inventory item ids of the set's tenant, those the set pins, as a plan selection; and the rest. */
export async function pinnedSelection(db: Executor, set: { id: string; tenantId: string }, itemIds: readonly string[]) {
  const ids = [...new Set(itemIds)]
  const rows = await db
    .select({ id: inventoryItems.id, policy_type: inventoryItems.policyType, external_id: inventoryItems.externalId })
    .from(inventoryItems)
    .where(and(eq(inventoryItems.tenantId, set.tenantId), inArray(inventoryItems.id, ids)))
  const inSet =
    rows.length === 0
      ? []
      : await db
          .select({ t: backupSetItems.policyType, e: backupSetItems.externalId })
          .from(backupSetItems)
          .where(
            and(
              eq(backupSetItems.backupId, set.id),
              inArray(
                backupSetItems.externalId,
                rows.map((x) => x.external_id),
              ),
            ),
          )
  const pinned = new Set(inSet.map((x) => `${x.t}\n${x.e}`))
  const found = rows.filter((x) => pinned.has(`${x.policy_type}\n${x.external_id}`))
  return {
    selection: found.map((x) => ({ policy_type: x.policy_type, external_id: x.external_id })),
    missing: ids.filter((id) => !found.some((x) => x.id === id)),
  }
}

/** Which `type\nexternal id` pairs of the tenant's current inventory exist, of those external ids. */
export async function presentInInventory(db: Executor, tenantId: string, externalIds: readonly string[]) {
  if (externalIds.length === 0) return new Set<string>()
  const rows = await db
    .select({ type: inventoryItems.policyType, id: inventoryItems.externalId })
    .from(inventoryItems)
    .where(
      and(
        eq(inventoryItems.tenantId, tenantId),
        isNull(inventoryItems.removedAt),
        inArray(inventoryItems.externalId, [...externalIds]),
      ),
    )
  return new Set(rows.map((x) => `${x.type}\n${x.id}`))
}
