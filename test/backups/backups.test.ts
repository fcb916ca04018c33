import { and, count, eq, inArray, isNull } from 'drizzle-orm'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { auditEvents, backupSets, inventoryContents, inventoryItems, operationRunItems } from '../../src/db/schema.ts'
import { GRAPH_PERMISSIONS, POLICY_TYPES } from '../../src/graph/policy-types.ts'
import { errorOf, ORIGIN, type TestContext } from '../harness.ts'
import {
  connectTenant,
  control,
  inventoryContext,
  startSync,
  storedByType,
  syncAndWait,
  truthByType,
  waitForCompletion,
} from '../inventory/helpers.ts'
import {
  backupAndWait,
  setByType,
  setContents,
  setHashes,
  startBackup,
  truthContents,
  type BackupBody,
} from './helpers.ts'

let env: Awaited<ReturnType<typeof inventoryContext>>
let ctx: TestContext
let tenant: Awaited<ReturnType<typeof connectTenant>>

beforeAll(async () => {
  env = await inventoryContext()
  ctx = env.ctx
  tenant = await connectTenant(ctx, env.emulator, { policies: 60 })
})
afterAll(async () => env.close())
afterEach(async () => {
  await control(env.emulator, 'PUT', '/faults', {})
})

const SCRIPT_TYPES = POLICY_TYPES.filter((e) => e.permission === 'DeviceManagementScripts.Read.All').map((e) => e.key)

describe('backup sets', () => {
  it("backs up the emulated tenant: every type's objects with their content as Graph has them (ground truth with content), equal to the inventory's, a manifest and per-item results", async () => {
    await syncAndWait(ctx, tenant.tenantId, tenant.token)
    const { run, backup } = await backupAndWait(ctx, tenant.tenantId, tenant.token, { name: 'First' })
    expect(run.outcome).toBe('succeeded')
    expect(backup).toMatchObject({
      name: 'First',
      status: 'complete',
      origin: 'created',
      protected: false,
      missing: [],
    })
    const truth = await truthByType(env.emulator, tenant.entraTenantId)
    expect(await setByType(ctx, backup.id)).toEqual(await storedByType(ctx, tenant.tenantId))
    // Policies and foundations are the ground truth's; groups are those the assignments reference.
    const set = await setByType(ctx, backup.id)
    for (const [type, objects] of Object.entries(truth)) if (type !== 'group') expect(set[type], type).toEqual(objects)
    // Content, not only presence: every backed-up object (groups too) equals the emulator's full
    // read of it, normalised as the product normalises a read.
    const truthContent = await truthContents(env.emulator, tenant.entraTenantId)
    const setContent = await setContents(ctx, backup.id)
    expect(setContent.size).toBe(backup.item_count)
    const types = new Set<string>()
    for (const [key, content] of setContent) {
      expect(truthContent.has(key), `${key} is in the ground truth`).toBe(true)
      expect(content, key).toEqual(truthContent.get(key))
      types.add(key.split('/')[0]!)
    }
    // Every type of the ground truth was compared.
    expect([...types].sort()).toEqual(Object.keys(truth).sort())
    expect(backup.item_count).toBe(Object.values(set).flat().length)
    expect(backup.counts_by_type).toEqual(
      Object.fromEntries(
        Object.entries(set)
          .map(([t, l]) => [t, l.length])
          .sort(([a], [b]) => String(a).localeCompare(String(b))),
      ),
    )
    // The same normalisation as the inventory: every object hashes as its inventory row.
    const items = await ctx.db
      .select()
      .from(inventoryItems)
      .where(and(eq(inventoryItems.tenantId, tenant.tenantId), isNull(inventoryItems.removedAt)))
    const hashes = await setHashes(ctx, backup.id)
    for (const item of items)
      expect(hashes[`${item.policyType}/${item.externalId}`]).toBe(`${item.displayName} ${item.contentHash}`)
    const [results] = await ctx.db
      .select({ n: count() })
      .from(operationRunItems)
      .where(and(eq(operationRunItems.runId, run.id), eq(operationRunItems.status, 'succeeded')))
    expect(results!.n).toBe(backup.item_count)
    const audit = await ctx.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.tenantId, tenant.tenantId), eq(auditEvents.subjectId, run.id)))
    expect(audit.length).toBeGreaterThan(0)
  })

  it('a set of an unchanged tenant adds no content rows', async () => {
    const contents = async () =>
      (
        await ctx.db
          .select({ n: count() })
          .from(inventoryContents)
          .where(eq(inventoryContents.tenantId, tenant.tenantId))
      )[0]!.n
    const before = await contents()
    const { backup } = await backupAndWait(ctx, tenant.tenantId, tenant.token)
    expect(backup.status).toBe('complete')
    expect(backup.name).toMatch(/^Backup \d{4}-\d\d-\d\d \d\d:\d\d UTC$/)
    expect(await contents()).toBe(before)
  })

  it('runs safely beside an inventory sync of the same tenant: both complete, the set is whole', async () => {
    await control(env.emulator, 'PUT', '/faults', { latency_ms: 5 })
    const sync = await startSync(ctx, tenant.tenantId, tenant.token)
    const started = await startBackup(ctx, tenant.tenantId, tenant.token)
    const [syncRun, backupRun] = await Promise.all([
      waitForCompletion(ctx, sync.run.id),
      waitForCompletion(ctx, started.run.id),
    ])
    expect(syncRun.outcome).toBe('succeeded')
    expect(backupRun.outcome).toBe('succeeded')
    expect(await setByType(ctx, started.backup.id)).toEqual(await storedByType(ctx, tenant.tenantId))
  })

  it('a type without permission is a partial success naming it, listed missing in the manifest', async () => {
    await control(
      env.emulator,
      'PUT',
      `/tenants/${tenant.entraTenantId}/permissions`,
      GRAPH_PERMISSIONS.filter((p) => p !== 'DeviceManagementScripts.Read.All'),
    )
    try {
      const { run, backup } = await backupAndWait(ctx, tenant.tenantId, tenant.token)
      expect(run.outcome).toBe('partially_succeeded')
      expect(backup.status).toBe('partial')
      expect(backup.missing.map((m) => m.type).sort()).toEqual([...SCRIPT_TYPES].sort())
      expect(backup.missing.every((m) => m.code === 'missing_permission')).toBe(true)
      const skipped = await ctx.db
        .select()
        .from(operationRunItems)
        .where(and(eq(operationRunItems.runId, run.id), eq(operationRunItems.status, 'skipped')))
      expect(skipped.map((s) => s.targetType).sort()).toEqual([...SCRIPT_TYPES].sort())
      expect(run.failures.map((f) => f.subject).sort()).toEqual([...SCRIPT_TYPES].sort())
      for (const type of SCRIPT_TYPES) expect(backup.counts_by_type[type]).toBeUndefined()
    } finally {
      await control(env.emulator, 'PUT', `/tenants/${tenant.entraTenantId}/permissions`, GRAPH_PERMISSIONS)
    }
  })

  it('an object whose reads fail is a failed per-item result, missing in the manifest: a partial success, never a silent gap', async () => {
    const type = POLICY_TYPES.find((e) => e.assignments === 'subresource' && e.kind === 'policy')!.key
    const truth = (await truthByType(env.emulator, tenant.entraTenantId))[type]!
    const [brokenId] = truth[0]!.split(' ')
    await control(env.emulator, 'PUT', '/faults', { unavailable_paths: [`${brokenId}/assignments`] })
    const { run, backup } = await backupAndWait(ctx, tenant.tenantId, tenant.token, {
      selection: { policy_types: [type], include_foundations: false, include_dependencies: false },
    })
    expect(run.outcome).toBe('partially_succeeded')
    expect(backup.status).toBe('partial')
    expect(backup.missing).toEqual([expect.objectContaining({ type, id: brokenId, code: 'graph_unavailable' })])
    const failed = await ctx.db
      .select()
      .from(operationRunItems)
      .where(and(eq(operationRunItems.runId, run.id), eq(operationRunItems.status, 'failed')))
    expect(failed.map((f) => f.targetId)).toEqual([brokenId])
    expect(backup.item_count).toBe(truth.length - 1)
    expect((await setByType(ctx, backup.id))[type]).toEqual(truth.slice(1))
  })

  it('backs up individual items picked by inventory id', async () => {
    const picked = await ctx.db
      .select()
      .from(inventoryItems)
      .where(and(eq(inventoryItems.tenantId, tenant.tenantId), eq(inventoryItems.policyType, 'deviceCompliancePolicy')))
      .limit(2)
    const { backup } = await backupAndWait(ctx, tenant.tenantId, tenant.token, {
      item_ids: picked.map((p) => p.id),
    })
    expect(await setByType(ctx, backup.id)).toEqual({
      deviceCompliancePolicy: picked.map((p) => `${p.externalId} ${p.displayName}`).sort(),
    })
  })

  it('backs up singletons picked by inventory id, and names one Graph no longer has as missing', async () => {
    const picked = await ctx.db
      .select()
      .from(inventoryItems)
      .where(
        and(
          eq(inventoryItems.tenantId, tenant.tenantId),
          inArray(inventoryItems.policyType, [
            'deviceManagementSettings',
            'androidManagedStoreAccountEnterpriseSettings',
          ]),
        ),
      )
    expect(picked).toHaveLength(2)
    const { backup } = await backupAndWait(ctx, tenant.tenantId, tenant.token, { item_ids: picked.map((p) => p.id) })
    expect(backup.missing).toEqual([])
    expect(await setByType(ctx, backup.id)).toEqual(
      Object.fromEntries(picked.map((p) => [p.policyType, [`${p.externalId} ${p.displayName}`]])),
    )
    const hashes = await setHashes(ctx, backup.id)
    for (const p of picked) expect(hashes[`${p.policyType}/${p.externalId}`]).toBe(`${p.displayName} ${p.contentHash}`)
    await control(
      env.emulator,
      'DELETE',
      `/tenants/${tenant.entraTenantId}/items/androidManagedStoreAccountEnterpriseSettings`,
    )
    try {
      const { backup: partial } = await backupAndWait(ctx, tenant.tenantId, tenant.token, {
        item_ids: picked.map((p) => p.id),
      })
      expect(partial.status).toBe('partial')
      expect(partial.missing).toEqual([
        expect.objectContaining({
          type: 'androidManagedStoreAccountEnterpriseSettings',
          id: 'androidManagedStoreAccountEnterpriseSettings',
          code: 'not_found',
        }),
      ])
      expect(Object.keys(await setByType(ctx, partial.id))).toEqual(['deviceManagementSettings'])
    } finally {
      await control(env.emulator, 'POST', `/tenants/${tenant.entraTenantId}/items`, {
        type: 'androidManagedStoreAccountEnterpriseSettings',
      })
    }
  })

  it('renames, labels and protects a set; a protected set cannot be deleted (409)', async () => {
    const { backup } = await backupAndWait(ctx, tenant.tenantId, tenant.token, {
      selection: { policy_types: ['deviceConfiguration'], include_foundations: false, include_dependencies: false },
    })
    const patch = (payload: Record<string, unknown>) =>
      ctx.request({
        method: 'PATCH',
        url: `/api/tenants/${tenant.tenantId}/backups/${backup.id}`,
        token: tenant.token,
        headers: { origin: ORIGIN },
        payload,
      })
    const changed = await patch({ name: 'Before the change', labels: ['q4', 'audit', 'q4'], protected: true })
    expect(changed.statusCode).toBe(200)
    expect(JSON.parse(changed.body)).toMatchObject({
      name: 'Before the change',
      labels: ['audit', 'q4'],
      protected: true,
    })
    expect((await patch({ name: '' })).statusCode).toBe(422)
    const del = () =>
      ctx.request({
        method: 'DELETE',
        url: `/api/tenants/${tenant.tenantId}/backups/${backup.id}`,
        token: tenant.token,
        headers: { origin: ORIGIN },
      })
    const refused = await del()
    expect(refused.statusCode).toBe(409)
    expect(errorOf(refused.body).code).toBe('conflict')
    expect((await patch({ protected: false })).statusCode).toBe(200)
    expect((await del()).statusCode).toBe(204)
    expect(
      (
        await ctx.request({
          method: 'GET',
          url: `/api/tenants/${tenant.tenantId}/backups/${backup.id}`,
          token: tenant.token,
        })
      ).statusCode,
    ).toBe(404)
  })

  it('lists sets newest first with keyset pagination, and a set’s contents by type with search', async () => {
    const list = await ctx.request({
      method: 'GET',
      url: `/api/tenants/${tenant.tenantId}/backups?limit=2`,
      token: tenant.token,
    })
    const body = JSON.parse(list.body) as { data: BackupBody[]; next_cursor: string | null }
    expect(body.data).toHaveLength(2)
    expect(body.next_cursor).not.toBeNull()
    const next = JSON.parse(
      (
        await ctx.request({
          method: 'GET',
          url: `/api/tenants/${tenant.tenantId}/backups?limit=2&cursor=${encodeURIComponent(body.next_cursor!)}`,
          token: tenant.token,
        })
      ).body,
    ) as { data: BackupBody[] }
    expect(next.data.map((b) => b.id)).not.toContain(body.data[0]!.id)
    const first = (await ctx.db.select().from(backupSets).where(eq(backupSets.name, 'First')))[0]!
    const [item] = await ctx.db
      .select()
      .from(inventoryItems)
      .where(and(eq(inventoryItems.tenantId, tenant.tenantId), eq(inventoryItems.policyType, 'deviceConfiguration')))
      .limit(1)
    const search = await ctx.request({
      method: 'GET',
      url: `/api/tenants/${tenant.tenantId}/backups/${first.id}/items?type=deviceConfiguration&q=${encodeURIComponent(item!.displayName)}`,
      token: tenant.token,
    })
    const found = JSON.parse(search.body) as { data: { id: string; type: string }[] }
    expect(found.data.map((d) => d.id)).toContain(item!.externalId)
    expect(found.data.every((d) => d.type === 'deviceConfiguration')).toBe(true)
    const detail = await ctx.request({
      method: 'GET',
      url: `/api/tenants/${tenant.tenantId}/backups/${first.id}/item?type=deviceConfiguration&id=${encodeURIComponent(item!.externalId)}`,
      token: tenant.token,
    })
    expect(detail.statusCode).toBe(200)
    expect(JSON.parse(detail.body)).toMatchObject({
      id: item!.externalId,
      sha256: item!.contentHash,
      changed: false,
      current: { item_id: item!.id, sha256: item!.contentHash },
    })
  })

  it("an object's content is diffed against the tenant's current version", async () => {
    const first = (await ctx.db.select().from(backupSets).where(eq(backupSets.name, 'First')))[0]!
    const [filter] = await ctx.db
      .select()
      .from(inventoryItems)
      .where(and(eq(inventoryItems.tenantId, tenant.tenantId), eq(inventoryItems.policyType, 'assignmentFilter')))
      .limit(1)
    expect(
      (
        await control(env.emulator, 'PATCH', `/tenants/${tenant.entraTenantId}/items/${filter!.externalId}`, {
          description: 'Changed after the backup',
        })
      ).status,
    ).toBe(200)
    await syncAndWait(ctx, tenant.tenantId, tenant.token)
    const detail = await ctx.request({
      method: 'GET',
      url: `/api/tenants/${tenant.tenantId}/backups/${first.id}/item?type=assignmentFilter&id=${encodeURIComponent(filter!.externalId)}`,
      token: tenant.token,
    })
    const body = JSON.parse(detail.body) as { changed: boolean; changes: { path: string; after: unknown }[] }
    expect(body.changed).toBe(true)
    expect(body.changes).toContainEqual(expect.objectContaining({ after: 'Changed after the backup' }))
  })

  it('roles: readonly lists but cannot create; an operator can; a foreign tenant’s set is a 404', async () => {
    const readonly = await ctx.factories.userWithToken()
    await ctx.factories.member(tenant.tenantId, readonly.user, 'readonly')
    const operator = await ctx.factories.userWithToken()
    await ctx.factories.member(tenant.tenantId, operator.user, 'operator')
    expect(
      (await ctx.request({ method: 'GET', url: `/api/tenants/${tenant.tenantId}/backups`, token: readonly.token }))
        .statusCode,
    ).toBe(200)
    const refused = await ctx.request({
      method: 'POST',
      url: `/api/tenants/${tenant.tenantId}/backups`,
      token: readonly.token,
      headers: { origin: ORIGIN },
    })
    expect(refused.statusCode).toBe(403)
    const started = await startBackup(ctx, tenant.tenantId, operator.token, {
      selection: { policy_types: ['deviceConfiguration'], include_foundations: false, include_dependencies: false },
    })
    await waitForCompletion(ctx, started.run.id)
    // Export and import are backups.manage too (the role table): readonly may not.
    expect(
      (
        await ctx.request({
          method: 'GET',
          url: `/api/tenants/${tenant.tenantId}/backups/${started.backup.id}/export`,
          token: readonly.token,
        })
      ).statusCode,
    ).toBe(403)
    expect(
      (
        await ctx.request({
          method: 'GET',
          url: `/api/tenants/${tenant.tenantId}/backups/${started.backup.id}/export`,
          token: operator.token,
        })
      ).statusCode,
    ).toBe(200)
    const importRefused = await ctx.request({
      method: 'POST',
      url: `/api/tenants/${tenant.tenantId}/backups/import`,
      token: readonly.token,
      headers: { origin: ORIGIN, 'content-type': 'application/zip' },
      payload: Buffer.from('PK'),
    })
    expect(importRefused.statusCode).toBe(403)
    const other = await ctx.factories.tenant()
    const stranger = await ctx.factories.userWithToken()
    await ctx.factories.member(other.id, stranger.user, 'owner')
    expect(
      (
        await ctx.request({
          method: 'GET',
          url: `/api/tenants/${tenant.tenantId}/backups/${started.backup.id}`,
          token: stranger.token,
        })
      ).statusCode,
    ).toBe(404)
    expect(
      (
        await ctx.request({
          method: 'GET',
          url: `/api/tenants/${other.id}/backups/${started.backup.id}`,
          token: stranger.token,
        })
      ).statusCode,
    ).toBe(404)
    expect(
      (
        await ctx.request({
          method: 'GET',
          url: `/api/tenants/${other.id}/backups/${started.backup.id}/export`,
          token: stranger.token,
        })
      ).statusCode,
    ).toBe(404)
  })

  it('bad input is a 422 naming the field', async () => {
    const response = await ctx.request({
      method: 'POST',
      url: `/api/tenants/${tenant.tenantId}/backups`,
      token: tenant.token,
      headers: { origin: ORIGIN },
      payload: { selection: { policy_types: ['nope'] } },
    })
    expect(response.statusCode).toBe(422)
    expect(response.body).toContain('nope')
  })
})
