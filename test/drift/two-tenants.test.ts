import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inventoryTypeStates } from '../../src/db/schema.ts'
import { uuidv7 } from '../../src/lib/ids.ts'
import { evaluateTenant } from '../../src/modules/baselines/evaluate.ts'
import { createTestContext, type TestContext } from '../harness.ts'
import { seedItem } from '../many-tenants/seed.ts'

let ctx: TestContext
let token: string
const tenant = { contoso: '', fabrikam: '' }
const ids = { contosoSales: randomUUID(), fabrikamSales: randomUUID(), wifi: '', compliance: '' }

const assigned = (groupId: string) => [
  {
    id: `${groupId}_a`,
    intent: 'apply',
    target: {
      '@odata.type': '#microsoft.graph.groupAssignmentTarget',
      groupId,
      deviceAndAppManagementAssignmentFilterId: null,
      deviceAndAppManagementAssignmentFilterType: 'none',
    },
  },
]
const wifi = {
  '@odata.type': '#microsoft.graph.windowsWifiConfiguration',
  displayName: 'Corporate Wi-Fi',
  ssid: 'corp',
}
const compliance = (minimum: number) => ({
  '@odata.type': '#microsoft.graph.windows10CompliancePolicy',
  displayName: 'Windows compliance',
  passwordMinimumLength: minimum,
})

type Finding = { path: string; label: string; state: string; expected: unknown; actual: unknown }

async function call<T>(method: string, url: string, payload?: unknown) {
  const response = await ctx.request({
    method,
    url,
    token,
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  })
  return { status: response.statusCode, body: JSON.parse(response.body || 'null') as T }
}

async function standing(tenantId: string) {
  await evaluateTenant(ctx.db, tenantId, { now: new Date(), actor: { kind: 'system' } })
  const { body } = await call<{ data: Finding[] }>('GET', `/api/tenants/${tenantId}/findings?limit=200`)
  return body.data.filter((f) => f.state !== 'resolved')
}

beforeAll(async () => {
  ctx = await createTestContext({ worker: false })
  const owner = await ctx.factories.userWithToken()
  token = owner.token
  for (const key of ['contoso', 'fabrikam'] as const) {
    const t = await ctx.factories.tenant()
    tenant[key] = t.id
    await ctx.factories.member(t.id, owner.user, 'owner')
    for (const policyType of ['deviceConfiguration', 'deviceCompliancePolicy', 'group'])
      await ctx.db
        .insert(inventoryTypeStates)
        .values({ tenantId: t.id, policyType, lastRunId: uuidv7(), lastSyncedAt: new Date(), itemCount: 1 })
  }
  // Contoso's "Sales" group; Fabrikam calls its own "Vertrieb" (another id, another name).
  await seedItem(ctx.db, tenant.contoso, { policyType: 'group', displayName: 'Sales', externalId: ids.contosoSales })
  await seedItem(ctx.db, tenant.fabrikam, {
    policyType: 'group',
    displayName: 'Vertrieb',
    externalId: ids.fabrikamSales,
  })
  ids.wifi = await seedItem(ctx.db, tenant.contoso, {
    policyType: 'deviceConfiguration',
    displayName: 'Corporate Wi-Fi',
    payload: wifi,
    assignments: assigned(ids.contosoSales),
  })
  ids.compliance = await seedItem(ctx.db, tenant.contoso, {
    policyType: 'deviceCompliancePolicy',
    displayName: 'Windows compliance',
    payload: compliance(12),
  })
  await seedItem(ctx.db, tenant.fabrikam, {
    policyType: 'deviceConfiguration',
    displayName: 'Corporate Wi-Fi',
    payload: wifi,
    assignments: assigned(ids.fabrikamSales),
  })
  await seedItem(ctx.db, tenant.fabrikam, {
    policyType: 'deviceCompliancePolicy',
    displayName: 'Windows compliance',
    payload: compliance(14),
  })
})
afterAll(() => ctx.close())

describe('one baseline, two tenants (issue 25)', () => {
  it('different group names are mapped, a customer-specific value is an override, not a finding', async () => {
    const created = await call<{ id: string }>('POST', '/api/baselines', {
      name: 'MSP standard',
      from: { tenant_id: tenant.contoso, item_ids: [ids.wifi, ids.compliance] },
    })
    expect(created.status).toBe(201)
    const baselineId = created.body.id
    for (const t of [tenant.contoso, tenant.fabrikam])
      expect((await call('PUT', `/api/tenants/${t}/baselines/${baselineId}`, { enabled: true })).status).toBe(200)

    expect(await standing(tenant.contoso)).toEqual([])
    // Fabrikam: Sales has no namesake there, and its compliance asks for 14 characters.
    const before = await standing(tenant.fabrikam)
    expect(before.map((f) => [f.label, f.expected, f.actual]).sort()).toEqual(
      [
        ['Assignment: Include group Sales', 'apply, no filter', null],
        ['Assignment: Include group Vertrieb', null, 'apply, no filter'],
        ['Password minimum length', 12, 14],
      ].sort(),
    )
    const proposal = await call<{ mapping: { kind: string; source_name: string; target_id: string | null }[] }>(
      'GET',
      `/api/tenants/${tenant.fabrikam}/baselines/${baselineId}`,
    )
    expect(proposal.body.mapping).toEqual([
      expect.objectContaining({ kind: 'group', source_name: 'Sales', target_id: null }),
    ])

    const entries = await call<{ data: { id: string; policy_type: string }[] }>(
      'GET',
      `/api/baselines/${baselineId}/entries`,
    )
    const complianceEntry = entries.body.data.find((e) => e.policy_type === 'deviceCompliancePolicy')!
    const put = await call('PUT', `/api/tenants/${tenant.fabrikam}/baselines/${baselineId}`, {
      mapping: [{ kind: 'group', source_id: ids.contosoSales, target_id: ids.fabrikamSales }],
      overrides: [{ entry_id: complianceEntry.id, path: 'passwordMinimumLength', value: 14 }],
    })
    expect(put.status).toBe(200)
    const overview = async () =>
      (
        await call<{ data: { tenant: { id: string }; findings: unknown; alignment: unknown }[] }>(
          'GET',
          '/api/overview',
        )
      ).body.data.find((r) => r.tenant.id === tenant.fabrikam)!
    expect(await overview()).toMatchObject({
      findings: { low: 0, medium: 1, high: 2, critical: 0 },
      alignment: { entries: 2, deviating: 2, unknown: 0, score: 0, coverage: 100 },
    })
    expect(await standing(tenant.fabrikam)).toEqual([])
    expect(await standing(tenant.contoso)).toEqual([])
    expect(await overview()).toMatchObject({
      findings: { low: 0, medium: 0, high: 0, critical: 0 },
      alignment: { entries: 2, deviating: 0, score: 100 },
    })
    const alignment = await call<{ data: { aligned: number; score: number }[] }>(
      'GET',
      `/api/tenants/${tenant.fabrikam}/alignment`,
    )
    expect(alignment.body.data).toEqual([expect.objectContaining({ aligned: 2, deviating: 0, score: 100 })])
  })
})
