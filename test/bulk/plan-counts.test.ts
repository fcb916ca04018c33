import { and, eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inventoryItems } from '../../src/db/schema.ts'
import { canonicalParams, type BulkAction } from '../../src/modules/bulk/actions.ts'
import { planItem } from '../../src/modules/bulk/plan.ts'
import { plannedPages, type BulkSelection } from '../../src/modules/bulk/repository.ts'
import { planBulk } from '../../src/modules/bulk/start-bulk.ts'
import type { TestContext } from '../harness.ts'
import { connectTenant, inventoryContext, syncAndWait } from '../inventory/helpers.ts'
import { itemsOfType } from './helpers.ts'

/**
 * The dry run counts a selection in SQL and plans only the rows it lists: its counts and skip
 * reasons must be exactly those of planning every item in JavaScript (`planItem`), including the
 * corners where SQL and JavaScript differ (case, null values, UTF-16 lengths, JavaScript's whitespace).
 */
let env: Awaited<ReturnType<typeof inventoryContext>>
let ctx: TestContext
let tenant: Awaited<ReturnType<typeof connectTenant>>
let realGroup: string

const GROUP = '#microsoft.graph.groupAssignmentTarget'
const EXCLUSION = '#microsoft.graph.exclusionGroupAssignmentTarget'

async function edit(
  id: string,
  set: Partial<{ displayName: string; assignments: Record<string, unknown>[]; policyType: string; removedAt: Date }>,
  scopeTags?: unknown,
) {
  if (Object.keys(set).length > 0) await ctx.db.update(inventoryItems).set(set).where(eq(inventoryItems.id, id))
  if (scopeTags !== undefined) {
    await ctx.db.execute(
      scopeTags === 'missing'
        ? sql`UPDATE inventory_items SET payload = payload - 'roleScopeTagIds' WHERE id = ${id}`
        : sql`UPDATE inventory_items SET payload = jsonb_set(payload, '{roleScopeTagIds}', ${JSON.stringify(scopeTags)}::jsonb) WHERE id = ${id}`,
    )
  }
}

beforeAll(async () => {
  env = await inventoryContext()
  ctx = env.ctx
  tenant = await connectTenant(ctx, env.emulator, { policies: 200 })
  await syncAndWait(ctx, tenant.tenantId, tenant.token)
  const configs = await itemsOfType(ctx, tenant.tenantId, 'deviceConfiguration')
  expect(configs.length).toBeGreaterThanOrEqual(12)
  realGroup = configs
    .flatMap((c) => c.assignments)
    .map((a) => (a.target as { groupId?: string } | undefined)?.groupId)
    .find((g) => typeof g === 'string')!
  expect(realGroup).toBeDefined()
  const [c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11] = configs
  // Assignments: the group exactly so (null values and a "none" filter type do not count), in another case, twice, excluded, with a filter.
  await edit(c0!.id, {
    assignments: [
      {
        id: 'x_1',
        target: {
          '@odata.type': GROUP,
          groupId: 'G-ABC',
          deviceAndAppManagementAssignmentFilterId: null,
          deviceAndAppManagementAssignmentFilterType: 'none',
        },
      },
    ],
  })
  await edit(c1!.id, {
    assignments: [
      { id: 'x_2', target: { '@odata.type': GROUP, groupId: 'g-abc' } },
      { target: { '@odata.type': GROUP, groupId: 'other' } },
    ],
  })
  await edit(c2!.id, {
    assignments: [
      { target: { '@odata.type': GROUP, groupId: 'G-ABC' } },
      { target: { '@odata.type': EXCLUSION, groupId: 'G-ABC' } },
    ],
  })
  await edit(c3!.id, { assignments: [{ target: { '@odata.type': EXCLUSION, groupId: 'G-ABC' } }] })
  await edit(c4!.id, {
    assignments: [
      {
        target: {
          '@odata.type': GROUP,
          groupId: 'G-ABC',
          deviceAndAppManagementAssignmentFilterId: 'f1',
          deviceAndAppManagementAssignmentFilterType: 'include',
        },
      },
    ],
  })
  await edit(c5!.id, { assignments: [{ target: { '@odata.type': GROUP, groupId: 42 } }, { target: 'odd' }] })
  // Scope tags: none listed, missing, numbers, a null.
  await edit(c6!.id, {}, [])
  await edit(c7!.id, {}, 'missing')
  await edit(c8!.id, {}, [0, 7])
  await edit(c9!.id, {}, [null, '7'])
  // Names: whitespace only after a rename (JavaScript's whitespace), at the length limit in UTF-16, with LIKE and regex characters.
  await edit(c6!.id, { displayName: 'WS\u3000\u00a0' })
  await edit(c7!.id, { displayName: `${'😀'.repeat(127)}ab` })
  await edit(c8!.id, { displayName: `${'é'.repeat(255)}` })
  await edit(c9!.id, { displayName: 'Rate %_. (100%) $1 \\' })
  // A type the catalog does not know, and one removed at the last sync.
  await edit(c10!.id, { policyType: 'legacyThing' })
  await edit(c11!.id, { removedAt: new Date() })
})
afterAll(async () => env.close())

const CASES: [BulkAction, Record<string, unknown>][] = [
  ['assign', { group_id: 'G-ABC', intent: 'include' }],
  ['assign', { group_id: 'G-ABC', intent: 'exclude' }],
  ['assign', { group_id: 'G-ABC', intent: 'include', filter_id: 'f1' }],
  ['assign', { group_id: 'g-abc', intent: 'include' }],
  ['unassign', { group_id: 'g-ABC' }],
  ['unassign', { group_id: 'other' }],
  ['add_scope_tag', { scope_tag_id: '0' }],
  ['add_scope_tag', { scope_tag_id: '7' }],
  ['remove_scope_tag', { scope_tag_id: '0' }],
  ['remove_scope_tag', { scope_tag_id: '7' }],
  ['remove_scope_tag', { scope_tag_id: 'null' }],
  ['rename', { prefix: 'x' }],
  ['rename', { find: 'WS', replace: '\u2003' }],
  ['rename', { find: 'Qq', replace: 'Qq' }],
  ['rename', { suffix: ' v2', find: '%_.', replace: '' }],
  ['rename', { find: '\\', replace: '$1' }],
  ['duplicate', {}],
  ['duplicate', { name_suffix: '' }],
  ['delete', { confirm_count: 0 }],
]

/** The reference: every item planned in JavaScript. */
async function reference(action: BulkAction, raw: Record<string, unknown>, selection: BulkSelection) {
  const parsed = canonicalParams(action, raw)
  if ('issues' in parsed) throw new Error(JSON.stringify(parsed.issues))
  let count = 0
  const counts = { change: 0, skip: 0 }
  const reasons = new Map<string, { code: string; reason: string; count: number }>()
  const firstIds: string[] = []
  for await (const page of plannedPages(ctx.db, tenant.tenantId, selection, 50)) {
    for (const source of page) {
      const item = planItem(action, parsed.params, source)
      count++
      counts[item.action]++
      if (firstIds.length < 25) firstIds.push(item.id)
      if (item.action === 'skip') {
        const key = `${item.code}\n${item.reason}`
        const entry = reasons.get(key) ?? { code: item.code!, reason: item.reason!, count: 0 }
        entry.count++
        reasons.set(key, entry)
      }
    }
  }
  return { count, counts, reasons: [...reasons.values()], firstIds }
}

const byKey = (rows: { code: string; reason: string; count: number }[]) =>
  [...rows].sort((a, b) => `${a.code}${a.reason}`.localeCompare(`${b.code}${b.reason}`))

describe('bulk operations: the dry run counts in SQL exactly as the planner decides', () => {
  it('for every action over everything a filter matches and over named ids (removed and unknown types included)', async () => {
    const all = await ctx.db
      .select({ id: inventoryItems.id })
      .from(inventoryItems)
      .where(and(eq(inventoryItems.tenantId, tenant.tenantId)))
    const selections: { body: Record<string, unknown>; selection: BulkSelection }[] = [
      { body: { filter: {} }, selection: { filter: { type: null, category: null, q: null } } },
      { body: { item_ids: all.map((r) => r.id) }, selection: { itemIds: all.map((r) => r.id) } },
      {
        body: { filter: { type: 'deviceConfiguration' } },
        selection: { filter: { type: 'deviceConfiguration', category: null, q: null } },
      },
    ]
    const distinct = new Set<string>()
    for (const [action, params] of [
      ...CASES,
      ['assign', { group_id: realGroup, intent: 'include' }] as [BulkAction, Record<string, unknown>],
      ['unassign', { group_id: realGroup }] as [BulkAction, Record<string, unknown>],
    ]) {
      for (const { body, selection } of selections) {
        const expected = await reference(action, params, selection)
        const got = await planBulk(ctx.db, tenant.tenantId, {
          action,
          params,
          ...body,
          dry_run: true,
          preview_limit: 25,
        })
        const label = `${action} ${JSON.stringify(params)} ${JSON.stringify(body).slice(0, 40)}`
        expect(got.item_count, label).toBe(expected.count)
        expect(got.counts, label).toEqual(expected.counts)
        expect(byKey(got.skipped_by_reason), label).toEqual(byKey(expected.reasons))
        expect(
          got.items.map((i) => i.id),
          label,
        ).toEqual(expected.firstIds)
        expect(got.items_truncated, label).toBe(expected.count > 25)
        for (const r of got.skipped_by_reason) distinct.add(r.code)
      }
    }
    // The corners were reached: every kind of skip occurred somewhere.
    expect([...distinct].sort()).toEqual(['invalid_name', 'name_too_long', 'removed', 'unchanged', 'unsupported_type'])
  })
})
