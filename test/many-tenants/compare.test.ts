import { randomUUID } from 'node:crypto'
import { eq } from 'drizzle-orm'
import { inventoryItems } from '../../src/db/schema.ts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { seedBackupSet, type SeedObject } from '../backups/seed.ts'
import { createTestContext, errorOf, ORIGIN, type TestContext } from '../harness.ts'
import { waitForCompletion } from '../inventory/helpers.ts'
import { seedItem } from './seed.ts'

let ctx: TestContext
let owner: { user: { id: string }; token: string }
let member: { user: { id: string }; token: string }
const tenant = {} as Record<'contoso' | 'fabrikam', string>
let backupId: string
const groups = {} as Record<'sales' | 'fabrikamSales' | 'fabrikamMarketing', string>

type Change = { path: string; label: string; kind: string; before: unknown; after: unknown }
type Row = {
  status: string
  policy_type: string
  left: { name: string } | null
  right: { name: string } | null
  changes: Change[]
}
type Comparison = {
  id: string
  status: string
  run_id: string | null
  counts: Record<string, number>
  mapping: {
    kind: string
    left_name: string | null
    right_name: string | null
    right_id: string | null
    source: string
  }[]
}

const group = (groupId: string, intent: 'include' | 'exclude' = 'include') => ({
  id: `${groupId}_a`,
  intent: 'apply',
  target: {
    '@odata.type':
      intent === 'include'
        ? '#microsoft.graph.groupAssignmentTarget'
        : '#microsoft.graph.exclusionGroupAssignmentTarget',
    groupId,
    deviceAndAppManagementAssignmentFilterId: null,
    deviceAndAppManagementAssignmentFilterType: 'none',
  },
})
const wifi = (ssid: string) => ({
  '@odata.type': '#microsoft.graph.windowsWifiConfiguration',
  displayName: 'Corporate Wi-Fi',
  ssid,
  connectAutomatically: true,
  roleScopeTagIds: ['0'],
})
const compliance = (minimum: number) => ({
  '@odata.type': '#microsoft.graph.windows10CompliancePolicy',
  displayName: 'Windows compliance',
  passwordMinimumLength: minimum,
  roleScopeTagIds: ['0'],
})

/** A policy as the tenant holds it now, and its object for a backup set. */
async function policy(
  tenantId: string,
  policyType: string,
  externalId: string,
  payload: Record<string, unknown>,
  assignments: Record<string, unknown>[] = [],
): Promise<SeedObject> {
  const displayName = String(payload.displayName)
  await seedItem(ctx.db, tenantId, { policyType, displayName, externalId, payload, assignments })
  return { policyType, externalId, displayName, payload, assignments }
}

async function compare(token: string, left: Record<string, unknown>, right: Record<string, unknown>, extra = {}) {
  return ctx.request({
    method: 'POST',
    url: '/api/comparisons',
    token,
    headers: { origin: ORIGIN },
    payload: { left, right, ...extra },
  })
}

async function rowsOf(id: string, token = owner.token, query = '') {
  const response = await ctx.request({
    method: 'GET',
    url: `/api/comparisons/${id}?${query.includes('limit=') ? '' : 'limit=200'}${query}`,
    token,
  })
  expect(response.statusCode, response.body).toBe(200)
  return JSON.parse(response.body) as { comparison: Comparison; data: Row[]; next_cursor: string | null }
}

const byName = (rows: Row[]) =>
  Object.fromEntries(rows.map((r) => [(r.left ?? r.right)!.name, { status: r.status, changes: r.changes }]))

beforeAll(async () => {
  ctx = await createTestContext()
  owner = await ctx.factories.userWithToken()
  member = await ctx.factories.userWithToken()
  for (const key of ['contoso', 'fabrikam'] as const) {
    tenant[key] = (await ctx.factories.tenant({ name: key })).id
    await ctx.factories.member(tenant[key], owner.user, 'owner')
  }
  await ctx.factories.member(tenant.contoso, member.user, 'readonly')

  // Contoso: groups "Sales" and "Marketing", three policies; a backup set taken before known edits.
  const sales = (groups.sales = randomUUID())
  const marketing = randomUUID()
  await seedItem(ctx.db, tenant.contoso, { policyType: 'group', displayName: 'Sales', externalId: sales })
  await seedItem(ctx.db, tenant.contoso, { policyType: 'group', displayName: 'Marketing', externalId: marketing })
  const wifiId = randomUUID()
  const before: SeedObject[] = [
    { ...(await policy(tenant.contoso, 'deviceConfiguration', wifiId, wifi('corp'), [group(sales)])) },
    await policy(tenant.contoso, 'deviceCompliancePolicy', randomUUID(), compliance(12), [group(marketing)]),
    {
      policyType: 'deviceConfiguration',
      externalId: randomUUID(),
      displayName: 'Removed since',
      payload: { '@odata.type': '#microsoft.graph.windows10GeneralConfiguration', displayName: 'Removed since' },
      assignments: [],
    },
  ]
  backupId = (await seedBackupSet(ctx.db, tenant.contoso, before, { name: 'Before the edits' })).id
  // The known edits: Wi-Fi's SSID changed and Sales excluded instead of included; one policy added.
  await ctx.db
    .update(inventoryItems)
    .set({ payload: wifi('corp-5g'), assignments: [group(sales, 'exclude')] })
    .where(eq(inventoryItems.externalId, wifiId))
  await policy(tenant.contoso, 'deviceConfiguration', randomUUID(), {
    '@odata.type': '#microsoft.graph.windows10GeneralConfiguration',
    displayName: 'Added since',
  })

  // Fabrikam: the same Wi-Fi assigned to its own "sales" group (another id, another case); compliance to
  // a group Fabrikam does not have; one policy of its own.
  const fabrikamSales = (groups.fabrikamSales = randomUUID())
  await seedItem(ctx.db, tenant.fabrikam, { policyType: 'group', displayName: 'sales', externalId: fabrikamSales })
  // A group no Contoso name matches: only a person's pair maps to it.
  groups.fabrikamMarketing = randomUUID()
  await seedItem(ctx.db, tenant.fabrikam, {
    policyType: 'group',
    displayName: 'Marketing team',
    externalId: groups.fabrikamMarketing,
  })
  await policy(tenant.fabrikam, 'deviceConfiguration', randomUUID(), wifi('corp-5g'), [group(fabrikamSales, 'exclude')])
  await policy(tenant.fabrikam, 'deviceCompliancePolicy', randomUUID(), compliance(12), [])
  await policy(tenant.fabrikam, 'deviceConfiguration', randomUUID(), {
    '@odata.type': '#microsoft.graph.windows10GeneralConfiguration',
    displayName: 'Fabrikam only',
  })
})
afterAll(() => ctx.close())

describe('compare', () => {
  it('a tenant against its own backup after known edits: exactly those differences', async () => {
    const response = await compare(owner.token, { backup_id: backupId }, { tenant_id: tenant.contoso })
    expect(response.statusCode, response.body).toBe(201)
    const { comparison } = JSON.parse(response.body) as { comparison: Comparison }
    expect(comparison.status).toBe('ready')
    expect(comparison.counts).toMatchObject({ only_left: 1, only_right: 1, different: 1, same: 1, total: 4 })
    const rows = byName((await rowsOf(comparison.id)).data)
    expect(rows['Removed since']!.status).toBe('only_left')
    expect(rows['Added since']!.status).toBe('only_right')
    expect(rows['Windows compliance']).toEqual({ status: 'same', changes: [] })
    // The setting-level diff, labelled as the version diff labels it.
    expect(rows['Corporate Wi-Fi']!.status).toBe('different')
    expect(rows['Corporate Wi-Fi']!.changes.map((c) => [c.label, c.kind, c.before, c.after])).toEqual([
      ['Assignment: Exclude group Sales', 'added', null, 'apply, excluded'],
      ['Assignment: Include group Sales', 'removed', 'apply, no filter', null],
      ['Ssid', 'changed', 'corp', 'corp-5g'],
    ])
  })

  it('two tenants: groups mapped by name, so a renamed id is no difference; an unmapped group is', async () => {
    const response = await compare(owner.token, { tenant_id: tenant.contoso }, { tenant_id: tenant.fabrikam })
    expect(response.statusCode, response.body).toBe(201)
    const { comparison } = JSON.parse(response.body) as { comparison: Comparison }
    const rows = byName((await rowsOf(comparison.id)).data)
    expect(rows['Corporate Wi-Fi']).toEqual({ status: 'same', changes: [] })
    expect(rows['Windows compliance']!.status).toBe('different')
    expect(rows['Windows compliance']!.changes.map((c) => [c.label, c.kind])).toEqual([
      ['Assignment: Include group Marketing', 'removed'],
    ])
    expect(rows['Added since']!.status).toBe('only_left')
    expect(rows['Fabrikam only']!.status).toBe('only_right')
    expect(
      comparison.mapping
        .filter((m) => m.kind === 'group')
        .map((m) => [m.left_name, m.right_name])
        .sort(),
    ).toEqual([
      ['Marketing', null],
      ['Sales', 'sales'],
    ])
  })

  it('takes the pairs a person gives in place of the names, and refuses a right id the right tenant does not have', async () => {
    // Contoso's Sales stands for Fabrikam's "Marketing team" here: the Wi-Fi's excluded group now differs.
    const override = [{ kind: 'group', left_id: groups.sales, right_id: groups.fabrikamMarketing }]
    const response = await compare(
      owner.token,
      { tenant_id: tenant.contoso },
      { tenant_id: tenant.fabrikam },
      {
        mapping: override,
      },
    )
    expect(response.statusCode, response.body).toBe(201)
    const { comparison } = JSON.parse(response.body) as { comparison: Comparison }
    expect(
      comparison.mapping.filter((m) => m.kind === 'group').map((m) => [m.left_name, m.right_name, m.source]),
    ).toEqual(
      expect.arrayContaining([
        ['Sales', 'Marketing team', 'user'],
        ['Marketing', null, 'name'],
      ]),
    )
    const rows = byName((await rowsOf(comparison.id)).data)
    expect(rows['Corporate Wi-Fi']!.status).toBe('different')
    expect(rows['Corporate Wi-Fi']!.changes.map((c) => c.kind).sort()).toEqual(['added', 'removed'])
    // "Not mapped" is a pair too: Sales stands for no group on the right.
    const unmapped = await compare(
      owner.token,
      { tenant_id: tenant.contoso },
      { tenant_id: tenant.fabrikam },
      {
        mapping: [{ kind: 'group', left_id: groups.sales, right_id: null }],
      },
    )
    const none = (JSON.parse(unmapped.body) as { comparison: Comparison }).comparison
    expect(none.mapping.find((m) => m.left_name === 'Sales')).toMatchObject({ right_id: null, source: 'user' })
    expect(byName((await rowsOf(none.id)).data)['Corporate Wi-Fi']!.status).toBe('different')
    // A Contoso group is no Fabrikam group; a pair given twice is refused too.
    const foreign = await compare(
      owner.token,
      { tenant_id: tenant.contoso },
      { tenant_id: tenant.fabrikam },
      {
        mapping: [
          { kind: 'group', left_id: groups.sales, right_id: groups.sales },
          { kind: 'group', left_id: groups.sales, right_id: groups.fabrikamSales },
        ],
      },
    )
    expect(foreign.statusCode).toBe(422)
    expect((errorOf(foreign.body).details as { fields: unknown[] }).fields).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ field: 'mapping.0.right_id' }),
        expect.objectContaining({ field: 'mapping.1.left_id' }),
      ]),
    )
    const kind = await compare(
      owner.token,
      { tenant_id: tenant.contoso },
      { tenant_id: tenant.fabrikam },
      {
        mapping: [{ kind: 'device', left_id: 'x', right_id: null }],
      },
    )
    expect(kind.statusCode).toBe(422)
    expect(JSON.stringify(errorOf(kind.body).details)).toContain('mapping.0.kind')
  })

  it('filters rows by status and type, pages them, and exports CSV and Markdown', async () => {
    const { comparison } = JSON.parse(
      (await compare(owner.token, { tenant_id: tenant.contoso }, { tenant_id: tenant.fabrikam })).body,
    ) as { comparison: Comparison }
    expect((await rowsOf(comparison.id, owner.token, '&status=only_right')).data.map((r) => r.right!.name)).toEqual([
      'Fabrikam only',
    ])
    expect(
      (await rowsOf(comparison.id, owner.token, '&type=deviceCompliancePolicy')).data.map((r) => r.status),
    ).toEqual(['different'])
    const first = await rowsOf(comparison.id, owner.token, '&limit=1')
    expect(first.data).toHaveLength(1)
    const second = await rowsOf(comparison.id, owner.token, `&limit=1&cursor=${first.next_cursor}`)
    expect(second.data[0]).not.toEqual(first.data[0])

    const csv = await ctx.request({
      method: 'GET',
      url: `/api/comparisons/${comparison.id}/export?format=csv`,
      token: owner.token,
    })
    expect(csv.statusCode).toBe(200)
    expect(csv.headers['content-type']).toMatch(/text\/csv/)
    const lines = csv.body.trimEnd().split('\r\n')
    expect(lines[0]).toBe(
      'status,policy_type,left_name,left_id,right_name,right_id,setting,change,left_value,right_value',
    )
    expect(lines.filter((l) => l.startsWith('different,'))).toEqual([
      expect.stringMatching(
        /^different,deviceCompliancePolicy,Windows compliance,.*,Assignment: Include group Marketing,removed,"apply, no filter",$/,
      ),
    ])
    expect(lines).toHaveLength(1 + 4)

    const md = await ctx.request({
      method: 'GET',
      url: `/api/comparisons/${comparison.id}/export?format=md&status=different`,
      token: owner.token,
    })
    expect(md.statusCode).toBe(200)
    expect(md.body).toContain('# Comparison: contoso · now ↔ fabrikam · now')
    expect(md.body).toContain('| Sales | sales |')
    expect(md.body).toContain(
      '- **Windows compliance** (deviceCompliancePolicy)\n  - Assignment: Include group Marketing: apply, no filter → _none_',
    )
    expect(md.body).not.toContain('Fabrikam only')
  })

  it('runs as a compare.run operation with progress when asked (and for large inputs)', async () => {
    const response = await compare(
      owner.token,
      { tenant_id: tenant.contoso },
      { tenant_id: tenant.fabrikam },
      { background: true },
    )
    expect(response.statusCode, response.body).toBe(202)
    const body = JSON.parse(response.body) as { comparison: Comparison; run: { id: string; type: string } }
    expect(body.run.type).toBe('compare.run')
    expect(body.comparison.status).toBe('running')
    const run = await waitForCompletion(ctx, body.run.id)
    expect(run.outcome).toBe('succeeded')
    expect(run.summaryCounts).toMatchObject({ total: 4, processed: 4 })
    const { comparison } = await rowsOf(body.comparison.id)
    expect(comparison.status).toBe('ready')
    expect(comparison.counts).toMatchObject({ only_left: 1, only_right: 1, different: 1, same: 1 })
  })

  it('a tenant at a point in time reads what its history said then', async () => {
    const response = await compare(
      owner.token,
      { tenant_id: tenant.contoso, at: new Date(Date.now() - 60_000).toISOString() },
      { tenant_id: tenant.contoso },
    )
    expect(response.statusCode, response.body).toBe(201)
    const { comparison } = JSON.parse(response.body) as { comparison: Comparison }
    // Seeded items have no versions: nothing existed a minute ago, everything is only right.
    expect(comparison.counts).toMatchObject({ only_left: 0, same: 0, only_right: 3 })
  })
})

describe('compare: who may see what, and bad input', () => {
  it('is a 404 for a side the caller cannot view, on create and on read', async () => {
    const response = await compare(member.token, { tenant_id: tenant.contoso }, { tenant_id: tenant.fabrikam })
    expect(response.statusCode).toBe(404)
    expect(errorOf(response.body).code).toBe('not_found')
    const backup = await compare(member.token, { backup_id: backupId }, { tenant_id: tenant.fabrikam })
    expect(backup.statusCode).toBe(404)
    // The owner's comparison of both tenants: the member sees only one side.
    const { comparison } = JSON.parse(
      (await compare(owner.token, { tenant_id: tenant.contoso }, { tenant_id: tenant.fabrikam })).body,
    ) as { comparison: Comparison }
    for (const url of [`/api/comparisons/${comparison.id}`, `/api/comparisons/${comparison.id}/export?format=csv`]) {
      const read = await ctx.request({ method: 'GET', url, token: member.token })
      expect(read.statusCode, url).toBe(404)
    }
    // A comparison of the member's own tenant (now against its backup) is theirs to read.
    const own = await compare(member.token, { backup_id: backupId }, { tenant_id: tenant.contoso })
    expect(own.statusCode).toBe(201)
    const unknown = await ctx.request({ method: 'GET', url: `/api/comparisons/${randomUUID()}`, token: owner.token })
    expect(unknown.statusCode).toBe(404)
  })

  it.each([
    [{ left: { tenant_id: 'x' }, right: {} }, 'left.tenant_id'],
    [{ left: {}, right: {} }, 'left'],
    [{ right: {} }, 'left'],
    [{ left: { tenant_id: randomUUID(), backup_id: randomUUID() }, right: {} }, 'left'],
    [{ left: { backup_id: randomUUID(), at: new Date().toISOString() }, right: {} }, 'left.at'],
  ])('refuses %j naming %s', async (payload, field) => {
    const response = await ctx.request({
      method: 'POST',
      url: '/api/comparisons',
      token: owner.token,
      headers: { origin: ORIGIN },
      payload,
    })
    expect(response.statusCode).toBe(422)
    expect(JSON.stringify(errorOf(response.body).details)).toContain(`"${field}"`)
  })

  it('accepts a baseline side in the input and says baselines do not exist yet', async () => {
    const response = await compare(owner.token, { baseline_id: randomUUID() }, { tenant_id: tenant.contoso })
    expect(response.statusCode).toBe(422)
    expect(JSON.stringify(errorOf(response.body).details)).toContain('left.baseline_id')
  })

  it('a point in time in the future, and an unknown export format, are 422s', async () => {
    const future = await compare(
      owner.token,
      { tenant_id: tenant.contoso, at: new Date(Date.now() + 86_400_000).toISOString() },
      { tenant_id: tenant.contoso },
    )
    expect(future.statusCode).toBe(422)
    const { comparison } = JSON.parse(
      (await compare(owner.token, { tenant_id: tenant.contoso }, { tenant_id: tenant.fabrikam })).body,
    ) as { comparison: Comparison }
    const bad = await ctx.request({
      method: 'GET',
      url: `/api/comparisons/${comparison.id}/export?format=pdf`,
      token: owner.token,
    })
    expect(bad.statusCode).toBe(422)
  })
})
