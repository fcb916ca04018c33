import { and, eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inventoryItems } from '../../src/db/schema.ts'
import { ORIGIN, type TestContext } from '../harness.ts'
import { connectTenant, control, inventoryContext, syncAndWait, truthByType } from './helpers.ts'

let env: Awaited<ReturnType<typeof inventoryContext>>
let ctx: TestContext
let tenant: Awaited<ReturnType<typeof connectTenant>>

beforeAll(async () => {
  env = await inventoryContext()
  ctx = env.ctx
  tenant = await connectTenant(ctx, env.emulator, { policies: 40 })
  const first = await syncAndWait(ctx, tenant.tenantId, tenant.token)
  expect(first.outcome).toBe('succeeded')
})
afterAll(async () => env.close())

type Version = { id: string; number: number; content_hash: string; run_id: string; changed_by: unknown }
type Change = {
  id: string
  item_id: string
  kind: string
  version_id: string | null
  previous_version_id: string | null
  run_id: string
  display_name: string
  policy_type: string
}
type Diff = {
  from: Version | null
  to: Version | null
  changes: { path: string; label: string; kind: string; before: unknown; after: unknown }[]
}

async function get<T>(url: string, token = tenant.token): Promise<{ status: number; body: T }> {
  const response = await ctx.request({ method: 'GET', url, token, headers: { origin: ORIGIN } })
  return { status: response.statusCode, body: JSON.parse(response.body) as T }
}

const base = () => `/api/tenants/${tenant.tenantId}`

async function counts() {
  const { rows } = await ctx.db.execute<{ versions: number; contents: number; changes: number }>(sql`
    SELECT (SELECT count(*)::int FROM inventory_versions WHERE tenant_id = ${tenant.tenantId}) AS versions,
      (SELECT count(*)::int FROM inventory_contents WHERE tenant_id = ${tenant.tenantId}) AS contents,
      (SELECT count(*)::int FROM inventory_changes WHERE tenant_id = ${tenant.tenantId}) AS changes`)
  return rows[0]!
}

async function itemOf(externalId: string) {
  const [row] = await ctx.db
    .select()
    .from(inventoryItems)
    .where(and(eq(inventoryItems.tenantId, tenant.tenantId), eq(inventoryItems.externalId, externalId)))
  return row!
}

async function allChanges(query = '') {
  const out: Change[] = []
  let cursor: string | null = null
  do {
    const page: { status: number; body: { data: Change[]; next_cursor: string | null } } = await get(
      `${base()}/changes?limit=7${query}${cursor ? `&cursor=${cursor}` : ''}`,
    )
    expect(page.status).toBe(200)
    out.push(...page.body.data)
    cursor = page.body.next_cursor
  } while (cursor)
  return out
}

describe('versions and the change history', () => {
  it('the first sync stores one version and one created entry per item', async () => {
    const { rows } = await ctx.db.execute<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM inventory_items WHERE tenant_id = ${tenant.tenantId}`,
    )
    const c = await counts()
    expect(c.versions).toBe(rows[0]!.n)
    expect(c.changes).toBe(rows[0]!.n)
    expect(c.contents).toBeLessThanOrEqual(c.versions)
    const created = await allChanges('&kind=created')
    expect(created).toHaveLength(rows[0]!.n)
    expect(created.every((ch) => ch.version_id !== null && ch.previous_version_id === null)).toBe(true)
  })

  it('unchanged syncs add no version, content or change row', async () => {
    const before = await counts()
    for (let i = 0; i < 3; i++)
      expect((await syncAndWait(ctx, tenant.tenantId, tenant.token)).outcome).toBe('succeeded')
    expect(await counts()).toEqual(before)
  })

  it('an update, a creation and a removal produce versions, entries and a readable diff', async () => {
    const truth = await truthByType(env.emulator, tenant.entraTenantId)
    const [updatedId] = truth.deviceCompliancePolicy![0]!.split(' ')
    const [deletedId] = truth.deviceConfiguration![0]!.split(' ')
    const before = await counts()
    await control(env.emulator, 'PATCH', `/tenants/${tenant.entraTenantId}/items/${updatedId}`, {
      description: 'changed in the portal',
      displayName: 'Renamed policy',
    })
    await control(env.emulator, 'DELETE', `/tenants/${tenant.entraTenantId}/items/${deletedId}`)
    const created = await control<{ id: string }>(env.emulator, 'POST', `/tenants/${tenant.entraTenantId}/items`, {
      type: 'deviceConfiguration',
      displayName: 'Brand new profile',
    })
    const run = await syncAndWait(ctx, tenant.tenantId, tenant.token)
    expect(run.outcome).toBe('succeeded')

    const after = await counts()
    expect(after.versions - before.versions).toBe(2) // the update and the creation; a removal adds no version
    expect(after.changes - before.changes).toBe(3)
    const entries = await allChanges(`&since=${encodeURIComponent(run.createdAt.toISOString())}`)
    expect(entries.map((e) => e.kind).sort()).toEqual(['created', 'removed', 'updated'])
    expect(entries.every((e) => e.run_id === run.id)).toBe(true)

    const updated = await itemOf(updatedId!)
    const entry = entries.find((e) => e.kind === 'updated')!
    expect(entry).toMatchObject({
      item_id: updated.id,
      display_name: 'Renamed policy',
      policy_type: 'deviceCompliancePolicy',
    })
    const versions = await get<{ data: Version[] }>(`${base()}/inventory/items/${updated.id}/versions`)
    expect(versions.body.data.map((v) => v.number)).toEqual([2, 1])
    expect(entry.version_id).toBe(versions.body.data[0]!.id)
    expect(entry.previous_version_id).toBe(versions.body.data[1]!.id)
    expect(versions.body.data[0]!.content_hash).toBe(updated.contentHash)

    const diff = await get<Diff>(`${base()}/inventory/items/${updated.id}/diff`)
    expect(diff.status).toBe(200)
    expect(diff.body.from!.number).toBe(1)
    expect(diff.body.to!.number).toBe(2)
    const byPath = Object.fromEntries(diff.body.changes.map((c) => [c.path, c]))
    expect(byPath.displayName).toMatchObject({ label: 'Display name', kind: 'changed', after: 'Renamed policy' })
    expect(byPath.description).toMatchObject({ label: 'Description', after: 'changed in the portal' })
    // Graph also counts the object's `version` up on every edit: a true change, shown as such.
    expect(diff.body.changes.filter((c) => c.path !== 'version')).toHaveLength(2)

    // One version as JSON: the content as it was.
    const v1 = await get<Version & { payload: Record<string, unknown> }>(
      `${base()}/inventory/items/${updated.id}/versions/${versions.body.data[1]!.id}`,
    )
    expect(v1.status).toBe(200)
    expect(v1.body.payload.displayName).not.toBe('Renamed policy')

    const removed = await itemOf(deletedId!)
    const removedEntry = entries.find((e) => e.kind === 'removed')!
    expect(removedEntry.item_id).toBe(removed.id)
    // The removed item keeps its versions.
    expect((await get<{ data: Version[] }>(`${base()}/inventory/items/${removed.id}/versions`)).body.data).toHaveLength(
      1,
    )
    expect(entries.find((e) => e.kind === 'created')!.item_id).toBe((await itemOf(created.body.id)).id)
  })

  it('a returning item is restored and continues its numbering; identical content is stored once', async () => {
    const [item] = await ctx.db
      .select()
      .from(inventoryItems)
      .where(and(eq(inventoryItems.tenantId, tenant.tenantId), eq(inventoryItems.policyType, 'assignmentFilter')))
      .limit(1)
    // As if the last sync had not seen it: removed, with other content.
    await ctx.db
      .update(inventoryItems)
      .set({ removedAt: new Date(), contentHash: 'stale' })
      .where(eq(inventoryItems.id, item!.id))
    const before = await counts()
    const run = await syncAndWait(ctx, tenant.tenantId, tenant.token)
    const entries = await allChanges(`&item_id=${item!.id}`)
    expect(entries[0]).toMatchObject({ kind: 'restored', run_id: run.id, previous_version_id: null })
    // Same content as its last version: no new version, the entry points at the existing one.
    expect((await counts()).versions).toBe(before.versions)
    const versions = await get<{ data: Version[] }>(`${base()}/inventory/items/${item!.id}/versions`)
    expect(entries[0]!.version_id).toBe(versions.body.data[0]!.id)
  })

  it('filters and pages the change history, and refuses bad input naming the field', async () => {
    const all = await allChanges()
    const ids = all.map((c) => c.id)
    expect(new Set(ids).size).toBe(ids.length)
    const compliance = await allChanges('&type=deviceCompliancePolicy')
    expect(compliance.length).toBeGreaterThan(0)
    expect(compliance.every((c) => c.policy_type === 'deviceCompliancePolicy')).toBe(true)
    expect((await allChanges('&kind=removed')).every((c) => c.kind === 'removed')).toBe(true)
    expect(await allChanges(`&until=2000-01-01T00:00:00Z`)).toEqual([])

    const bad = await get<{ error: { code: string; message: string } }>(`${base()}/changes?kind=deleted`)
    expect(bad.status).toBe(422)
    expect(JSON.stringify(bad.body)).toContain('kind')
    const badDate = await get<{ error: { code: string } }>(`${base()}/changes?since=yesterday`)
    expect(badDate.status).toBe(422)
    expect(JSON.stringify(badDate.body)).toContain('since')
    expect((await get(`${base()}/changes?item_id=nope`)).status).toBe(422)
    expect((await get(`${base()}/changes?cursor=garbage`)).status).toBe(422)
  })

  it('answers 404 for another tenant, an unknown version and an unknown diff version', async () => {
    const [item] = await ctx.db
      .select()
      .from(inventoryItems)
      .where(eq(inventoryItems.tenantId, tenant.tenantId))
      .limit(1)
    const other = await connectTenant(ctx, env.emulator, { policies: 5 })
    expect((await get(`${base()}/changes`, other.token)).status).toBe(404)
    expect((await get(`/api/tenants/${other.tenantId}/inventory/items/${item!.id}/versions`, other.token)).status).toBe(
      404,
    )
    expect((await get(`${base()}/inventory/items/${item!.id}/versions/not-a-uuid`)).status).toBe(404)
    expect((await get(`${base()}/inventory/items/${item!.id}/diff?from=1&to=99`)).status).toBe(404)
    expect((await get(`${base()}/inventory/items/${item!.id}/diff?from=x`)).status).toBe(422)
  })
})

describe('readable diffs after emulator changes', () => {
  const patch = (id: string, body: Record<string, unknown>) =>
    control(env.emulator, 'PATCH', `/tenants/${tenant.entraTenantId}/items/${id}`, body)
  const sync = async () => {
    const run = await syncAndWait(ctx, tenant.tenantId, tenant.token)
    expect(run.outcome).toBe('succeeded')
    return run
  }
  const latestDiff = async (itemId: string) => (await get<Diff>(`${base()}/inventory/items/${itemId}/diff`)).body

  it('names settings catalog settings and choice values by their definitions', async () => {
    const [policy] = await ctx.db
      .select()
      .from(inventoryItems)
      .where(
        and(
          eq(inventoryItems.tenantId, tenant.tenantId),
          eq(inventoryItems.policyType, 'settingsCatalogPolicy'),
          sql`jsonb_array_length(${inventoryItems.payload}->'settings') >= 3`,
        ),
      )
      .limit(1)
    const settings = policy!.payload.settings as { id: string; settingInstance: Record<string, unknown> }[]
    // The stored payload carries no definitions (they are not content), and the definitions were stored.
    expect(JSON.stringify(settings)).not.toContain('settingDefinitions')
    const choice = settings.find((s) => s.settingInstance.choiceSettingValue)!
    const simple = settings.find((s) => s.settingInstance.simpleSettingValue)!
    const value = (choice.settingInstance.choiceSettingValue as { value: string }).value
    const flipped = value.endsWith('_1') ? value.replace(/_1$/, '_0') : value.replace(/_0$/, '_1')
    const defId = choice.settingInstance.settingDefinitionId as string
    const removedDef = simple.settingInstance.settingDefinitionId as string
    const next = [
      ...settings.filter((s) => s !== choice && s !== simple),
      {
        ...choice,
        settingInstance: { ...choice.settingInstance, choiceSettingValue: { value: flipped, children: [] } },
      },
      {
        id: '999',
        settingInstance: {
          '@odata.type': '#microsoft.graph.deviceManagementConfigurationSimpleSettingInstance',
          settingDefinitionId: 'device_vendor_msft_policy_config_value_500',
          simpleSettingValue: {
            '@odata.type': '#microsoft.graph.deviceManagementConfigurationIntegerSettingValue',
            value: 42,
          },
        },
      },
    ]
    expect((await patch(policy!.externalId, { children: { settings: next } })).status).toBe(200)
    await sync()
    const diff = await latestDiff(policy!.id)
    const byPath = Object.fromEntries(diff.changes.map((c) => [c.path, c]))
    const index = Number(/_(\d+)$/.exec(defId)![1])
    expect(byPath[`settings/${defId}`]).toMatchObject({
      kind: 'changed',
      before: value.endsWith('_1') ? 'Allowed' : 'Not allowed',
      after: value.endsWith('_1') ? 'Not allowed' : 'Allowed',
    })
    expect(byPath[`settings/${defId}`]!.label).toMatch(/^Allow|^Check|^Disable|^Enable|^Block/)
    expect(index).toBeGreaterThanOrEqual(0)
    expect(byPath[`settings/${removedDef}`]).toMatchObject({ kind: 'removed', after: null })
    expect(byPath['settings/device_vendor_msft_policy_config_value_500']).toMatchObject({
      kind: 'added',
      label: 'Signature update interval (84)',
      after: 42,
    })
  })

  it('reordered settings and a volatile-only change produce no version', async () => {
    const [policy] = await ctx.db
      .select()
      .from(inventoryItems)
      .where(
        and(
          eq(inventoryItems.tenantId, tenant.tenantId),
          eq(inventoryItems.policyType, 'settingsCatalogPolicy'),
          sql`jsonb_array_length(${inventoryItems.payload}->'settings') >= 2`,
        ),
      )
      .limit(1)
    const before = await counts()
    const settings = [...(policy!.payload.settings as unknown[])].reverse()
    expect((await patch(policy!.externalId, { children: { settings } })).status).toBe(200)
    // A patch of nothing still bumps lastModifiedDateTime.
    expect((await patch(policy!.externalId, {})).status).toBe(200)
    await sync()
    expect((await counts()).versions).toBe(before.versions)
  })

  it('names assignments by group and filter, and scope tags by name', async () => {
    const [policy] = await ctx.db
      .select()
      .from(inventoryItems)
      .where(
        and(
          eq(inventoryItems.tenantId, tenant.tenantId),
          eq(inventoryItems.policyType, 'deviceCompliancePolicy'),
          sql`${inventoryItems.removedAt} IS NULL`,
        ),
      )
      .limit(1)
    const created = await control<{ id: string }>(env.emulator, 'POST', `/tenants/${tenant.entraTenantId}/items`, {
      type: 'roleScopeTag',
      displayName: 'Berlin office',
    })
    expect(created.status).toBe(201)
    await sync()
    const [group] = await ctx.db
      .select()
      .from(inventoryItems)
      .where(and(eq(inventoryItems.tenantId, tenant.tenantId), eq(inventoryItems.policyType, 'group')))
      .limit(1)
    const [filter] = await ctx.db
      .select()
      .from(inventoryItems)
      .where(and(eq(inventoryItems.tenantId, tenant.tenantId), eq(inventoryItems.policyType, 'assignmentFilter')))
      .limit(1)
    const tag = await itemOf(created.body.id)
    // The group id in upper case: ids Graph returns in another form are the same id.
    const assignment = {
      id: `${policy!.externalId}_new`,
      target: {
        '@odata.type': '#microsoft.graph.groupAssignmentTarget',
        groupId: group!.externalId.toUpperCase(),
        deviceAndAppManagementAssignmentFilterId: filter!.externalId,
        deviceAndAppManagementAssignmentFilterType: 'include',
      },
    }
    expect(
      (
        await patch(policy!.externalId, {
          assignments: [...policy!.assignments, assignment],
          roleScopeTagIds: ['0', tag.externalId],
        })
      ).status,
    ).toBe(200)
    await sync()
    const diff = await latestDiff(policy!.id)
    const labels = diff.changes.map((c) => `${c.kind} ${c.label}`)
    const added = diff.changes.find((c) => c.label === `Assignment: Include group ${group!.displayName}`)
    expect(added).toMatchObject({ kind: 'added', after: `include filter ${filter!.displayName}` })
    expect(labels).toContain('added Scope tag: Berlin office')
    expect(tag.displayName).toBe('Berlin office')
  })

  it('a renamed group: a version and an entry after a full sync and after a quick one, and assignments named by its new name', async () => {
    const groups = await ctx.db
      .select()
      .from(inventoryItems)
      .where(
        and(
          eq(inventoryItems.tenantId, tenant.tenantId),
          eq(inventoryItems.policyType, 'group'),
          sql`${inventoryItems.removedAt} IS NULL`,
        ),
      )
      .limit(2)
    expect(groups).toHaveLength(2)
    for (const [n, mode] of (['full', 'quick'] as const).entries()) {
      const group = groups[n]!
      const renamed = `SG-Renamed-${mode}`
      expect((await patch(group.externalId, { displayName: renamed })).status).toBe(200)
      const run = await syncAndWait(ctx, tenant.tenantId, tenant.token, { mode })
      expect(run.outcome, JSON.stringify(run.failures)).toBe('succeeded')
      const entries = await allChanges(`&item_id=${group.id}&kind=updated`)
      expect(entries).toHaveLength(1)
      expect(entries[0]).toMatchObject({ run_id: run.id, display_name: renamed, policy_type: 'group' })
      const diff = await latestDiff(group.id)
      expect(diff.changes).toEqual([
        { path: 'displayName', label: 'Display name', kind: 'changed', before: group.displayName, after: renamed },
      ])
    }
    // A policy assigned to the group renamed last names it so in its diffs (version 1 alone: everything it holds).
    const { rows } = await ctx.db.execute<{ id: string }>(sql`
      SELECT r.item_id AS id FROM inventory_references r WHERE r.tenant_id = ${tenant.tenantId} AND r.kind = 'group' AND r.target_external_id = ${groups[1]!.externalId} LIMIT 1`)
    const { body } = await get<Diff>(`${base()}/inventory/items/${rows[0]!.id}/diff?to=1`)
    expect(body.changes.some((c) => c.label.includes('SG-Renamed-quick'))).toBe(true)
  })
})

describe('who changed it, from the audit log', () => {
  it('attributes a version and its change entry to the user or app that made the change', async () => {
    const policies = await ctx.db
      .select()
      .from(inventoryItems)
      .where(
        and(
          eq(inventoryItems.tenantId, tenant.tenantId),
          eq(inventoryItems.policyType, 'deviceConfiguration'),
          sql`${inventoryItems.removedAt} IS NULL`,
        ),
      )
      .limit(2)
    expect(policies).toHaveLength(2)
    const [byUser, byApp] = policies as [(typeof policies)[number], (typeof policies)[number]]
    await control(env.emulator, 'PATCH', `/tenants/${tenant.entraTenantId}/items/${byUser.externalId}`, {
      description: 'by alex',
      actor: { user_principal_name: 'alex@contoso.com' },
    })
    await control(env.emulator, 'PATCH', `/tenants/${tenant.entraTenantId}/items/${byApp.externalId}`, {
      description: 'by automation',
      actor: { app_name: 'Nightly automation' },
    })
    const run = await syncAndWait(ctx, tenant.tenantId, tenant.token)
    expect(run.outcome).toBe('succeeded')
    const [userVersion] = (await get<{ data: Version[] }>(`${base()}/inventory/items/${byUser.id}/versions`)).body.data
    expect(userVersion!.changed_by).toMatchObject({
      user_principal_name: 'alex@contoso.com',
      activity: expect.stringMatching(/Patch/) as unknown,
    })
    const [appVersion] = (await get<{ data: Version[] }>(`${base()}/inventory/items/${byApp.id}/versions`)).body.data
    expect(appVersion!.changed_by).toMatchObject({ app_name: 'Nightly automation' })
    const entries = await allChanges(`&item_id=${byUser.id}&kind=updated`)
    expect(entries[0]).toMatchObject({ run_id: run.id, changed_by: { user_principal_name: 'alex@contoso.com' } })
  })

  it('without the audit permission: correct versions without attribution, and one warning naming the permission', async () => {
    const { GRAPH_PERMISSIONS } = await import('../../src/graph/policy-types.ts')
    const [policy] = await ctx.db
      .select()
      .from(inventoryItems)
      .where(
        and(
          eq(inventoryItems.tenantId, tenant.tenantId),
          eq(inventoryItems.policyType, 'deviceConfiguration'),
          sql`${inventoryItems.removedAt} IS NULL`,
        ),
      )
      .limit(1)
    await control(env.emulator, 'PATCH', `/tenants/${tenant.entraTenantId}/items/${policy!.externalId}`, {
      description: 'unattributed',
      actor: { user_principal_name: 'sam@contoso.com' },
    })
    // Every permission but the audit log's: the types it gates are skipped as before; here only the audit log matters.
    await control(
      env.emulator,
      'PUT',
      `/tenants/${tenant.entraTenantId}/permissions`,
      [...GRAPH_PERMISSIONS, 'DeviceManagementConfiguration.Read.All'].filter(
        (p) => p !== 'DeviceManagementApps.Read.All',
      ),
    )
    try {
      const run = await syncAndWait(ctx, tenant.tenantId, tenant.token, {
        policy_types: ['deviceConfiguration'],
        include_foundations: false,
        include_dependencies: false,
      })
      expect(run.outcome).toBe('succeeded')
      const warnings = run.failures.filter((f) => f.severity === 'warning')
      expect(warnings).toHaveLength(1)
      expect(warnings[0]!.message).toContain('DeviceManagementApps.Read.All')
      expect(run.summaryCounts.warnings).toBe(1)
      const [latest] = (await get<{ data: Version[] }>(`${base()}/inventory/items/${policy!.id}/versions`)).body.data
      expect(latest!.run_id).toBe(run.id)
      expect(latest!.changed_by).toBeNull()
      expect((await itemOf(policy!.externalId)).payload.description).toBe('unattributed')
    } finally {
      await control(env.emulator, 'PUT', `/tenants/${tenant.entraTenantId}/permissions`, GRAPH_PERMISSIONS)
    }
  })
})

describe('singletons (issue 17)', () => {
  it('keep one item each across syncs: a change is a version with a readable diff, a 404 removes it, configuring it again brings it back', async () => {
    const stored = await ctx.db
      .select()
      .from(inventoryItems)
      .where(
        and(eq(inventoryItems.tenantId, tenant.tenantId), eq(inventoryItems.externalId, 'deviceManagementSettings')),
      )
    expect(stored).toHaveLength(1)
    expect(stored[0]).toMatchObject({
      policyType: 'deviceManagementSettings',
      displayName: 'Tenant device management settings',
      removedAt: null,
    })
    const apns = await itemOf('applePushNotificationCertificate')
    expect(apns.displayName).toMatch(/@contoso\.com$/)

    await control(env.emulator, 'PATCH', `/tenants/${tenant.entraTenantId}/items/deviceManagementSettings`, {
      deviceComplianceCheckinThresholdDays: 121,
    })
    await control(env.emulator, 'DELETE', `/tenants/${tenant.entraTenantId}/items/applePushNotificationCertificate`)
    const run = await syncAndWait(ctx, tenant.tenantId, tenant.token)
    expect(run.outcome, JSON.stringify(run.failures)).toBe('succeeded')
    expect(run.units.find((u) => u.key === 'deviceManagementSettings')!.counts).toMatchObject({
      updated: 1,
      removed: 0,
    })
    expect(run.units.find((u) => u.key === 'applePushNotificationCertificate')!.counts).toMatchObject({ removed: 1 })

    const settings = await itemOf('deviceManagementSettings')
    const versions = await get<{ data: Version[] }>(`${base()}/inventory/items/${settings.id}/versions`)
    expect(versions.body.data.map((v) => v.number)).toEqual([2, 1])
    const diff = await get<Diff>(`${base()}/inventory/items/${settings.id}/diff`)
    expect(diff.body.changes).toEqual([
      expect.objectContaining({ path: 'deviceComplianceCheckinThresholdDays', kind: 'changed', after: 121 }),
    ])
    expect((await itemOf('applePushNotificationCertificate')).removedAt).not.toBeNull()
    const entries = await allChanges(`&since=${encodeURIComponent(run.createdAt.toISOString())}`)
    expect(entries.filter((e) => e.policy_type === 'applePushNotificationCertificate').map((e) => e.kind)).toEqual([
      'removed',
    ])

    expect(
      (
        await control(env.emulator, 'POST', `/tenants/${tenant.entraTenantId}/items`, {
          type: 'applePushNotificationCertificate',
          appleIdentifier: 'renewed@contoso.com',
        })
      ).status,
    ).toBe(201)
    const back = await syncAndWait(ctx, tenant.tenantId, tenant.token)
    expect(back.outcome).toBe('succeeded')
    const renewed = await itemOf('applePushNotificationCertificate')
    expect(renewed).toMatchObject({ id: apns.id, removedAt: null, displayName: 'renewed@contoso.com' })
    expect(renewed.payload).toMatchObject({
      id: 'applePushNotificationCertificate',
      appleIdentifier: 'renewed@contoso.com',
    })
  })
})
