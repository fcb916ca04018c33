import { and, eq, inArray } from 'drizzle-orm'
import { expect } from 'vitest'
import { inventoryItems, notifications, type InventoryItemRow } from '../../src/db/schema.ts'
import type { EmulatorServer } from '../../src/emulator/server.ts'
import { findPolicyType } from '../../src/graph/policy-types.ts'
import { targetKey, type TruthObject } from '../bulk/emulator-truth.ts'
import { assignedTo } from '../bulk/helpers.ts'
import { control } from '../graph/emulator-helpers.ts'
import type { TestContext } from '../harness.ts'

/**
 * What every cell of the fault matrix (issue 21) checks, shared by its files: every intended
 * change exactly once in the emulator's ground truth, nothing else touched, the inventory equal
 * to the tenant for the run's objects, one notification.
 */

export const HOUR = 3_600_000

export type MatrixEnv = {
  ctx: TestContext
  emulator: EmulatorServer
  tenant: { tenantId: string; entraTenantId: string }
}

export function matrixHelpers(get: () => MatrixEnv) {
  /** Present policies without secrets, round-robin over the types with assignments, none assigned to `group`, each used once. */
  async function policies(n: number, skip: Set<string>, group?: string): Promise<InventoryItemRow[]> {
    const { ctx, tenant } = get()
    const rows = await ctx.db
      .select()
      .from(inventoryItems)
      .where(eq(inventoryItems.tenantId, tenant.tenantId))
      .orderBy(inventoryItems.displayName, inventoryItems.id)
    const fit = rows.filter((r) => {
      const entry = findPolicyType(r.policyType)
      return (
        !r.removedAt &&
        entry?.kind === 'policy' &&
        entry.assignments !== null &&
        r.policyType !== 'mobileApp' &&
        !JSON.stringify(r.payload).includes('****') &&
        !(group && assignedTo(r, group)) &&
        !skip.has(r.id)
      )
    })
    const byType = new Map<string, InventoryItemRow[]>()
    for (const r of fit) byType.set(r.policyType, [...(byType.get(r.policyType) ?? []), r])
    const out: InventoryItemRow[] = []
    for (let i = 0; out.length < n && i < 50; i++)
      for (const list of byType.values()) if (list[i] && out.length < n) out.push(list[i]!)
    for (const r of out) skip.add(r.id)
    return out
  }

  /** 30 % of Graph's answers lost while Intune's audit log lags an hour: every lost answer is settled by the content check. */
  async function underFaults<T>(work: () => Promise<T>): Promise<T> {
    const { emulator, tenant } = get()
    await control(emulator, 'PUT', `/tenants/${tenant.entraTenantId}/faults`, { audit_delay_ms: HOUR })
    await control(emulator, 'PUT', '/faults', { throttle_scale: 100, drop_response_rate: 0.3 })
    try {
      return await work()
    } finally {
      await control(emulator, 'PUT', '/faults', { throttle_scale: 100 })
    }
  }

  /** The app's writes per object from the emulator's ground truth: every audit event, however late the log lists it. */
  const writesOf = () => {
    const { emulator, tenant } = get()
    const out = new Map<string, string[]>()
    for (const e of emulator.tenant(tenant.entraTenantId)!.audit.all()) {
      if ((e.actor as { type?: string }).type !== 'Application') continue
      const id = (e.resources as { resourceId?: string }[] | undefined)?.[0]?.resourceId
      if (id) out.set(id, [...(out.get(id) ?? []), String(e.activity)])
    }
    return Promise.resolve(out)
  }

  /** The inventory says what the tenant holds for these objects: present or removed, name, scope tags, assignment targets. */
  async function expectInventoryIsTenant(ids: readonly string[], truth: Map<string, TruthObject>) {
    const { ctx, tenant } = get()
    const rows = await ctx.db
      .select()
      .from(inventoryItems)
      .where(and(eq(inventoryItems.tenantId, tenant.tenantId), inArray(inventoryItems.externalId, [...ids])))
    expect(rows.length, 'every object of the run is in the inventory').toBe(ids.length)
    for (const row of rows) {
      const now = truth.get(row.externalId)
      expect(row.removedAt === null, `${row.displayName}: present in the tenant ↔ present in the inventory`).toBe(
        now !== undefined,
      )
      if (!now) continue
      expect(row.displayName).toBe(now.display_name)
      expect([...((row.payload.roleScopeTagIds as string[] | undefined) ?? [])].sort(), row.displayName).toEqual(
        [...(now.content.roleScopeTagIds ?? [])].sort(),
      )
      expect(row.assignments.map(targetKey).sort(), row.displayName).toEqual(
        (now.content.assignments ?? []).map(targetKey).sort(),
      )
    }
  }

  async function oneNotification(runId: string) {
    const { ctx } = get()
    expect(await ctx.db.select().from(notifications).where(eq(notifications.runId, runId))).toHaveLength(1)
  }

  return { policies, underFaults, writesOf, expectInventoryIsTenant, oneNotification }
}

export const delta = (after: Map<string, string[]>, before: Map<string, string[]>, id: string) =>
  (after.get(id)?.length ?? 0) - (before.get(id)?.length ?? 0)

/** Objects the app wrote between two ground-truth snapshots that are not `ids`: what a cell must not touch. */
export const touchedBesides = (after: Map<string, string[]>, before: Map<string, string[]>, ids: readonly string[]) =>
  [...after.keys()].filter((id) => delta(after, before, id) !== 0 && !ids.includes(id))
