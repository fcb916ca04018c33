import { describe, expect, it } from 'vitest'
import { control, graphGet, tenantWithToken, useEmulator } from './emulator-helpers.ts'

/**
 * Writes checked as Graph checks them (issue 23): against the published schema of the object's
 * type, references that must exist, read-only properties ignored where Graph ignores them, the
 * actions and status codes Graph has, and `$filter` evaluated or refused, never ignored.
 */

const env = useEmulator()

type Body = Record<string, unknown>
type Answer = { status: number; body: Body & { error?: { code: string; message: string }; value?: Body[] } }
type ContentObject = { type: string; id: string; display_name: string; content: Body }

async function write(token: string, method: string, path: string, body?: unknown): Promise<Answer> {
  const response = await fetch(`${env.emulator.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await response.text()
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as Answer['body'] }
}

async function setUp() {
  const created = await tenantWithToken(env.emulator, { policies: 300 })
  const { body } = await control<{ objects: ContentObject[] }>(
    env.emulator,
    'GET',
    `/tenants/${created.tenant.tenant_id}/inventory?include=content`,
  )
  return { ...created, objects: body.objects }
}

const CONFIGURATIONS = '/beta/deviceManagement/deviceConfigurations'
const GENERAL = { '@odata.type': '#microsoft.graph.windows10GeneralConfiguration', displayName: 'Checked' }

describe('writes checked against the schema of their type', () => {
  it('refuses an unknown property, a wrong type, a value outside the enum and a null where none is allowed, creating nothing', async () => {
    const { token, tenant } = await setUp()
    const cases: [Body, RegExp][] = [
      [
        { ...GENERAL, storageRequireEncryption: true },
        /property 'storageRequireEncryption' does not exist on type 'microsoft.graph.windows10GeneralConfiguration'/,
      ],
      [
        { ...GENERAL, passwordRequired: 'true' },
        /Cannot convert the literal '"true"' to the expected type 'Edm.Boolean'/,
      ],
      [
        { ...GENERAL, passwordRequiredType: 'veryStrong' },
        /"veryStrong" is not valid for the enum type 'microsoft.graph.requiredPasswordType'/,
      ],
      [{ ...GENERAL, passwordRequired: null }, /null value was found for the property named 'passwordRequired'/],
      [{ '@odata.type': '#microsoft.graph.notAType', displayName: 'x' }, /could not be resolved/],
      [
        { '@odata.type': '#microsoft.graph.iosCompliancePolicy', displayName: 'x' },
        /not compatible with the expected type 'microsoft.graph.deviceConfiguration'/,
      ],
      [
        { ...GENERAL, defenderDetectedMalwareActions: { lowSeverity: 'explode' } },
        /"explode" is not valid for the enum type/,
      ],
    ]
    for (const [body, message] of cases) {
      const refused = await write(token, 'POST', CONFIGURATIONS, body)
      expect(refused.status, JSON.stringify(body)).toBe(400)
      expect(refused.body.error).toMatchObject({ code: 'BadRequest', message: expect.stringMatching(message) })
    }
    const { body } = await control<{ objects: ContentObject[] }>(
      env.emulator,
      'GET',
      `/tenants/${tenant.tenant_id}/inventory`,
    )
    expect(body.objects.filter((o) => o.display_name === 'Checked' || o.display_name === 'x')).toEqual([])
  })

  it('ignores read-only properties in a create and an update, as Graph does (issue 23, item 9)', async () => {
    const { token } = await setUp()
    const base = '/beta/deviceManagement/configurationPolicies'
    const setting = {
      settingInstance: {
        '@odata.type': '#microsoft.graph.deviceManagementConfigurationChoiceSettingInstance',
        settingDefinitionId: 'device_vendor_msft_policy_config_setting_1',
        choiceSettingValue: { value: 'device_vendor_msft_policy_config_setting_1_0', children: [] },
      },
    }
    const created = await write(token, 'POST', base, {
      name: 'From IntuneCD',
      platforms: 'windows10',
      technologies: 'mdm',
      settingCount: 40,
      createdDateTime: '2020-01-01T00:00:00Z',
      id: 'mine',
      isAssigned: true,
      settings: [setting],
    })
    expect(created.status, JSON.stringify(created.body)).toBe(201)
    expect(created.body).toMatchObject({
      name: 'From IntuneCD',
      settingCount: 1,
      isAssigned: false,
      creationSource: null,
    })
    expect(created.body.id).not.toBe('mine')
    expect(created.body.createdDateTime).not.toBe('2020-01-01T00:00:00Z')
    const path = `${base}/${String(created.body.id)}`
    expect((await write(token, 'PATCH', path, { description: 'changed', settingCount: 99 })).status).toBe(204)
    expect((await graphGet(env.emulator, token, path)).body).toMatchObject({ description: 'changed', settingCount: 1 })
  })

  it('refuses a group assignment target without a group, and assignments unlike their schema (item 5)', async () => {
    const { token, objects } = await setUp()
    const policy = objects.find((o) => o.type === 'settingsCatalogPolicy')!
    const assign = `/beta/deviceManagement/configurationPolicies/${policy.id}/assign`
    const group = objects.find((o) => o.type === 'group')!.id
    const target = (extra: Body) => ({
      assignments: [{ target: { '@odata.type': '#microsoft.graph.groupAssignmentTarget', ...extra } }],
    })
    const refusals = [
      target({}),
      target({ groupId: '' }),
      target({ groupId: group, deviceAndAppManagementAssignmentFilterType: 'sometimes' }),
      target({ groupId: group, colour: 'red' }),
      { assignments: [{ intent: 'apply', target: { '@odata.type': '#microsoft.graph.allDevicesAssignmentTarget' } }] },
    ]
    for (const body of refusals) {
      const refused = await write(token, 'POST', assign, body)
      expect(refused.status, JSON.stringify(body)).toBe(400)
      expect(refused.body.error?.code).toBe('BadRequest')
    }
    const before = await graphGet(
      env.emulator,
      token,
      `/beta/deviceManagement/configurationPolicies/${policy.id}/assignments`,
    )
    expect(before.body.value).toEqual(policy.content.assignments)
    const accepted = await write(token, 'POST', assign, target({ groupId: group }))
    expect(accepted.status).toBe(200)
    expect(accepted.body['@odata.context']).toMatch(
      /Collection\(microsoft\.graph\.deviceManagementConfigurationPolicyAssignment\)$/,
    )
  })
})

describe('references the tenant does not have', () => {
  it('refuses an assignment to a group it never had, a group deleted since, or a filter it does not have; takes real ones', async () => {
    const { token, objects, tenant } = await setUp()
    const policy = objects.find((o) => o.type === 'settingsCatalogPolicy')!
    const assign = `/beta/deviceManagement/configurationPolicies/${policy.id}/assign`
    const group = objects.find((o) => o.type === 'group')!.id
    const filter = objects.find((o) => o.type === 'assignmentFilter')!.id
    // The generated tenant's deleted group: still named by old assignments, no longer in the directory.
    const deleted = objects
      .flatMap((o) => (o.content.assignments ?? []) as Body[])
      .map((a) => (a.target as Body).groupId)
      .find((g) => typeof g === 'string' && env.emulator.tenant(tenant.tenant_id)!.group(g) === 'deleted') as string
    expect(deleted).toBeDefined()
    expect((await graphGet(env.emulator, token, `/beta/groups/${deleted}`)).status).toBe(404)
    const target = (extra: Body) => ({
      assignments: [{ target: { '@odata.type': '#microsoft.graph.groupAssignmentTarget', ...extra } }],
    })
    for (const groupId of ['00000000-1111-4222-8333-444444444444', deleted]) {
      const refused = await write(token, 'POST', assign, target({ groupId }))
      expect(refused.status, groupId).toBe(400)
      expect(refused.body.error?.code).toBe('BadRequest')
      expect(refused.body.error?.message).toContain(
        `Invalid GroupId : ${groupId} provided, a valid AADGroupId is expected.`,
      )
    }
    const unknownFilter = await write(
      token,
      'POST',
      assign,
      target({
        groupId: group,
        deviceAndAppManagementAssignmentFilterId: '00000000-1111-4222-8333-555555555555',
        deviceAndAppManagementAssignmentFilterType: 'include',
      }),
    )
    expect(unknownFilter.status).toBe(400)
    expect(unknownFilter.body.error?.message).toContain('Invalid AssignmentFilterId')
    // The refusals changed nothing; a real group and filter are taken.
    const unchanged = await graphGet(
      env.emulator,
      token,
      `/beta/deviceManagement/configurationPolicies/${policy.id}/assignments`,
    )
    expect(unchanged.body.value).toEqual(policy.content.assignments)
    const accepted = await write(
      token,
      'POST',
      assign,
      target({
        groupId: group,
        deviceAndAppManagementAssignmentFilterId: filter,
        deviceAndAppManagementAssignmentFilterType: 'include',
      }),
    )
    expect(accepted.status).toBe(200)
    // One assignment added through {id}/assignments is checked the same way.
    const script = objects.find((o) => o.type === 'windowsAutopilotDeploymentProfile')!
    const added = await write(
      token,
      'POST',
      `/beta/deviceManagement/windowsAutopilotDeploymentProfiles/${script.id}/assignments`,
      { target: { '@odata.type': '#microsoft.graph.groupAssignmentTarget', groupId: deleted } },
    )
    expect(added.status).toBe(400)
  })

  it('refuses a scope tag the tenant does not have, in a create, an update and a policy set; takes Default and real ones', async () => {
    const { token, objects } = await setUp()
    const tag = objects.find((o) => o.type === 'roleScopeTag' && o.id !== '0')!.id
    const deletedTag = (await write(token, 'POST', '/beta/deviceManagement/roleScopeTags', { displayName: 'Gone' }))
      .body.id as string
    expect((await write(token, 'DELETE', `/beta/deviceManagement/roleScopeTags/${deletedTag}`)).status).toBe(204)
    for (const ids of [['0', '987654'], [deletedTag], ['2,3']]) {
      const refused = await write(token, 'POST', CONFIGURATIONS, { ...GENERAL, roleScopeTagIds: ids })
      expect(refused.status, ids.join()).toBe(400)
      expect(refused.body.error?.code).toBe('BadRequest')
      expect(refused.body.error?.message).toContain(
        `Invalid Role Scope Tag defined ${ids.filter((i) => i !== '0').join()}`,
      )
    }
    const created = await write(token, 'POST', CONFIGURATIONS, { ...GENERAL, roleScopeTagIds: ['0', tag] })
    expect(created.status).toBe(201)
    expect(created.body.roleScopeTagIds).toEqual(['0', tag])
    const id = created.body.id as string
    const update = await write(token, 'PATCH', `${CONFIGURATIONS}/${id}`, {
      '@odata.type': GENERAL['@odata.type'],
      roleScopeTagIds: ['0', '424242'],
    })
    expect(update.status).toBe(400)
    expect(update.body.error?.message).toContain('Invalid Role Scope Tag defined 424242')
    expect((await graphGet(env.emulator, token, `${CONFIGURATIONS}/${id}`)).body.roleScopeTagIds).not.toContain(
      '424242',
    )
    const set = await write(token, 'POST', '/beta/deviceAppManagement/policySets', {
      displayName: 'Tagged set',
      roleScopeTags: ['777'],
    })
    expect(set.status).toBe(400)
    expect(set.body.error?.message).toContain('Invalid Role Scope Tag defined 777')
  })
})

describe('actions, casts and status codes as Graph has them', () => {
  it('PATCH answers 200 with the object where Graph documents it, 204 elsewhere (IntuneCD update pass)', async () => {
    const { token, objects } = await setUp()
    const filter = objects.find((o) => o.type === 'assignmentFilter')!
    const patched = await write(token, 'PATCH', `/beta/deviceManagement/assignmentFilters/${filter.id}`, {
      displayName: 'Renamed filter',
    })
    expect(patched.status).toBe(200)
    expect(patched.body).toMatchObject({ id: filter.id, displayName: 'Renamed filter' })
    expect(patched.body['@odata.context']).toMatch(/\$metadata#deviceManagement\/assignmentFilters\/\$entity$/)
    const config = objects.find((o) => o.type === 'deviceConfiguration')!
    const configPatched = await write(token, 'PATCH', `${CONFIGURATIONS}/${config.id}`, {
      '@odata.type': config.content['@odata.type'],
      displayName: 'Renamed profile',
    })
    expect(configPatched).toEqual({ status: 204, body: {} })
    const role = await write(token, 'POST', '/beta/deviceManagement/roleDefinitions', {
      '@odata.type': '#microsoft.graph.deviceAndAppManagementRoleDefinition',
      displayName: 'Helpdesk North',
      rolePermissions: [],
    })
    expect(role.status, JSON.stringify(role.body)).toBe(200)
  })

  it('creates a notification template’s localized message and an intent from its template (createInstance)', async () => {
    const { token } = await setUp()
    const template = await write(token, 'POST', '/beta/deviceManagement/notificationMessageTemplates', {
      displayName: 'Notice North',
      brandingOptions: 'includeCompanyLogo',
    })
    const messages = `/beta/deviceManagement/notificationMessageTemplates/${String(template.body.id)}/localizedNotificationMessages`
    const message = { locale: 'en-us', subject: 'Not compliant', messageTemplate: 'Please update.', isDefault: true }
    const created = await write(token, 'POST', messages, message)
    expect(created.status, JSON.stringify(created.body)).toBe(200)
    expect(created.body).toMatchObject(message)
    expect((await write(token, 'POST', messages, message)).status).toBe(409)
    expect((await write(token, 'POST', messages, { ...message, locale: 'de-de', colour: 'red' })).status).toBe(400)
    const read = await graphGet(env.emulator, token, `${messages}`)
    expect(read.body.value).toEqual([expect.objectContaining(message)])
    const after = await graphGet(
      env.emulator,
      token,
      `/beta/deviceManagement/notificationMessageTemplates/${String(template.body.id)}`,
    )
    expect(after.body.defaultLocale).toBe('en-us')

    const templates = await graphGet(env.emulator, token, '/beta/deviceManagement/templates')
    const intentTemplate = (templates.body.value as Body[])[0]!
    const createInstance = `/beta/deviceManagement/templates/${String(intentTemplate.id)}/createInstance`
    const setting = {
      '@odata.type': '#microsoft.graph.deviceManagementBooleanSettingInstance',
      definitionId: 'deviceConfiguration--windows10EndpointProtectionConfiguration_firewallBlockStatefulFTP',
      valueJson: 'true',
      value: true,
    }
    const intent = await write(token, 'POST', createInstance, {
      displayName: 'Firewall North',
      description: '',
      settingsDelta: [setting],
      roleScopeTagIds: ['0'],
    })
    expect(intent.status, JSON.stringify(intent.body)).toBe(200)
    expect(intent.body).toMatchObject({ displayName: 'Firewall North', templateId: intentTemplate.id })
    const settings = await graphGet(
      env.emulator,
      token,
      `/beta/deviceManagement/intents/${String(intent.body.id)}/settings`,
    )
    expect(settings.body.value).toEqual([expect.objectContaining(setting)])
    // OData refuses a parameter the action does not declare.
    const extra = await write(token, 'POST', createInstance, { displayName: 'X', settingsDelta: [], assignments: [] })
    expect(extra.status).toBe(400)
    expect(extra.body.error?.message).toContain(`The parameter 'assignments'`)
    expect((await write(token, 'POST', '/beta/deviceManagement/templates/nope/createInstance', {})).status).toBe(404)
  })

  it('setScheduledActions on settings catalog compliance policies (item 10)', async () => {
    const { token, objects } = await setUp()
    const policy = objects.find((o) => o.type === 'compliancePolicy')!
    const path = `/beta/deviceManagement/compliancePolicies/${policy.id}`
    const scheduledActions = [
      {
        ruleName: null,
        scheduledActionConfigurations: [
          { actionType: 'block', gracePeriodHours: 12, notificationTemplateId: '', notificationMessageCCList: [] },
        ],
      },
    ]
    const answer = await write(token, 'POST', `${path}/setScheduledActions`, { scheduledActions })
    expect(answer.status, JSON.stringify(answer.body)).toBe(200)
    expect(answer.body['@odata.context']).toMatch(
      /Collection\(microsoft\.graph\.deviceManagementComplianceScheduledActionForRule\)$/,
    )
    const read = await graphGet(
      env.emulator,
      token,
      `${path}/scheduledActionsForRule?$expand=scheduledActionConfigurations`,
    )
    expect(read.body.value![0]!.scheduledActionConfigurations).toEqual([
      expect.objectContaining({ actionType: 'block', gracePeriodHours: 12 }),
    ])
    const noBlock = await write(token, 'POST', `${path}/setScheduledActions`, {
      scheduledActions: [{ scheduledActionConfigurations: [] }],
    })
    expect(noBlock.status).toBe(400)
  })

  it('takes a type-cast segment to the entity’s own type or a base type, refuses another (item 11)', async () => {
    const { token, objects } = await setUp()
    const config = objects.find((o) => o.type === 'mobileAppConfiguration')!
    const group = objects.find((o) => o.type === 'group')!.id
    const base = `/beta/deviceAppManagement/mobileAppConfigurations/${config.id}`
    const body = {
      assignments: [{ target: { '@odata.type': '#microsoft.graph.groupAssignmentTarget', groupId: group } }],
    }
    expect(
      (await write(token, 'POST', `${base}/microsoft.graph.managedDeviceMobileAppConfiguration/assign`, body)).status,
    ).toBe(200)
    expect(
      (await graphGet(env.emulator, token, `${base}/microsoft.graph.managedDeviceMobileAppConfiguration/assignments`))
        .body.value,
    ).toHaveLength(1)
    expect(
      (await write(token, 'POST', `${base}/microsoft.graph.windows10GeneralConfiguration/assign`, body)).status,
    ).toBe(400)
  })

  it('creates an Administrative templates profile without inline definition values; updateDefinitionValues adds them (item 12)', async () => {
    const { token } = await setUp()
    const base = '/beta/deviceManagement/groupPolicyConfigurations'
    const value = {
      enabled: true,
      'definition@odata.bind': "https://graph.microsoft.com/beta/deviceManagement/groupPolicyDefinitions('def-7')",
      presentationValues: [],
    }
    const created = await write(token, 'POST', base, {
      displayName: 'ADMX from IntuneCD',
      definitionValues: [{ ...value, definition: { id: 'def-7' } }],
    })
    expect(created.status).toBe(201)
    const path = `${base}/${String(created.body.id)}`
    expect((await graphGet(env.emulator, token, `${path}/definitionValues`)).body.value).toEqual([])
    expect(
      (await write(token, 'POST', `${path}/updateDefinitionValues`, { added: [value], updated: [], deletedIds: [] }))
        .status,
    ).toBe(204)
    expect((await graphGet(env.emulator, token, `${path}/definitionValues?$expand=definition`)).body.value).toEqual([
      expect.objectContaining({ enabled: true, definition: expect.objectContaining({ id: 'def-7' }) }),
    ])
  })

  it('answers creates and assigns with Graph’s status codes (item 13)', async () => {
    const { token, objects } = await setUp()
    expect(
      (
        await write(token, 'POST', '/beta/deviceManagement/roleScopeTags', {
          displayName: 'Region North',
          description: '',
        })
      ).status,
    ).toBe(200)
    expect(
      (
        await write(token, 'POST', '/beta/deviceManagement/notificationMessageTemplates', {
          displayName: 'Notice',
          brandingOptions: 'includeCompanyLogo',
        })
      ).status,
    ).toBe(200)
    expect(
      (
        await write(token, 'POST', '/beta/deviceManagement/assignmentFilters', {
          displayName: 'Dell',
          platform: 'windows10AndLater',
          rule: '(device.manufacturer -eq "Dell")',
        })
      ).status,
    ).toBe(201)
    const group = objects.find((o) => o.type === 'group')!.id
    const body = {
      assignments: [{ target: { '@odata.type': '#microsoft.graph.groupAssignmentTarget', groupId: group } }],
    }
    const config = objects.find((o) => o.type === 'targetedManagedAppConfiguration')!
    const assigned = await write(
      token,
      'POST',
      `/beta/deviceAppManagement/targetedManagedAppConfigurations/${config.id}/assign`,
      body,
    )
    expect(assigned).toEqual({ status: 204, body: {} })
  })
})

describe('$filter', () => {
  it('finds a group by displayName and refuses what it cannot evaluate, never returning every group (item 8)', async () => {
    const { token } = await setUp()
    const all = await graphGet(env.emulator, token, '/v1.0/groups?$top=999')
    const wanted = all.body.value![5]!
    const found = await graphGet(
      env.emulator,
      token,
      `/v1.0/groups?$filter=${encodeURIComponent(`displayName eq '${String(wanted.displayName)}'`)}`,
    )
    expect(found.status).toBe(200)
    expect(found.body.value).toEqual([wanted])
    const none = await graphGet(
      env.emulator,
      token,
      `/v1.0/groups?$filter=${encodeURIComponent("displayName eq 'No such group'")}`,
    )
    expect(none.body.value).toEqual([])
    const prefix = await graphGet(
      env.emulator,
      token,
      `/v1.0/groups?$filter=${encodeURIComponent("startswith(displayName,'SG-Intune-Finance')")}`,
    )
    expect(prefix.body.value!.length).toBeGreaterThan(0)
    expect(prefix.body.value!.every((g) => String(g.displayName).startsWith('SG-Intune-Finance'))).toBe(true)
    for (const filter of ["shoeSize eq 'x'", "displayName eq 'x' and", "groupTypes/any(c:c eq 'Unified')"]) {
      const refused = await graphGet(env.emulator, token, `/v1.0/groups?$filter=${encodeURIComponent(filter)}`)
      expect(refused.status, filter).toBe(400)
    }
  })

  it('refuses a filter on a property no type of the collection has, and evaluates one on a derived type’s property', async () => {
    const { token } = await setUp()
    const refused = await graphGet(
      env.emulator,
      token,
      `${CONFIGURATIONS}?$filter=${encodeURIComponent('shoeSize eq 3')}`,
    )
    expect(refused.status).toBe(400)
    const derived = await graphGet(
      env.emulator,
      token,
      `${CONFIGURATIONS}?$filter=${encodeURIComponent('passcodeRequired eq true')}`,
    )
    expect(derived.status).toBe(200)
    expect(
      derived.body.value!.every(
        (c) => c['@odata.type'] === '#microsoft.graph.iosGeneralDeviceConfiguration' && c.passcodeRequired === true,
      ),
    ).toBe(true)
  })
})
