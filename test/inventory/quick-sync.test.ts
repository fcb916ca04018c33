import { and, eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inventoryItems } from '../../src/db/schema.ts'
import { GRAPH_PERMISSIONS } from '../../src/graph/policy-types.ts'
import type { TestContext } from '../harness.ts'
import {
  connectTenant,
  control,
  inventoryContext,
  rowVersions,
  storedByType,
  syncAndWait,
  truthByType,
} from './helpers.ts'

let env: Awaited<ReturnType<typeof inventoryContext>>
let ctx: TestContext
let tenant: Awaited<ReturnType<typeof connectTenant>>

const QUICK = { mode: 'quick' }
/** 500 random edits in all, over 20 quick syncs (issue 13). */
const ROUNDS = 20
const EDITS = 25

beforeAll(async () => {
  // Generous retries: the first sync must not lose a unit to a slow answer on a loaded machine (it read every unit in full).
  env = await inventoryContext({ retry: { maxAttempts: 14, baseDelayMs: 20 } })
  ctx = env.ctx
  tenant = await connectTenant(ctx, env.emulator, { policies: 60 })
})
afterAll(async () => env.close())

async function versionCount() {
  const { rows } = await ctx.db.execute<{ n: number }>(
    sql`SELECT count(*)::int AS n FROM inventory_versions WHERE tenant_id = ${tenant.tenantId}`,
  )
  return rows[0]!.n
}

describe('quick sync', () => {
  it('the first quick sync reads in full and says why, per unit', async () => {
    const run = await syncAndWait(ctx, tenant.tenantId, tenant.token, QUICK)
    expect(run.outcome, JSON.stringify(run.failures)).toBe('succeeded')
    const listed = run.units.filter((u) => u.key !== 'group')
    expect(listed.every((u) => u.mode === 'full' && /no earlier sync/.test(u.note ?? ''))).toBe(true)
    expect(await storedByType(ctx, tenant.tenantId)).toEqual(await truthByType(env.emulator, tenant.entraTenantId))
  })

  it('an unchanged tenant: a quick sync reads only the listings and writes nothing', async () => {
    const before = await rowVersions(ctx, tenant.tenantId)
    await control(env.emulator, 'DELETE', '/stats')
    const run = await syncAndWait(ctx, tenant.tenantId, tenant.token, QUICK)
    expect(run.outcome).toBe('succeeded')
    // Listings (types, the audit log, the groups) and nothing else: no object, sub-resource or group read by id.
    const stats = await control<{ by_kind: Record<string, number> }>(env.emulator, 'GET', '/stats')
    expect(stats.body.by_kind.object ?? 0).toBe(0)
    expect(stats.body.by_kind.subresource ?? 0).toBe(0)
    // The groups: one listing; the deleted ones the inventory already knows are not read again.
    expect(stats.body.by_kind.batch ?? 0).toBe(0)
    expect(run.units.filter((u) => u.key !== 'group').every((u) => u.mode === 'quick')).toBe(true)
    // A type whose list serves whole objects is listed in full; one with per-object reads by id and time.
    expect(run.units.find((u) => u.key === 'deviceConfiguration')?.note).toMatch(/^Listed in full/)
    expect(run.units.find((u) => u.key === 'settingsCatalogPolicy')?.note).toBeUndefined()
    expect(run.summaryCounts).toMatchObject({ created: 0, updated: 0, removed: 0 })
    expect(await rowVersions(ctx, tenant.tenantId)).toEqual(before)
  })

  it('re-reads exactly what changed, finds deletions, and attributes the changes', async () => {
    const truth = await truthByType(env.emulator, tenant.entraTenantId)
    // A compliance policy with actions for noncompliance: its list expands them, and so must the quick sync's re-read.
    const emulated = env.emulator.tenant(tenant.entraTenantId)!
    const updatedId = truth
      .deviceCompliancePolicy!.map((line) => line.split(' ')[0]!)
      .find((id) => emulated.findAny(id)!.children('scheduledActionsForRule').length > 0)
    expect(updatedId).toBeDefined()
    const [deletedId] = truth.deviceConfiguration![0]!.split(' ')
    await control(env.emulator, 'PATCH', `/tenants/${tenant.entraTenantId}/items/${updatedId}`, {
      description: 'quick change',
      actor: { user_principal_name: 'quick@contoso.com' },
    })
    await control(env.emulator, 'DELETE', `/tenants/${tenant.entraTenantId}/items/${deletedId}`)
    const created = await control<{ id: string }>(env.emulator, 'POST', `/tenants/${tenant.entraTenantId}/items`, {
      type: 'mobileApp',
      displayName: 'Quick new app',
    })
    const run = await syncAndWait(ctx, tenant.tenantId, tenant.token, QUICK)
    expect(run.outcome).toBe('succeeded')
    expect(run.summaryCounts).toMatchObject({ created: 1, updated: 1, removed: 1 })
    expect(await storedByType(ctx, tenant.tenantId)).toEqual(await truthByType(env.emulator, tenant.entraTenantId))
    const [item] = await ctx.db
      .select()
      .from(inventoryItems)
      .where(and(eq(inventoryItems.tenantId, tenant.tenantId), eq(inventoryItems.externalId, updatedId!)))
    expect(item!.payload.description).toBe('quick change')
    expect(item!.payload.scheduledActionsForRule).toEqual(
      emulated.findAny(updatedId!)!.children('scheduledActionsForRule'),
    )
    const { rows } = await ctx.db.execute<{ changed_by: { user_principal_name?: string } | null }>(
      sql`SELECT changed_by FROM inventory_versions WHERE item_id = ${item!.id} ORDER BY number DESC LIMIT 1`,
    )
    expect(rows[0]!.changed_by?.user_principal_name).toBe('quick@contoso.com')
    const [newApp] = await ctx.db
      .select()
      .from(inventoryItems)
      .where(and(eq(inventoryItems.tenantId, tenant.tenantId), eq(inventoryItems.externalId, created.body.id)))
    expect(newApp!.displayName).toBe('Quick new app')
  })

  it('a change without a new lastModifiedDateTime is found through the audit log', async () => {
    const [policy] = await ctx.db
      .select()
      .from(inventoryItems)
      .where(
        and(
          eq(inventoryItems.tenantId, tenant.tenantId),
          eq(inventoryItems.policyType, 'settingsCatalogPolicy'),
          sql`${inventoryItems.removedAt} IS NULL`,
        ),
      )
      .limit(1)
    const emulated = env.emulator.tenant(tenant.entraTenantId)!
    await control(env.emulator, 'PATCH', `/tenants/${tenant.entraTenantId}/items/${policy!.externalId}`, {
      name: 'Renamed silently',
      actor: { user_principal_name: 'silent@contoso.com' },
    })
    // As if Graph had not stamped the change: the stored time is moved to Graph's new one, so only the audit event tells.
    const stamped = emulated.findAny(policy!.externalId)!.body.lastModifiedDateTime as string
    await ctx.db.execute(
      sql`UPDATE inventory_items SET graph_last_modified_at = ${stamped}::timestamptz WHERE id = ${policy!.id}`,
    )
    const run = await syncAndWait(ctx, tenant.tenantId, tenant.token, QUICK)
    expect(run.outcome).toBe('succeeded')
    // A type with per-object reads (its settings): listed by id and lastModifiedDateTime, so only the audit event tells.
    expect(run.units.find((u) => u.key === 'settingsCatalogPolicy')).toMatchObject({
      mode: 'quick',
      counts: { updated: 1 },
    })
    const [after] = await ctx.db.select().from(inventoryItems).where(eq(inventoryItems.id, policy!.id))
    expect(after!.displayName).toBe('Renamed silently')
  })

  it("sees a renamed group (an Entra change, not in Intune's audit log) and a renamed scope tag (a type without lastModifiedDateTime)", async () => {
    const [group] = await ctx.db
      .select()
      .from(inventoryItems)
      .where(
        and(
          eq(inventoryItems.tenantId, tenant.tenantId),
          eq(inventoryItems.policyType, 'group'),
          sql`${inventoryItems.removedAt} IS NULL`,
        ),
      )
      .limit(1)
    const tag = await control<{ id: string }>(env.emulator, 'POST', `/tenants/${tenant.entraTenantId}/items`, {
      type: 'roleScopeTag',
      displayName: 'Tag for quick',
    })
    expect((await syncAndWait(ctx, tenant.tenantId, tenant.token, QUICK)).summaryCounts).toMatchObject({
      created: 1,
      updated: 0,
    })
    const renamed = await control<{ type: string; displayName: string }>(
      env.emulator,
      'PATCH',
      `/tenants/${tenant.entraTenantId}/items/${group!.externalId}`,
      { displayName: 'SG-Renamed-Quick' },
    )
    expect(renamed.body).toMatchObject({ type: 'group', displayName: 'SG-Renamed-Quick' })
    await control(env.emulator, 'PATCH', `/tenants/${tenant.entraTenantId}/items/${tag.body.id}`, {
      displayName: 'Tag renamed quick',
    })
    const run = await syncAndWait(ctx, tenant.tenantId, tenant.token, QUICK)
    expect(run.outcome, JSON.stringify(run.failures)).toBe('succeeded')
    expect(run.units.find((u) => u.key === 'group')).toMatchObject({ mode: 'quick', counts: { updated: 1 } })
    expect(run.units.find((u) => u.key === 'roleScopeTag')).toMatchObject({ mode: 'quick', counts: { updated: 1 } })
    expect(await storedByType(ctx, tenant.tenantId)).toEqual(await truthByType(env.emulator, tenant.entraTenantId))
    const { rows } = await ctx.db.execute<{ kind: string; display_name: string }>(
      sql`SELECT kind, display_name FROM inventory_changes WHERE run_id = ${run.id} ORDER BY display_name`,
    )
    expect(rows).toEqual([
      { kind: 'updated', display_name: 'SG-Renamed-Quick' },
      { kind: 'updated', display_name: 'Tag renamed quick' },
    ])
  })

  it('falls back to a full read when the audit log is unreadable, and says so', async () => {
    await control(
      env.emulator,
      'PUT',
      `/tenants/${tenant.entraTenantId}/permissions`,
      GRAPH_PERMISSIONS.filter((p) => p !== 'DeviceManagementApps.Read.All'),
    )
    try {
      const run = await syncAndWait(ctx, tenant.tenantId, tenant.token, {
        ...QUICK,
        policy_types: ['deviceConfiguration'],
        include_foundations: false,
        include_dependencies: false,
      })
      expect(run.outcome).toBe('succeeded')
      const unit = run.units.find((u) => u.key === 'deviceConfiguration')!
      expect(unit.mode).toBe('full')
      expect(unit.note).toMatch(/audit events are not readable.*DeviceManagementApps\.Read\.All/)
      expect(run.failures.filter((f) => f.severity === 'warning')).toHaveLength(1)
    } finally {
      await control(env.emulator, 'PUT', `/tenants/${tenant.entraTenantId}/permissions`, GRAPH_PERMISSIONS)
    }
  })

  it('falls back to a full read of a type whose last full read is too old', async () => {
    await ctx.db.execute(
      sql`UPDATE inventory_type_states SET last_full_sync_at = now() - interval '8 days' WHERE tenant_id = ${tenant.tenantId} AND policy_type = 'mobileApp'`,
    )
    const run = await syncAndWait(ctx, tenant.tenantId, tenant.token, {
      ...QUICK,
      policy_types: ['mobileApp', 'deviceConfiguration'],
      include_foundations: false,
      include_dependencies: false,
    })
    expect(run.units.find((u) => u.key === 'mobileApp')).toMatchObject({
      mode: 'full',
      note: expect.stringMatching(/older than 7 days/) as unknown,
    })
    expect(run.units.find((u) => u.key === 'deviceConfiguration')).toMatchObject({ mode: 'quick' })
  })

  it(
    'misses nothing: 500 random edits over 20 quick syncs, then a full sync finds nothing new',
    { timeout: 600_000 },
    async () => {
      let seed = 13
      const random = (n: number) => {
        seed = (seed * 1103515245 + 12345) % 2147483648
        return seed % n
      }
      const types = [
        'deviceConfiguration',
        'deviceCompliancePolicy',
        'mobileApp',
        'windowsUpdateRing',
        'assignmentFilter',
        'settingsCatalogPolicy',
        'roleScopeTag',
        'deviceManagementScript',
      ]
      for (let round = 0; round < ROUNDS; round++) {
        const truth = await truthByType(env.emulator, tenant.entraTenantId)
        for (let edit = 0; edit < EDITS; edit++) {
          const type = types[random(types.length)]!
          const ids = (truth[type] ?? []).map((line) => line.split(' ')[0]!)
          const action = random(4)
          if (action === 0 || ids.length < 2) {
            await control(env.emulator, 'POST', `/tenants/${tenant.entraTenantId}/items`, {
              type,
              displayName: `Random ${round}-${edit}`,
            })
          } else if (action === 1) {
            await control(env.emulator, 'DELETE', `/tenants/${tenant.entraTenantId}/items/${ids[random(ids.length)]}`)
          } else if (action === 2) {
            await control(env.emulator, 'PATCH', `/tenants/${tenant.entraTenantId}/items/${ids[random(ids.length)]}`, {
              description: `edit ${round}-${edit}`,
            })
          } else {
            await control(env.emulator, 'PATCH', `/tenants/${tenant.entraTenantId}/items/${ids[random(ids.length)]}`, {
              displayName: `Renamed ${round}-${edit}`,
              actor: { app_name: 'Random app' },
            })
          }
        }
        const run = await syncAndWait(ctx, tenant.tenantId, tenant.token, QUICK)
        expect(run.outcome).toBe('succeeded')
        expect(await storedByType(ctx, tenant.tenantId)).toEqual(await truthByType(env.emulator, tenant.entraTenantId))
      }
      const versions = await versionCount()
      const before = await rowVersions(ctx, tenant.tenantId)
      const full = await syncAndWait(ctx, tenant.tenantId, tenant.token)
      expect(full.outcome).toBe('succeeded')
      const missed = await ctx.db.execute(
        sql`SELECT c.policy_type, c.kind, i.external_id, pv.payload AS before, v.payload AS after FROM inventory_changes c JOIN inventory_items i ON i.id = c.item_id LEFT JOIN LATERAL (SELECT ic.payload FROM inventory_versions iv JOIN inventory_contents ic ON ic.tenant_id = iv.tenant_id AND ic.content_hash = iv.content_hash WHERE iv.id = c.version_id) v ON true LEFT JOIN LATERAL (SELECT ic.payload FROM inventory_versions iv JOIN inventory_contents ic ON ic.tenant_id = iv.tenant_id AND ic.content_hash = iv.content_hash WHERE iv.id = c.previous_version_id) pv ON true WHERE c.run_id = ${full.id}`,
      )
      expect(full.summaryCounts, JSON.stringify(missed.rows)).toMatchObject({ created: 0, updated: 0, removed: 0 })
      expect(await versionCount()).toBe(versions)
      expect(await rowVersions(ctx, tenant.tenantId)).toEqual(before)
    },
  )
})
