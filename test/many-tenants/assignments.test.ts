import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_GRANTS } from '../../src/emulator/control-routes.ts'
import type { EmulatorServer } from '../../src/emulator/server.ts'
import { control } from '../graph/emulator-helpers.ts'
import { errorOf, type TestContext } from '../harness.ts'
import { connectTenant, inventoryContext } from '../inventory/helpers.ts'
import { seedItem } from './seed.ts'

/**
 * "What reaches this group / user / device" (issue 27): memberships from the emulator's directory
 * over HTTP (Graph's transitiveMemberOf), assignments from the inventory.
 */
let ctx: TestContext
let emulator: EmulatorServer
let close: () => Promise<unknown>
let tenantId: string
let entraId: string
let token: string
const g = {} as Record<'top' | 'middle' | 'bottom' | 'excluded' | 'unrelated', string>
const items = {} as Record<'nested' | 'excludedPolicy' | 'app' | 'script' | 'other', string>
const FILTER_ID = '7c0fd5e2-8a3b-4c1e-9d2f-000000000001'

type Resolution = {
  subject: { kind: string; id: string | null; name: string }
  groups: { id: string; name: string }[]
  assignments: {
    item: { id: string; display_name: string }
    kind: string
    intent: string | null
    via: string
    via_group: { id: string; name: string } | null
    filter: { id: string; name: string | null; mode: string } | null
    effective: boolean
  }[]
  warnings: { code: string; message: string }[]
}

const groupTarget = (groupId: string, extra: Record<string, unknown> = {}) => ({
  target: {
    '@odata.type': '#microsoft.graph.groupAssignmentTarget',
    groupId,
    deviceAndAppManagementAssignmentFilterType: 'none',
    ...extra,
  },
})

beforeAll(async () => {
  ;({ ctx, emulator, close } = await inventoryContext({ worker: false }))
  const connected = await connectTenant(ctx, emulator, {
    policies: 0,
    permissions: [...DEFAULT_GRANTS, 'User.Read.All', 'Device.Read.All'],
  })
  ;({ tenantId, token } = connected)
  entraId = connected.entraTenantId
  const create = async (kind: 'groups' | 'users' | 'devices', body: Record<string, unknown>) => {
    const response = await control<{ id: string }>(emulator, 'POST', `/tenants/${entraId}/${kind}`, body)
    expect(response.status, JSON.stringify(response.body)).toBe(201)
    return response.body.id
  }
  // Three levels: bottom ⊂ middle ⊂ top.
  g.top = await create('groups', { name: 'All staff' })
  g.middle = await create('groups', { name: 'Sales', member_of: [g.top] })
  g.bottom = await create('groups', { name: 'Sales Berlin', member_of: [g.middle] })
  g.excluded = await create('groups', { name: 'Pilot opt-out' })
  g.unrelated = await create('groups', { name: 'Finance' })
  await create('users', {
    user_principal_name: 'alice@contoso.com',
    name: 'Alice',
    password: 'x',
    groups: [g.bottom, g.excluded],
  })
  await create('users', { user_principal_name: 'bob@contoso.com', name: 'Bob', password: 'x' })
  await create('devices', { name: 'PC-01', groups: [g.middle] })

  await seedItem(ctx.db, tenantId, {
    policyType: 'assignmentFilter',
    displayName: 'Windows 11 only',
    externalId: FILTER_ID,
  })
  items.nested = await seedItem(ctx.db, tenantId, {
    policyType: 'deviceConfiguration',
    displayName: 'BitLocker',
    assignments: [
      groupTarget(g.top, {
        deviceAndAppManagementAssignmentFilterId: FILTER_ID,
        deviceAndAppManagementAssignmentFilterType: 'include',
      }),
    ],
  })
  items.excludedPolicy = await seedItem(ctx.db, tenantId, {
    policyType: 'settingsCatalogPolicy',
    displayName: 'Edge pilot',
    assignments: [
      groupTarget(g.bottom),
      { target: { '@odata.type': '#microsoft.graph.exclusionGroupAssignmentTarget', groupId: g.excluded } },
    ],
  })
  items.app = await seedItem(ctx.db, tenantId, {
    policyType: 'mobileApp',
    displayName: 'Company Portal',
    assignments: [
      { intent: 'required', target: { '@odata.type': '#microsoft.graph.allLicensedUsersAssignmentTarget' } },
    ],
  })
  items.script = await seedItem(ctx.db, tenantId, {
    policyType: 'deviceManagementScript',
    displayName: 'Set time zone',
    assignments: [{ target: { '@odata.type': '#microsoft.graph.allDevicesAssignmentTarget' } }],
  })
  items.other = await seedItem(ctx.db, tenantId, {
    policyType: 'deviceCompliancePolicy',
    displayName: 'Finance only',
    assignments: [groupTarget(g.unrelated)],
  })
})
afterAll(() => close())

const resolve = async (query: string, as = token) => {
  const response = await ctx.request({ method: 'GET', url: `/api/tenants/${tenantId}/assignments?${query}`, token: as })
  expect(response.statusCode, response.body).toBe(200)
  return JSON.parse(response.body) as Resolution
}
const summary = (r: Resolution) =>
  r.assignments.map(
    (a) =>
      `${a.item.display_name}:${a.kind}:${a.via}${a.via_group ? `(${a.via_group.name})` : ''}:${a.effective ? 'applies' : 'excluded'}`,
  )

describe('GET /api/tenants/{id}/assignments', () => {
  it('resolves a user through three levels of nesting, All users, and lets excludes win', async () => {
    const alice = await resolve('user=alice@contoso.com')
    expect(alice.subject).toMatchObject({ kind: 'user', name: 'Alice' })
    expect(alice.groups.map((x) => x.name).sort()).toEqual(['All staff', 'Pilot opt-out', 'Sales', 'Sales Berlin'])
    expect(summary(alice).sort()).toEqual([
      'BitLocker:include:group(All staff):applies',
      'Company Portal:include:all_users:applies',
      'Edge pilot:exclude:group(Pilot opt-out):applies',
      'Edge pilot:include:group(Sales Berlin):excluded',
    ])
    const bitlocker = alice.assignments.find((a) => a.item.id === items.nested)!
    expect(bitlocker.filter).toEqual({ id: FILTER_ID, name: 'Windows 11 only', mode: 'include' })
    expect(alice.assignments.find((a) => a.item.id === items.app)!.intent).toBe('required')
    expect(alice.warnings).toEqual([])
  })

  it('resolves a device by name (All devices, not All users) and a group with what it is nested in', async () => {
    const device = await resolve('device=PC-01')
    expect(device.groups.map((x) => x.name).sort()).toEqual(['All staff', 'Sales'])
    expect(summary(device).sort()).toEqual([
      'BitLocker:include:group(All staff):applies',
      'Set time zone:include:all_devices:applies',
    ])

    const bottom = await resolve(`group_id=${g.bottom}`)
    expect(bottom.subject).toEqual({ kind: 'group', id: g.bottom, name: 'Sales Berlin' })
    expect(bottom.groups.map((x) => x.name)).toEqual(['Sales Berlin', expect.any(String), expect.any(String)])
    // The group is not in the opt-out group: its include applies; All users and All devices reach its members.
    expect(summary(bottom).sort()).toEqual([
      'BitLocker:include:group(All staff):applies',
      'Company Portal:include:all_users:applies',
      'Edge pilot:include:group(Sales Berlin):applies',
      'Set time zone:include:all_devices:applies',
    ])
    const bob = await resolve('user=bob@contoso.com')
    expect(summary(bob)).toEqual(['Company Portal:include:all_users:applies'])
  })

  it('names what is wrong: an unknown user, a bad query, a missing permission, a foreign tenant', async () => {
    const unknown = await ctx.request({
      method: 'GET',
      url: `/api/tenants/${tenantId}/assignments?user=nobody@contoso.com`,
      token,
    })
    expect(unknown.statusCode).toBe(422)
    expect(errorOf(unknown.body).message).toBe('user: no user with the UPN nobody@contoso.com in this tenant')
    for (const query of ['', `group_id=${g.top}&user=alice@contoso.com`, 'group_id=not-a-guid']) {
      const bad = await ctx.request({ method: 'GET', url: `/api/tenants/${tenantId}/assignments?${query}`, token })
      expect(bad.statusCode, query).toBe(422)
    }
    const stranger = await ctx.factories.userWithToken()
    const foreign = await ctx.request({
      method: 'GET',
      url: `/api/tenants/${tenantId}/assignments?user=alice@contoso.com`,
      token: stranger.token,
    })
    expect(foreign.statusCode).toBe(404)

    await control(emulator, 'PUT', `/tenants/${entraId}/permissions`, { permissions: DEFAULT_GRANTS })
    const partial = await resolve('user=alice@contoso.com')
    expect(partial.warnings).toEqual([
      expect.objectContaining({ code: 'missing_permission', message: expect.stringContaining('User.Read.All') }),
    ])
    // What is certain still shows: All users reaches every user.
    expect(summary(partial)).toEqual(['Company Portal:include:all_users:applies'])
  })
})
