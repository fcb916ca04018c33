import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { EmulatorServer } from '../../src/emulator/server.ts'
import { getPolicyType } from '../../src/graph/policy-types.ts'
import { listUrl } from '../../src/graph/read-plan.ts'
import { control, createTenant, graphGet, rawToken, startEmulator } from './emulator-helpers.ts'

/**
 * The emulator answers the way Graph does where a third-party client (IntuneCD) found it
 * stricter than Graph or missing a route Graph has (issue 17, items 1–15).
 */

let emulator: EmulatorServer
let token: string
let counts: Record<string, number>

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 })
  const created = await createTenant(emulator, { policies: 1500 })
  counts = created.tenant.counts
  token = (await rawToken(emulator, created.tenant.tenant_id, created.tenant.client_id, created.secret)).body
    .access_token as string
})
afterAll(async () => {
  await emulator.close()
})

type Page = { status: number; body: Record<string, unknown> & { value?: Record<string, unknown>[] } }

async function all(path: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = []
  let url: string | undefined = path
  while (url) {
    const page: Page = await graphGet(emulator, token, url)
    expect(page.status, url).toBe(200)
    items.push(...page.body.value!)
    url = page.body['@odata.nextLink'] as string | undefined
  }
  return items
}

function expectGraphError(page: Page, status: number, code: string) {
  expect(page.status).toBe(status)
  expect(page.body.error).toMatchObject({
    code,
    message: expect.any(String),
    innerError: { 'request-id': expect.any(String), date: expect.any(String) },
  })
}

async function batch(requests: unknown[]) {
  const response = await fetch(`${emulator.url}/beta/$batch`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ requests }),
  })
  return {
    status: response.status,
    body: (await response.json()) as {
      responses: { id: string; status: number; body: Record<string, unknown> & { value?: Record<string, unknown>[] } }[]
    } & Record<string, unknown>,
  }
}

describe('$batch', () => {
  it('takes member ids that are JSON numbers and answers with them as strings (1)', async () => {
    const response = await batch([
      { id: 1, method: 'GET', url: 'deviceManagement/deviceCategories' },
      { id: 2, method: 'GET', url: '/deviceManagement/roleScopeTags' },
    ])
    expect(response.status).toBe(200)
    expect(response.body.responses.map((r) => [r.id, r.status]).sort()).toEqual([
      ['1', 200],
      ['2', 200],
    ])
    const duplicate = await batch([
      { id: 1, method: 'GET', url: '/deviceManagement/deviceCategories' },
      { id: '1', method: 'GET', url: '/deviceManagement/deviceCategories' },
    ])
    expect(duplicate.status).toBe(400)
    expect((await batch([{ id: { n: 1 }, method: 'GET', url: '/deviceManagement/deviceCategories' }])).status).toBe(400)
  })
})

describe('$filter', () => {
  it('reads mobileApps filters with any parenthesisation, with the same result (2)', async () => {
    const catalog = await all(listUrl(getPolicyType('mobileApp')))
    const intuneCd =
      "(microsoft.graph.managedApp/appAvailability) eq null or (microsoft.graph.managedApp/appAvailability) eq 'lineOfBusiness' or isAssigned eq true"
    const theirs = await all(`/beta/deviceAppManagement/mobileApps?$filter=${encodeURIComponent(intuneCd)}`)
    expect(theirs.map((a) => a.id).sort()).toEqual(catalog.map((a) => a.id).sort())
    // Unassigned store apps (managedApp, available globally) are what the filter leaves out.
    const everything = await all('/beta/deviceAppManagement/mobileApps')
    expect(everything.length).toBe(counts.mobileApp)
    const left = everything.filter((a) => !theirs.some((t) => t.id === a.id))
    expect(left.length).toBeGreaterThan(0)
    for (const app of left) expect(app).toMatchObject({ appAvailability: 'global', isAssigned: false })
  })

  it("filters roleDefinitions on isBuiltIn, and refuses a malformed filter with Graph's 400 (3)", async () => {
    const custom = await all('/beta/deviceManagement/roleDefinitions?$filter=isBuiltIn eq false')
    const everything = await all('/beta/deviceManagement/roleDefinitions')
    expect(custom.length).toBeGreaterThan(0)
    expect(custom.every((r) => r.isBuiltIn === false)).toBe(true)
    expect(custom.length).toBe(everything.filter((r) => r.isBuiltIn === false).length)
    expect(custom.length).toBeLessThan(everything.length)
    expectGraphError(
      await graphGet(emulator, token, '/beta/deviceManagement/roleDefinitions?$filter=isBuiltIn eq (false'),
      400,
      'BadRequest',
    )
    expectGraphError(
      await graphGet(emulator, token, "/beta/deviceManagement/roleDefinitions?$filter=frobnicate(displayName, 'x')"),
      400,
      'BadRequest',
    )
  })

  it('evaluates and/not/startswith and type casts', async () => {
    const rings = await all(listUrl(getPolicyType('windowsUpdateRing')))
    const notRings = await all(listUrl(getPolicyType('deviceConfiguration')))
    expect(rings.length + notRings.length).toBe(counts.windowsUpdateRing! + counts.deviceConfiguration!)
    const first = String(notRings[0]!.displayName)
    const byName = await all(
      `/beta/deviceManagement/deviceConfigurations?$filter=${encodeURIComponent(`startswith(displayName,'${first.replaceAll("'", "''")}') and not isof('microsoft.graph.windowsUpdateForBusinessConfiguration')`)}`,
    )
    expect(byName.map((c) => c.id)).toContain(notRings[0]!.id)
    expect(byName.every((c) => String(c.displayName).startsWith(first))).toBe(true)
  })
})

describe('query options', () => {
  it('tolerates a query string that starts with ?? (4)', async () => {
    const page = await graphGet(
      emulator,
      token,
      '/beta/deviceManagement/notificationMessageTemplates??$expand=localizedNotificationMessages',
    )
    expect(page.status).toBe(200)
    expect(page.body.value!.length).toBeGreaterThan(0)
    for (const t of page.body.value!)
      expect(t.localizedNotificationMessages).toEqual(
        expect.arrayContaining([expect.objectContaining({ locale: 'en-us' })]),
      )
  })

  it('matches $select property names case-insensitively (5)', async () => {
    const page = await graphGet(
      emulator,
      token,
      '/beta/deviceManagement/reusablePolicySettings?$select=settinginstance,displayname',
    )
    expect(page.status).toBe(200)
    for (const item of page.body.value!)
      expect(Object.keys(item).sort()).toEqual(['displayName', 'id', 'settingInstance'])
  })

  it('reads system query options without $ on beta, case-insensitively, and ignores them on v1.0 (13)', async () => {
    expect(
      (await graphGet(emulator, token, '/beta/deviceManagement/deviceConfigurations?top=3')).body.value,
    ).toHaveLength(3)
    expect(
      (await graphGet(emulator, token, '/beta/deviceManagement/deviceConfigurations?$TOP=4')).body.value,
    ).toHaveLength(4)
    expect(
      (await graphGet(emulator, token, '/v1.0/deviceManagement/deviceConfigurations?top=3')).body.value!.length,
    ).toBeGreaterThan(3)
    const named = await graphGet(emulator, token, '/beta/deviceManagement/roleDefinitions?filter=isBuiltIn eq false')
    expect(named.body.value!.every((r) => r.isBuiltIn === false)).toBe(true)
    expectGraphError(
      await graphGet(emulator, token, '/beta/deviceManagement/deviceConfigurations?$top=2&top=3'),
      400,
      'BadRequest',
    )
    // The nextLink keeps the caller's options.
    const first = await graphGet(
      emulator,
      token,
      '/beta/deviceManagement/deviceConfigurations?top=2&select=displayName',
    )
    const second = await graphGet(emulator, token, first.body['@odata.nextLink'] as string)
    expect(second.body.value).toHaveLength(2)
    expect(Object.keys(second.body.value![0]!).sort()).toEqual(['@odata.type', 'displayName', 'id'])
  })
})

describe('$expand on lists', () => {
  it('expands navigation properties on lists, nested options included (6)', async () => {
    const compliance = await all('/beta/deviceManagement/compliancePolicies?$expand=settings')
    expect(compliance.length).toBe(counts.compliancePolicy)
    for (const p of compliance) {
      expect((p.settings as unknown[]).length).toBeGreaterThan(0)
      expect(p['settings@odata.context']).toContain(`compliancePolicies('${String(p.id)}')/settings`)
    }
    const legacy = await all(
      '/beta/deviceManagement/deviceCompliancePolicies?$expand=scheduledActionsForRule($expand=scheduledActionConfigurations)',
    )
    expect(legacy.length).toBe(counts.deviceCompliancePolicy)
    for (const p of legacy)
      expect(p.scheduledActionsForRule).toEqual([
        expect.objectContaining({ ruleName: 'PasswordRequired', scheduledActionConfigurations: expect.any(Array) }),
      ])
    const templates = await all(
      '/beta/deviceManagement/notificationMessageTemplates?$expand=localizedNotificationMessages',
    )
    for (const t of templates) expect((t.localizedNotificationMessages as unknown[]).length).toBeGreaterThan(0)
    expectGraphError(
      await graphGet(emulator, token, '/beta/deviceManagement/deviceCompliancePolicies?$expand=nonsense'),
      400,
      'BadRequest',
    )
    expectGraphError(
      await graphGet(
        emulator,
        token,
        '/beta/deviceManagement/deviceCompliancePolicies?$expand=scheduledActionsForRule($expand=x',
      ),
      400,
      'BadRequest',
    )
  })
})

describe('routes Graph has', () => {
  it('serves compliancePolicies/{id}/scheduledActionsForRule (7)', async () => {
    const [policy] = await all('/beta/deviceManagement/compliancePolicies?$top=1')
    const rules = await graphGet(
      emulator,
      token,
      `/beta/deviceManagement/compliancePolicies/${String(policy!.id)}/scheduledActionsForRule?$expand=scheduledActionConfigurations`,
    )
    expect(rules.status).toBe(200)
    expect(rules.body['@odata.context']).toContain(
      `compliancePolicies('${String(policy!.id)}')/scheduledActionsForRule`,
    )
    expect(rules.body.value).toEqual([
      expect.objectContaining({ scheduledActionConfigurations: [expect.objectContaining({ actionType: 'block' })] }),
    ])
  })

  it('serves a definition value and its presentationValues, 404 for an unknown one (8)', async () => {
    const [policy] = await all('/beta/deviceManagement/groupPolicyConfigurations?$top=1')
    const base = `/beta/deviceManagement/groupPolicyConfigurations/${String(policy!.id)}/definitionValues`
    const values = await all(`${base}?$expand=definition`)
    const withPresentation = values.find((v) => (v.presentationValues as unknown[]).length > 0) ?? values[0]!
    const one = await graphGet(emulator, token, `${base}/${String(withPresentation.id)}`)
    expect(one.status).toBe(200)
    expect(one.body.id).toBe(withPresentation.id)
    const presentations = await graphGet(
      emulator,
      token,
      `${base}/${String(withPresentation.id)}/presentationValues?$expand=presentation`,
    )
    expect(presentations.status).toBe(200)
    expect(presentations.body.value).toHaveLength((withPresentation.presentationValues as unknown[]).length)
    for (const p of presentations.body.value!)
      expect(p.presentation).toEqual(expect.objectContaining({ id: expect.any(String) }))
    expectGraphError(await graphGet(emulator, token, `${base}/nope/presentationValues`), 404, 'ResourceNotFound')
  })

  it('serves deviceManagement/roleAssignments/{id}, 404 for an unknown id (9)', async () => {
    const roles = await all('/beta/deviceManagement/roleDefinitions')
    const assignments: Record<string, unknown>[] = []
    for (const role of roles)
      assignments.push(...(await all(`/beta/deviceManagement/roleDefinitions/${String(role.id)}/roleAssignments`)))
    expect(assignments.length).toBeGreaterThan(0)
    const one = await graphGet(emulator, token, `/beta/deviceManagement/roleAssignments/${String(assignments[0]!.id)}`)
    expect(one.status).toBe(200)
    expect(one.body).toMatchObject({
      id: assignments[0]!.id,
      displayName: assignments[0]!.displayName,
      members: expect.any(Array),
      scopeMembers: expect.any(Array),
    })
    expect((await all('/beta/deviceManagement/roleAssignments')).map((a) => a.id).sort()).toEqual(
      assignments.map((a) => a.id).sort(),
    )
    expectGraphError(
      await graphGet(emulator, token, '/beta/deviceManagement/roleAssignments/00000000-0000-4000-8000-000000000000'),
      404,
      'ResourceNotFound',
    )
  })

  it("lists the collections Graph has beside the catalog's old ones (10)", async () => {
    for (const [path, key] of [
      ['deviceManagement/depOnboardingSettings', 'depOnboardingSetting'],
      ['deviceManagement/complianceManagementPartners', 'complianceManagementPartner'],
      ['identity/conditionalAccess/policies', 'conditionalAccessPolicy'],
      ['deviceManagement/deviceManagementPartners', 'deviceManagementPartner'],
      ['deviceManagement/remoteAssistancePartners', 'remoteAssistancePartner'],
      ['deviceAppManagement/vppTokens', 'vppToken'],
    ] as const) {
      const items = await all(`/beta/${path}`)
      expect(items.length, path).toBe(counts[key])
      const first = await graphGet(emulator, token, `/beta/${path}?$top=1`)
      expect(first.body['@odata.context']).toBe(`${emulator.url}/beta/$metadata#${path}`)
    }
    expect(
      (
        await graphGet(
          emulator,
          token,
          '/beta/deviceManagement/managedDevices?$select=id&$filter=' +
            encodeURIComponent("startsWith(operatingSystem, 'macOS') or startsWith(operatingSystem, 'iOS')"),
        )
      ).body.value,
    ).toEqual([])
    expectGraphError(
      await graphGet(emulator, token, '/beta/deviceManagement/noSuchCollection'),
      404,
      'ResourceNotFound',
    )
  })

  it("serves intent templates, their categories and an intent's settings per category (11)", async () => {
    const templates = await all('/beta/deviceManagement/templates')
    const intents = await all('/beta/deviceManagement/intents')
    const intent = intents[0]!
    const template = templates.find((t) => t.id === intent.templateId)
    expect(template).toBeDefined()
    const categories = await graphGet(
      emulator,
      token,
      `/beta/deviceManagement/templates/${String(template!.id)}/categories`,
    )
    expect(categories.status).toBe(200)
    expect(categories.body['@odata.context']).toContain(String(template!.id))
    const settings: Record<string, unknown>[] = []
    for (const c of categories.body.value!) {
      const page = await graphGet(
        emulator,
        token,
        `/beta/deviceManagement/intents/${String(intent.id)}/categories/${String(c.id)}/settings`,
      )
      expect(page.status).toBe(200)
      expect(page.body['@odata.context']).toContain(String(intent.id))
      settings.push(...page.body.value!)
    }
    const direct = await all(`/beta/deviceManagement/intents/${String(intent.id)}/settings`)
    expect(settings.map((s) => s.id).sort()).toEqual(direct.map((s) => s.id).sort())
    expectGraphError(
      await graphGet(emulator, token, '/beta/deviceManagement/templates/nope/categories'),
      404,
      'ResourceNotFound',
    )
  })

  it('reads an encrypted OMA-URI value in clear through getOmaSettingPlainTextValue, with the ReadWrite permission only', async () => {
    const custom = (await all('/beta/deviceManagement/deviceConfigurations')).find(
      (c) => c['@odata.type'] === '#microsoft.graph.windows10CustomConfiguration',
    )!
    const secret = (custom.omaSettings as Record<string, unknown>[]).find((s) => s.isEncrypted === true)!
    expect(secret.value).toBe('****')
    const fn = (reference: string) =>
      `/beta/deviceManagement/deviceConfigurations/${String(custom.id)}/getOmaSettingPlainTextValue(secretReferenceValueId='${reference}')`
    const clear = await graphGet(emulator, token, fn(String(secret.secretReferenceValueId)))
    expect(clear.status).toBe(200)
    expect(clear.body.value).toEqual(expect.any(String))
    expect(clear.body.value).not.toBe('****')
    expectGraphError(await graphGet(emulator, token, fn('someone-elses')), 404, 'ResourceNotFound')
    const { tenant, secret: clientSecret } = await createTenant(emulator, {
      policies: 1500,
      permissions: ['DeviceManagementConfiguration.Read.All'],
    })
    const readOnly = (await rawToken(emulator, tenant.tenant_id, tenant.client_id, clientSecret)).body
      .access_token as string
    const refused = await graphGet(emulator, readOnly, fn(String(secret.secretReferenceValueId)))
    expectGraphError(refused, 403, 'Forbidden')
    expect(JSON.stringify(refused.body)).toContain('DeviceManagementConfiguration.ReadWrite.All')
  })

  it('gives win32LobApp items displayVersion, null when unset (12)', async () => {
    const win32 = (await all('/beta/deviceAppManagement/mobileApps')).filter(
      (a) => a['@odata.type'] === '#microsoft.graph.win32LobApp',
    )
    expect(win32.length).toBeGreaterThan(0)
    for (const app of win32) expect(app).toHaveProperty('displayVersion')
    expect(
      win32.some((a) => a.displayVersion === null) && win32.some((a) => typeof a.displayVersion === 'string'),
    ).toBe(true)
  })
})

describe('paging of /settings', () => {
  it('honours $top up to 1,000 on configurationPolicies/{id}/settings, 25 a page without it (14)', async () => {
    const policies = await all(listUrl(getPolicyType('settingsCatalogPolicy')))
    let longest = { id: '', count: 0 }
    for (const p of policies) {
      const count = (await all(`/beta/deviceManagement/configurationPolicies/${String(p.id)}/settings`)).length
      if (count > longest.count) longest = { id: String(p.id), count }
    }
    expect(longest.count).toBeGreaterThan(25)
    const base = `/beta/deviceManagement/configurationPolicies/${longest.id}/settings`
    expect((await graphGet(emulator, token, base)).body.value).toHaveLength(25)
    const big = await graphGet(emulator, token, `${base}?$top=1000`)
    expect(big.body.value).toHaveLength(longest.count)
    expect(big.body['@odata.nextLink']).toBeUndefined()
    // IntuneCD's spelling: `?&top=1000`.
    expect((await graphGet(emulator, token, `${base}?&top=1000`)).body.value).toHaveLength(longest.count)
    expectGraphError(await graphGet(emulator, token, `${base}?$top=1001`), 400, 'BadRequest')
  })
})

describe('derived types', () => {
  it('lists targeted managed app configurations under managedAppPolicies too (15)', async () => {
    const policies = await all('/beta/deviceAppManagement/managedAppPolicies')
    const configs = await all('/beta/deviceAppManagement/targetedManagedAppConfigurations')
    expect(configs.length).toBe(counts.targetedManagedAppConfiguration)
    expect(policies.length).toBe(counts.managedAppPolicy! + counts.targetedManagedAppConfiguration!)
    const listed = policies.filter((p) => p['@odata.type'] === '#microsoft.graph.targetedManagedAppConfiguration')
    expect(listed.map((p) => p.id).sort()).toEqual(configs.map((c) => c.id).sort())
    const one = await graphGet(emulator, token, `/beta/deviceAppManagement/managedAppPolicies/${String(listed[0]!.id)}`)
    expect(one.status).toBe(200)
    // The base collection has no assignments: they live under the derived type's own collection.
    expectGraphError(
      await graphGet(
        emulator,
        token,
        `/beta/deviceAppManagement/managedAppPolicies/${String(listed[0]!.id)}?$expand=assignments`,
      ),
      400,
      'BadRequest',
    )
    expect(
      (
        await graphGet(
          emulator,
          token,
          `/beta/deviceAppManagement/targetedManagedAppConfigurations/${String(listed[0]!.id)}?$expand=assignments`,
        )
      ).status,
    ).toBe(200)
  })
})

describe('singletons', () => {
  const SINGLETONS = [
    [
      'deviceManagement/applePushNotificationCertificate',
      'applePushNotificationCertificate',
      'DeviceManagementServiceConfig.Read.All',
    ],
    [
      'deviceManagement/androidManagedStoreAccountEnterpriseSettings',
      'androidManagedStoreAccountEnterpriseSettings',
      'DeviceManagementConfiguration.Read.All',
    ],
    ['deviceManagement/settings', 'deviceManagementSettings', 'DeviceManagementConfiguration.Read.All'],
  ] as const

  it('serves each singleton IntuneCD reads as one object, in the ground truth, 404 once deleted and back when configured again', async () => {
    const { tenant, secret } = await createTenant(emulator, { policies: 100 })
    const own = (await rawToken(emulator, tenant.tenant_id, tenant.client_id, secret)).body.access_token as string
    const truth = async () =>
      (
        await control<{ objects: { type: string; id: string; display_name: string }[] }>(
          emulator,
          'GET',
          `/tenants/${tenant.tenant_id}/inventory`,
        )
      ).body.objects
    for (const [path, key] of SINGLETONS) {
      const got = await graphGet(emulator, own, `/beta/${path}`)
      expect(got.status, path).toBe(200)
      expect(got.body['@odata.context']).toBe(`${emulator.url}/beta/$metadata#${path}`)
      expect(got.body.value, path).toBeUndefined()
      expect(tenant.counts[key]).toBe(1)
      expect((await truth()).filter((o) => o.type === key)).toEqual([
        { type: key, id: key, display_name: expect.any(String) },
      ])
      // $select as on any object.
      const selected = await graphGet(
        emulator,
        own,
        `/beta/${path}?$select=lastModifiedDateTime,deviceComplianceCheckinThresholdDays`,
      )
      expect(Object.keys(selected.body).filter((k) => !k.startsWith('@odata') && k !== 'id').length).toBe(1)
      // Below a singleton there is nothing the emulator models.
      expect((await graphGet(emulator, own, `/beta/${path}/nope`)).status).toBe(404)
      expect((await control(emulator, 'DELETE', `/tenants/${tenant.tenant_id}/items/${key}`)).status).toBe(204)
      expectGraphError(await graphGet(emulator, own, `/beta/${path}`), 404, 'ResourceNotFound')
      expect((await truth()).some((o) => o.type === key)).toBe(false)
      const again = await control<Record<string, unknown>>(emulator, 'POST', `/tenants/${tenant.tenant_id}/items`, {
        type: key,
      })
      expect(again.status).toBe(201)
      expect(again.body.id).toBe(key)
      expect((await control(emulator, 'POST', `/tenants/${tenant.tenant_id}/items`, { type: key })).status).toBe(409)
      expect((await graphGet(emulator, own, `/beta/${path}`)).status).toBe(200)
    }
    // deviceManagementSettings is a complex-type property: Graph gives it no id; the others have one.
    expect((await graphGet(emulator, own, '/beta/deviceManagement/settings')).body).not.toHaveProperty('id')
    expect(
      (await graphGet(emulator, own, '/beta/deviceManagement/applePushNotificationCertificate')).body.appleIdentifier,
    ).toEqual(expect.any(String))
    const patched = await control<Record<string, unknown>>(
      emulator,
      'PATCH',
      `/tenants/${tenant.tenant_id}/items/deviceManagementSettings`,
      { deviceComplianceCheckinThresholdDays: 7 },
    )
    expect(patched.status).toBe(200)
    expect(
      (await graphGet(emulator, own, '/beta/deviceManagement/settings')).body.deviceComplianceCheckinThresholdDays,
    ).toBe(7)
  })

  it('answers 403 naming the permission a singleton needs', async () => {
    for (const [path, , permission] of SINGLETONS) {
      const { tenant, secret } = await createTenant(emulator, { policies: 50, permissions: ['Group.Read.All'] })
      const own = (await rawToken(emulator, tenant.tenant_id, tenant.client_id, secret)).body.access_token as string
      const got = await graphGet(emulator, own, `/beta/${path}`)
      expectGraphError(got, 403, 'Forbidden')
      expect(JSON.stringify(got.body)).toContain(permission)
    }
  })
})
