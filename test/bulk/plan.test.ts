import { and, eq, ilike, isNull } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inventoryItems, operationRuns } from '../../src/db/schema.ts'
import { errorOf, ORIGIN, type TestContext } from '../harness.ts'
import { connectTenant, control, inventoryContext, syncAndWait, waitForCompletion } from '../inventory/helpers.ts'
import {
  addScopeTag,
  assignedTo,
  bulkRequest,
  frozen,
  itemsOfType,
  leastAssignedGroup,
  plan,
  startBulk,
} from './helpers.ts'

/** The bulk API without writes: plans, the frozen selection, validation and roles. */
let env: Awaited<ReturnType<typeof inventoryContext>>
let ctx: TestContext
let tenant: Awaited<ReturnType<typeof connectTenant>>
let group: string
let tag: string

beforeAll(async () => {
  env = await inventoryContext()
  ctx = env.ctx
  tenant = await connectTenant(ctx, env.emulator, { policies: 80 })
  tag = await addScopeTag(env.emulator, tenant.entraTenantId, 'Plan tag')
  await syncAndWait(ctx, tenant.tenantId, tenant.token)
  group = await leastAssignedGroup(ctx, tenant.tenantId)
})
afterAll(async () => env.close())

describe('bulk operations: the plan', () => {
  it('plans an assignment over mixed types: each policy keeps its others, a type without assignments is skipped with the reason', async () => {
    const configs = (await itemsOfType(ctx, tenant.tenantId, 'deviceConfiguration'))
      .filter((i) => !assignedTo(i, group))
      .slice(0, 3)
    const scripts = (await itemsOfType(ctx, tenant.tenantId, 'deviceManagementScript'))
      .filter((i) => !assignedTo(i, group))
      .slice(0, 2)
    const filters = (await itemsOfType(ctx, tenant.tenantId, 'assignmentFilter')).slice(0, 2)
    expect(filters.length).toBeGreaterThan(0)
    const picked = [...configs, ...scripts, ...filters]
    const body = await plan(ctx, tenant.tenantId, tenant.token, {
      action: 'assign',
      params: { group_id: group, intent: 'include' },
      item_ids: picked.map((p) => p.id),
    })
    expect(body).toMatchObject({
      action: 'assign',
      item_count: picked.length,
      counts: { change: configs.length + scripts.length, skip: filters.length },
      items_truncated: false,
    })
    expect(body.skipped_by_reason).toEqual([
      { code: 'unsupported_type', reason: 'Assignment filters have no assignments', count: filters.length },
    ])
    for (const item of body.items.filter((i) => i.action === 'change')) {
      const source = picked.find((p) => p.id === item.id)!
      const n = source.assignments.length
      expect(item.summary).toBe(`Includes the group; keeps ${n} other assignment${n === 1 ? '' : 's'}`)
    }
    // In the inventory list's order.
    expect(body.items.map((i) => i.display_name)).toEqual(
      [...picked]
        .sort((a, b) => (a.displayName < b.displayName ? -1 : a.displayName > b.displayName ? 1 : a.id < b.id ? -1 : 1))
        .map((p) => p.displayName),
    )
  })

  it('previews a rename: each resulting name, and a name that would not change is skipped', async () => {
    const items = (await itemsOfType(ctx, tenant.tenantId, 'deviceCompliancePolicy')).slice(0, 4)
    const body = await plan(ctx, tenant.tenantId, tenant.token, {
      action: 'rename',
      params: { prefix: '[EU] ', find: ' ', replace: '_' },
      item_ids: items.map((i) => i.id),
    })
    for (const item of body.items) {
      const source = items.find((i) => i.id === item.id)!
      expect(item.new_name).toBe(`[EU] ${source.displayName.replaceAll(' ', '_')}`)
    }
  })

  it('counts every item of a filter and lists the first preview_limit', async () => {
    const all = await ctx.db
      .select({ id: inventoryItems.id })
      .from(inventoryItems)
      .where(and(eq(inventoryItems.tenantId, tenant.tenantId), isNull(inventoryItems.removedAt)))
    const body = await plan(ctx, tenant.tenantId, tenant.token, {
      action: 'add_scope_tag',
      params: { scope_tag_id: tag },
      filter: {},
      preview_limit: 10,
    })
    expect(body.item_count).toBe(all.length)
    expect(body.counts.change + body.counts.skip).toBe(all.length)
    expect(body.items).toHaveLength(10)
    expect(body.items_truncated).toBe(true)
    // Entra groups and types without scope tags are skipped, each reason counted.
    expect(body.skipped_by_reason.find((r) => r.reason.startsWith('Entra groups'))?.count).toBeGreaterThan(0)
  })

  it('acts on exactly what the filter matched at start: the selection is frozen with the run', async () => {
    const [sample] = await itemsOfType(ctx, tenant.tenantId, 'deviceConfiguration')
    const q = sample!.displayName.slice(0, 4)
    const matching = await ctx.db
      .select({ id: inventoryItems.id })
      .from(inventoryItems)
      .where(
        and(
          eq(inventoryItems.tenantId, tenant.tenantId),
          isNull(inventoryItems.removedAt),
          eq(inventoryItems.policyType, 'deviceConfiguration'),
          ilike(inventoryItems.displayName, `%${q}%`),
        ),
      )
    const { run } = await startBulk(ctx, tenant.tenantId, tenant.token, {
      action: 'rename',
      params: { suffix: ' (old)' },
      filter: { type: 'deviceConfiguration', q },
    })
    expect(run.type).toBe('bulk.rename')
    const rows = await frozen(ctx, run.id)
    expect(rows.map((r) => r.itemId).sort()).toEqual(matching.map((m) => m.id).sort())
    expect(rows.map((r) => r.position)).toEqual(rows.map((_, i) => i))
    // A matching object that appears later is not acted on by this run.
    await control(env.emulator, 'POST', `/tenants/${tenant.entraTenantId}/items`, {
      type: 'deviceConfiguration',
      displayName: `${q} added later`,
    })
    await waitForCompletion(ctx, run.id)
    await syncAndWait(ctx, tenant.tenantId, tenant.token)
    expect(
      (
        await plan(ctx, tenant.tenantId, tenant.token, {
          action: 'rename',
          params: { suffix: ' (old)' },
          filter: { type: 'deviceConfiguration', q },
        })
      ).item_count,
    ).toBe(matching.length + 1)
    expect((await frozen(ctx, run.id)).map((r) => r.itemId).sort()).toEqual(matching.map((m) => m.id).sort())
    const [row] = await ctx.db.select().from(operationRuns).where(eq(operationRuns.id, run.id))
    expect(row!.context).toMatchObject({
      filter: { type: 'deviceConfiguration', q, category: null },
      item_count: matching.length,
    })
  })

  it('summarises a selection for the action bar: counts by type, and the actions the role and the types allow', async () => {
    const filters = (await itemsOfType(ctx, tenant.tenantId, 'assignmentFilter')).slice(0, 2)
    const select = (token: string, payload: Record<string, unknown>) =>
      ctx.request({
        method: 'POST',
        url: `/api/tenants/${tenant.tenantId}/bulk-operations/selection`,
        token,
        headers: { origin: ORIGIN },
        payload,
      })
    const onlyFilters = JSON.parse((await select(tenant.token, { item_ids: filters.map((f) => f.id) })).body) as {
      item_count: number
      actions: string[]
      types: { policy_type: string; count: number }[]
    }
    expect(onlyFilters).toEqual({
      item_count: filters.length,
      types: [{ policy_type: 'assignmentFilter', label: 'Assignment filters', count: filters.length }],
      actions: ['add_scope_tag', 'remove_scope_tag', 'rename', 'duplicate', 'delete'],
    })
    const all = await ctx.db
      .select({ id: inventoryItems.id })
      .from(inventoryItems)
      .where(and(eq(inventoryItems.tenantId, tenant.tenantId), isNull(inventoryItems.removedAt)))
    const byFilter = JSON.parse((await select(tenant.token, { filter: {} })).body) as {
      item_count: number
      actions: string[]
    }
    expect(byFilter.item_count).toBe(all.length)
    expect(byFilter.actions).toContain('assign')
    const reader = await ctx.factories.userWithToken()
    await ctx.factories.member(tenant.tenantId, reader.user, 'readonly')
    expect(JSON.parse((await select(reader.token, { filter: {} })).body)).toMatchObject({
      item_count: all.length,
      actions: [],
    })
  })

  it('refuses bad input with a 422 naming the field', async () => {
    const [item] = await itemsOfType(ctx, tenant.tenantId, 'deviceConfiguration')
    const cases: [Record<string, unknown>, string][] = [
      [
        { action: 'delete', params: { confirm_count: 2 }, item_ids: [item!.id], dry_run: false },
        'params.confirm_count',
      ],
      [{ action: 'rename', params: { prefix: 'x' }, item_ids: [item!.id], filter: {}, dry_run: true }, 'item_ids'],
      [{ action: 'rename', params: { prefix: 'x' }, dry_run: true }, 'item_ids'],
      [{ action: 'rename', params: { prefix: 'x' }, filter: { type: 'nope' }, dry_run: true }, 'filter.type'],
      [{ action: 'explode', params: {}, item_ids: [item!.id], dry_run: true }, 'action'],
      [{ action: 'assign', params: { group_id: 'g' }, item_ids: [item!.id], dry_run: true }, 'params.intent'],
      [
        {
          action: 'rename',
          params: { prefix: 'x' },
          item_ids: ['01a22c78-52c4-7366-971c-a809758a6e5d'],
          dry_run: true,
        },
        'item_ids',
      ],
      [
        {
          action: 'rename',
          params: { prefix: 'x' },
          filter: { q: 'no item is named like this at all' },
          dry_run: true,
        },
        'filter',
      ],
      [{ action: 'rename', params: { prefix: 'x' }, item_ids: [item!.id] }, 'dry_run'],
    ]
    for (const [payload, field] of cases) {
      const response = await bulkRequest(ctx, tenant.tenantId, tenant.token, payload)
      expect(response.statusCode, JSON.stringify(payload)).toBe(422)
      expect(
        (errorOf(response.body).details as { fields: { field: string }[] }).fields.map((f) => f.field),
        JSON.stringify(payload),
      ).toContain(field)
    }
  })

  it('readonly and operator get 403; another tenant’s items are not found', async () => {
    const [item] = await itemsOfType(ctx, tenant.tenantId, 'deviceConfiguration')
    const payload = { action: 'rename', params: { prefix: 'x' }, item_ids: [item!.id] }
    for (const role of ['readonly', 'operator'] as const) {
      const member = await ctx.factories.userWithToken()
      await ctx.factories.member(tenant.tenantId, member.user, role)
      for (const dry_run of [true, false])
        expect((await bulkRequest(ctx, tenant.tenantId, member.token, { ...payload, dry_run })).statusCode).toBe(403)
    }
    const other = await connectTenant(ctx, env.emulator, { policies: 5 })
    const response = await bulkRequest(ctx, other.tenantId, other.token, { ...payload, dry_run: true })
    expect(response.statusCode).toBe(422)
    expect(response.body).not.toContain(item!.displayName)
    expect((await bulkRequest(ctx, tenant.tenantId, other.token, { ...payload, dry_run: true })).statusCode).toBe(404)
  })
})
