import { describe, expect, it } from 'vitest'
import { itemCollection, POLICY_TYPES } from '../../src/graph/policy-types.ts'
import { control, graphGet, tenantWithToken as withToken, useEmulator } from './emulator-helpers.ts'

const env = useEmulator()

type Body = Record<string, unknown>
type ContentObject = { type: string; id: string; display_name: string; content: Body }

const tenantWithToken = (body: Record<string, unknown> = {}) => withToken(env.emulator, { policies: 300, ...body })

async function write(token: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${env.emulator.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await response.text()
  return {
    status: response.status,
    headers: response.headers,
    body: (text ? JSON.parse(text) : null) as Body & { error?: { code: string; message: string; innerError: Body } },
  }
}

async function contents(tenantId: string): Promise<ContentObject[]> {
  const { status, body } = await control<{ objects: ContentObject[] }>(
    env.emulator,
    'GET',
    `/tenants/${tenantId}/inventory?include=content`,
  )
  expect(status).toBe(200)
  return body.objects
}

async function auditOf(token: string, resourceId: string) {
  const events = await graphGet(env.emulator, token, `/beta/deviceManagement/auditEvents?$top=999`)
  return (
    events.body.value as {
      activityOperationType: string
      activityType: string
      actor: Body
      resources: { resourceId: string }[]
    }[]
  ).filter((e) => e.resources[0]!.resourceId === resourceId)
}

/** Types whose PATCH Graph answers with 200 and the updated object (their update pages; IntuneCD expects it). */
const PATCHED_WITH_200 = [
  'groupPolicyConfiguration',
  'deviceManagementScript',
  'deviceHealthScript',
  'deviceShellScript',
  'deviceCustomAttributeShellScript',
  'deviceComplianceScript',
  'windowsAutopilotDeploymentProfile',
  'deviceEnrollmentConfiguration',
  'windowsFeatureUpdateProfile',
  'windowsQualityUpdateProfile',
  'windowsDriverUpdateProfile',
  'roleScopeTag',
  'assignmentFilter',
  'notificationMessageTemplate',
  'roleDefinition',
  'deviceCategory',
]

/** What Graph documents as set by the service, stripped before writing an object back. */
const SERVER_SET = [
  'id',
  'createdDateTime',
  'lastModifiedDateTime',
  'modifiedDateTime',
  'version',
  'settingCount',
  'isAssigned',
  'deployedAppCount',
  'supportsScopeTags',
  'creationSource',
  'referencingConfigurationPolicyCount',
  'isGlobalScript',
  'assignments',
]

function writable(content: Body): Body {
  return Object.fromEntries(Object.entries(content).filter(([k]) => !SERVER_SET.includes(k)))
}

/** Content without ids and server-set values, to compare an object with its re-creation. */
function comparable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(comparable)
  if (typeof value !== 'object' || value === null) return value
  return Object.fromEntries(
    Object.entries(value)
      .filter(([k]) => !SERVER_SET.includes(k) || k === 'assignments')
      .map(([k, v]) => [k, comparable(v)]),
  )
}

describe('Graph writes for every catalog type', () => {
  it('re-creates each type from its full read, then updates and deletes it, each write audited with the app as actor', async () => {
    const { tenant, token } = await tenantWithToken({ app_name: 'Restore robot' })
    await control(env.emulator, 'PUT', '/faults', { throttle_scale: 10 })
    const originals = await contents(tenant.tenant_id)
    // Singletons are only ever PATCHed (below).
    const types = POLICY_TYPES.filter((e) => e.listable && !e.singleton)
    const covered: string[] = []
    for (const entry of types) {
      // An object whose secrets (if any) Graph would let a create carry: not a masked one.
      const original = originals.find(
        (o) => o.type === entry.key && !JSON.stringify(o.content).includes('secretReferenceValueId'),
      )
      if (!original) continue
      covered.push(entry.key)
      const path = `/beta/${itemCollection(entry, original.content)}`
      const created = await write(token, 'POST', path, writable(original.content))
      // Graph answers some creates with 200 (scope tags, notification templates: IntuneCD #178; role
      // definitions, from the same role administration service).
      const createdStatus = ['roleScopeTag', 'notificationMessageTemplate', 'roleDefinition'].includes(entry.key)
        ? 200
        : 201
      expect(created.status, `${entry.key}: ${JSON.stringify(created.body)}`).toBe(createdStatus)
      expect(created.body['@odata.context']).toContain('$metadata#')
      const id = String(created.body.id)
      expect(id).not.toBe(original.id)

      const after = (await contents(tenant.tenant_id)).find((o) => o.id === id)
      expect(after?.type, entry.key).toBe(entry.key)
      // Graph creates Administrative templates without their values (they are added by updateDefinitionValues).
      const uncreated = entry.key === 'groupPolicyConfiguration' ? { definitionValues: [] } : {}
      const expected = { ...original.content, ...(entry.assignments === null ? {} : { assignments: [] }), ...uncreated }
      expect(comparable(after!.content), entry.key).toEqual(comparable(expected))

      const read = await graphGet(env.emulator, token, `${path}/${id}`)
      const renamed = await write(token, 'PATCH', `${path}/${id}`, {
        [entry.nameProperty]: `${original.display_name} (renamed)`,
      })
      // PATCH answers 200 with the object where the type's update page documents it and IntuneCD
      // expects it; 204 without a body elsewhere (issue 23's IntuneCD update pass).
      const patchedWith200 = PATCHED_WITH_200.includes(entry.key)
      expect(renamed.status, `${entry.key}: ${JSON.stringify(renamed.body)}`).toBe(patchedWith200 ? 200 : 204)
      if (patchedWith200) {
        expect(renamed.body[entry.nameProperty]).toBe(`${original.display_name} (renamed)`)
        expect(renamed.body['@odata.context']).toContain(`$metadata#${entry.path}/$entity`)
      }
      const reread = await graphGet(env.emulator, token, `${path}/${id}`)
      expect(reread.body[entry.nameProperty]).toBe(`${original.display_name} (renamed)`)
      for (const stamp of ['lastModifiedDateTime', 'modifiedDateTime'].filter((p) => p in original.content)) {
        expect(String(reread.body[stamp]) > String(read.body[stamp]), `${entry.key} ${stamp} moves`).toBe(true)
      }
      expect(Object.keys(reread.body).sort(), `${entry.key} gains no property`).toEqual(Object.keys(read.body).sort())
      if (typeof read.body.version === 'number') expect(reread.body.version).toBe(read.body.version + 1)
      if (typeof read.body.version === 'string') expect(reread.body.version).toBe(String(Number(read.body.version) + 1))

      expect((await write(token, 'DELETE', `${path}/${id}`)).status).toBe(204)
      expect((await graphGet(env.emulator, token, `${path}/${id}`)).status).toBe(404)
      const events = await auditOf(token, id)
      expect(
        events.map((e) => e.activityOperationType),
        entry.key,
      ).toEqual(['Create', 'Patch', 'Delete'])
      for (const e of events)
        expect(e.actor).toMatchObject({
          type: 'Application',
          applicationId: tenant.client_id,
          applicationDisplayName: 'Restore robot',
          userPrincipalName: null,
        })
    }
    // This tenant has an object of every listable type the sync mirrors.
    expect(covered).toEqual(types.map((e) => e.key))
  })

  it('changes a singleton with PATCH only (Graph neither creates nor deletes one), audited, and refuses what it cannot set', async () => {
    const { token } = await tenantWithToken({ app_name: 'Restore robot' })
    const settings = '/beta/deviceManagement/settings'
    expect(
      (await write(token, 'PATCH', settings, { deviceComplianceCheckinThresholdDays: 12, secureByDefault: true }))
        .status,
    ).toBe(204)
    expect((await graphGet(env.emulator, token, settings)).body).toMatchObject({
      deviceComplianceCheckinThresholdDays: 12,
      secureByDefault: true,
    })
    const events = await auditOf(token, 'deviceManagementSettings')
    expect(events.map((e) => e.activityOperationType)).toEqual(['Patch'])
    expect(events[0]!.actor).toMatchObject({ applicationDisplayName: 'Restore robot' })
    const apns = '/beta/deviceManagement/applePushNotificationCertificate'
    const before = (await graphGet(env.emulator, token, apns)).body
    expect((await write(token, 'PATCH', apns, { appleIdentifier: 'new@contoso.com' })).status).toBe(204)
    const after = (await graphGet(env.emulator, token, apns)).body
    expect(after.appleIdentifier).toBe('new@contoso.com')
    expect(String(after.lastModifiedDateTime) > String(before.lastModifiedDateTime)).toBe(true)
    for (const [body, message] of [
      [{ id: 'x' }, /'id' is read-only/],
      [{ noSuchProperty: 1 }, /'noSuchProperty' does not exist/],
      [[1], /JSON object/],
    ] as const) {
      const refused = await write(token, 'PATCH', settings, body)
      expect(refused.status).toBe(400)
      expect(refused.body.error?.message).toMatch(message)
    }
    expect((await write(token, 'POST', settings, { secureByDefault: false })).status).toBe(405)
    expect((await write(token, 'DELETE', apns)).status).toBe(405)
    const { token: readOnly } = await tenantWithToken({ permissions: ['DeviceManagementConfiguration.Read.All'] })
    const refused = await write(readOnly, 'PATCH', settings, { secureByDefault: false })
    expect(refused.status).toBe(403)
    expect(refused.body.error?.message).toContain('DeviceManagementConfiguration.ReadWrite.All')
  })
})

describe('Graph write validation', () => {
  it('refuses unknown properties, navigation properties in PATCH, abstract types and missing names, changing nothing', async () => {
    const { tenant, token } = await tenantWithToken()
    const base = '/beta/deviceManagement/deviceConfigurations'
    const body = { '@odata.type': '#microsoft.graph.windows10GeneralConfiguration', displayName: 'Kiosk lock' }
    const unknown = await write(token, 'POST', base, { ...body, passcodeRequired: true })
    expect(unknown.status).toBe(400)
    expect(unknown.body.error).toMatchObject({
      code: 'BadRequest',
      message: expect.stringContaining(
        `The property 'passcodeRequired' does not exist on type 'microsoft.graph.windows10GeneralConfiguration'`,
      ),
      innerError: { 'request-id': expect.any(String), date: expect.any(String) },
    })
    expect((await write(token, 'POST', base, { displayName: 'No type' })).body.error?.message).toMatch(/abstract type/)
    expect(
      (await write(token, 'POST', base, { '@odata.type': '#microsoft.graph.windows10GeneralConfiguration' })).body.error
        ?.message,
    ).toBe(`The property 'displayName' is required.`)
    // Instance annotations are ignored, as Graph does.
    const created = await write(token, 'POST', base, {
      ...body,
      '@odata.context': 'x',
      'assignments@odata.context': 'y',
    })
    expect(created.status).toBe(201)
    const id = String(created.body.id)
    const patchUnknown = await write(token, 'PATCH', `${base}/${id}`, { cameraBlocked: 'yes' })
    expect(patchUnknown.status).toBe(400)
    expect(patchUnknown.body.error?.message).toContain(
      `Cannot convert the literal '"yes"' to the expected type 'Edm.Boolean'`,
    )
    const patchAssignments = await write(token, 'PATCH', `${base}/${id}`, { assignments: [] })
    expect(patchAssignments.body.error?.message).toMatch(/assign action/)
    const otherType = await write(token, 'PATCH', `${base}/${id}`, {
      '@odata.type': '#microsoft.graph.iosGeneralDeviceConfiguration',
      displayName: 'x',
    })
    expect(otherType.status).toBe(400)
    expect((await write(token, 'PUT', `${base}/${id}`, body)).body.error?.code).toBe('No method match route template')
    expect(
      (await write(token, 'PATCH', `${base}/00000000-0000-4000-8000-000000000000`, { displayName: 'x' })).status,
    ).toBe(404)
    expect((await write(token, 'POST', `${base}/${id}/frobnicate`, {})).status).toBe(400)
    const events = await auditOf(token, id)
    expect(events.map((e) => e.activityOperationType)).toEqual(['Create'])
    const read = await graphGet(env.emulator, token, `${base}/${id}`)
    expect(read.body).toMatchObject({
      displayName: 'Kiosk lock',
      version: 1,
      '@odata.type': '#microsoft.graph.windows10GeneralConfiguration',
    })
    expect(Object.keys(read.body)).not.toContain('assignments@odata.context')
    void tenant
  })

  it('handles secrets as Graph does: a masked value with its reference only on the same object, clear values stored encrypted', async () => {
    const { tenant, token } = await tenantWithToken()
    const base = '/beta/deviceManagement/deviceConfigurations'
    const custom = (await contents(tenant.tenant_id)).find(
      (o) => o.content['@odata.type'] === '#microsoft.graph.windows10CustomConfiguration',
    )!
    const settings = custom.content.omaSettings as Body[]
    const encrypted = settings.find((s) => s.isEncrypted === true)!
    expect(encrypted).toMatchObject({
      value: '****',
      secretReferenceValueId: expect.stringMatching(new RegExp(`^${custom.id}_`)),
    })

    // A create cannot carry another object's secret reference (Intune's NotSupported).
    const copy = await write(token, 'POST', base, writable(custom.content))
    expect(copy.status).toBe(400)
    expect(copy.body.error?.code).toBe('NotSupported')
    expect(copy.body.error?.message).toContain('SecretReferenceValueId invalid for create.')
    // A mask without its reference is refused, wherever it is.
    const bare = await write(token, 'POST', base, {
      '@odata.type': '#microsoft.graph.windows10CustomConfiguration',
      displayName: 'OMA with a mask',
      omaSettings: [{ ...encrypted, secretReferenceValueId: undefined }],
    })
    expect(bare.status).toBe(400)
    expect(bare.body.error?.message).toContain(`'omaSettings[0].value' is a masked secret`)

    // The same object takes its own masked secrets back (the secret is kept)…
    const kept = await write(token, 'PATCH', `${base}/${custom.id}`, {
      displayName: 'Renamed custom',
      omaSettings: settings,
    })
    expect(kept.status).toBe(204)
    expect(
      ((await graphGet(env.emulator, token, `${base}/${custom.id}`)).body.omaSettings as Body[]).find(
        (s) => s.isEncrypted,
      ),
    ).toEqual(encrypted)
    // …but not another object's.
    // (Another custom profile: other profile types have no omaSettings at all.)
    const other = (await contents(tenant.tenant_id)).find(
      (o) => o.content['@odata.type'] === custom.content['@odata.type'] && o.id !== custom.id,
    )!
    const foreign = await write(token, 'PATCH', `${base}/${other.id}`, { omaSettings: settings })
    expect(foreign.body.error?.code).toBe('NotSupported')

    // A secret written in clear reads back masked, with a new reference.
    const created = await write(token, 'POST', base, {
      '@odata.type': '#microsoft.graph.windows10CustomConfiguration',
      displayName: 'OMA with a secret',
      omaSettings: [
        {
          '@odata.type': '#microsoft.graph.omaSettingString',
          displayName: 'Key',
          omaUri: './Vendor/MSFT/x',
          value: 'correct horse',
          isEncrypted: true,
        },
      ],
    })
    expect(created.status).toBe(201)
    const read = await graphGet(env.emulator, token, `${base}/${String(created.body.id)}`)
    expect(read.body.omaSettings).toEqual([
      expect.objectContaining({
        value: '****',
        isEncrypted: true,
        secretReferenceValueId: expect.stringMatching(new RegExp(`^${String(created.body.id)}_`)),
      }),
    ])
    expect(JSON.stringify(read.body)).not.toContain('correct horse')
    // Only getOmaSettingPlainTextValue gives the clear value back (issue 17: IntuneCD reads it).
    const reference = String((read.body.omaSettings as Body[])[0]!.secretReferenceValueId)
    const clear = await graphGet(
      env.emulator,
      token,
      `${base}/${String(created.body.id)}/getOmaSettingPlainTextValue(secretReferenceValueId='${reference}')`,
    )
    expect(clear.body).toMatchObject({
      '@odata.context': expect.stringMatching(/\$metadata#Edm\.String$/),
      value: 'correct horse',
    })
  })

  it('requires exactly one block action on a compliance policy, and scheduleActionsForRules replaces the actions', async () => {
    const { token } = await tenantWithToken()
    const base = '/beta/deviceManagement/deviceCompliancePolicies'
    const policy = {
      '@odata.type': '#microsoft.graph.windows10CompliancePolicy',
      displayName: 'Require BitLocker',
      bitLockerEnabled: true,
    }
    const block = {
      ruleName: 'PasswordRequired',
      scheduledActionConfigurations: [{ actionType: 'block', gracePeriodHours: 12, notificationTemplateId: '' }],
    }
    const missing = await write(token, 'POST', base, policy)
    expect(missing.status).toBe(400)
    expect(missing.body.error).toMatchObject({
      code: 'BadRequest',
      message: 'Compliance policy must have one and only one block scheduled action',
    })
    const twice = await write(token, 'POST', base, { ...policy, scheduledActionsForRule: [block, block] })
    expect(twice.status).toBe(400)
    const created = await write(token, 'POST', base, { ...policy, scheduledActionsForRule: [block] })
    expect(created.status).toBe(201)
    const id = String(created.body.id)
    const actions = await graphGet(env.emulator, token, `${base}/${id}/scheduledActionsForRule`)
    expect(actions.body.value).toEqual([
      expect.objectContaining({
        ruleName: 'PasswordRequired',
        scheduledActionConfigurations: [
          expect.objectContaining({
            actionType: 'block',
            gracePeriodHours: 12,
            notificationTemplateId: '00000000-0000-0000-0000-000000000000',
          }),
        ],
      }),
    ])

    const retire = { actionType: 'retire', gracePeriodHours: 720 }
    const noBlock = await write(token, 'POST', `${base}/${id}/scheduleActionsForRules`, {
      deviceComplianceScheduledActionForRules: [
        { ruleName: 'PasswordRequired', scheduledActionConfigurations: [retire] },
      ],
    })
    expect(noBlock.body.error?.message).toBe('Compliance policy must have one and only one block scheduled action')
    const before = await graphGet(env.emulator, token, `${base}/${id}`)
    const replaced = await write(token, 'POST', `${base}/${id}/scheduleActionsForRules`, {
      deviceComplianceScheduledActionForRules: [
        {
          ruleName: 'PasswordRequired',
          scheduledActionConfigurations: [block.scheduledActionConfigurations[0], retire],
        },
      ],
    })
    expect(replaced.status).toBe(204)
    const now = await graphGet(env.emulator, token, `${base}/${id}/scheduledActionsForRule`)
    expect(
      (now.body.value as { scheduledActionConfigurations: Body[] }[])[0]!.scheduledActionConfigurations.map(
        (c) => c.actionType,
      ),
    ).toEqual(['block', 'retire'])
    const after = await graphGet(env.emulator, token, `${base}/${id}`)
    expect(after.body.version).toBe(Number(before.body.version) + 1)
    expect((await auditOf(token, id)).map((e) => e.activityType)).toEqual([
      'Create DeviceCompliancePolicy',
      'scheduleActionsForRules DeviceCompliancePolicy',
    ])
    // Only compliance policies have the action.
    const config = await write(token, 'POST', '/beta/deviceManagement/deviceConfigurations', {
      '@odata.type': '#microsoft.graph.windows10GeneralConfiguration',
      displayName: 'x',
    })
    expect(
      (
        await write(
          token,
          'POST',
          `/beta/deviceManagement/deviceConfigurations/${String(config.body.id)}/scheduleActionsForRules`,
          { deviceComplianceScheduledActionForRules: [block] },
        )
      ).status,
    ).toBe(400)
  })

  it('refuses settings whose definition the tenant does not offer (Invalid Reference id); PUT replaces the settings', async () => {
    const { tenant, token } = await tenantWithToken()
    const base = '/beta/deviceManagement/configurationPolicies'
    const setting = (definition: string, child?: string) => ({
      '@odata.type': '#microsoft.graph.deviceManagementConfigurationSetting',
      settingInstance: {
        '@odata.type': '#microsoft.graph.deviceManagementConfigurationChoiceSettingInstance',
        settingDefinitionId: definition,
        choiceSettingValue: {
          value: `${definition}_1`,
          children: child
            ? [
                {
                  '@odata.type': '#microsoft.graph.deviceManagementConfigurationSimpleSettingInstance',
                  settingDefinitionId: child,
                  simpleSettingValue: { value: 1 },
                },
              ]
            : [],
        },
      },
    })
    const policy = {
      name: 'Defender',
      description: '',
      platforms: 'windows10',
      technologies: 'mdm',
      roleScopeTagIds: ['0'],
    }
    const unknown = await write(token, 'POST', base, {
      ...policy,
      settings: [
        setting('device_vendor_msft_policy_config_setting_1'),
        setting('device_vendor_msft_policy_config_setting_2', 'device_vendor_msft_retired_thing'),
      ],
    })
    expect(unknown.status).toBe(400)
    expect(unknown.body.error?.code).toBe('BadRequest')
    expect(unknown.body.error?.message).toContain('Invalid Reference id')
    expect(unknown.body.error?.message).toContain('device_vendor_msft_retired_thing')

    const empty = await write(token, 'POST', base, { ...policy, name: 'Empty' })
    expect(empty.body).toMatchObject({ name: 'Empty', settingCount: 0 })
    const created = await write(token, 'POST', base, {
      ...policy,
      settings: [
        setting('device_vendor_msft_policy_config_setting_1'),
        setting('device_vendor_msft_policy_config_setting_2'),
      ],
    })
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({ name: 'Defender', settingCount: 2 })
    const id = String(created.body.id)
    expect((await graphGet(env.emulator, token, `${base}/${id}/settings`)).body.value).toHaveLength(2)

    // A definition Intune retired in this tenant: existing policies keep it, writes refuse it.
    await control(env.emulator, 'PUT', `/tenants/${tenant.tenant_id}/retired_setting_definitions`, [
      'device_vendor_msft_policy_config_setting_2',
    ])
    const retired = await write(token, 'PUT', `${base}/${id}`, {
      ...policy,
      settings: [setting('device_vendor_msft_policy_config_setting_2')],
    })
    expect(retired.body.error?.message).toContain('device_vendor_msft_policy_config_setting_2')
    expect((await graphGet(env.emulator, token, `${base}/${id}/settings`)).body.value).toHaveLength(2)

    expect(
      (
        await write(token, 'PATCH', `${base}/${id}`, {
          settings: [setting('device_vendor_msft_policy_config_setting_3')],
        })
      ).status,
    ).toBe(400)
    const put = await write(token, 'PUT', `${base}/${id}`, {
      ...policy,
      name: 'Defender v2',
      settings: [setting('device_vendor_msft_policy_config_setting_3')],
    })
    expect(put.status).toBe(204)
    const settings = await graphGet(env.emulator, token, `${base}/${id}/settings`)
    expect(
      (settings.body.value as { settingInstance: Body }[]).map((s) => s.settingInstance.settingDefinitionId),
    ).toEqual(['device_vendor_msft_policy_config_setting_3'])
    expect((await graphGet(env.emulator, token, `${base}/${id}`)).body).toMatchObject({
      name: 'Defender v2',
      settingCount: 1,
    })
    const events = await auditOf(token, id)
    expect(events.map((e) => e.activityOperationType)).toEqual(['Create', 'Patch'])
  })

  it('/assign replaces the whole assignment set; single assignments through the assignments collection', async () => {
    const { tenant, token } = await tenantWithToken()
    const all = await contents(tenant.tenant_id)
    const policy = all.find(
      (o) => o.type === 'deviceConfiguration' && (o.content.assignments as unknown[]).length >= 2,
    )!
    const path = `/beta/deviceManagement/deviceConfigurations/${policy.id}`
    const group = all.find((o) => o.type === 'group')!
    const target = { '@odata.type': '#microsoft.graph.groupAssignmentTarget', groupId: group.id }
    // Graph answers the target with its filter properties (none when the request names no filter).
    const answered = {
      ...target,
      deviceAndAppManagementAssignmentFilterId: null,
      deviceAndAppManagementAssignmentFilterType: 'none',
    }
    const assigned = await write(token, 'POST', `${path}/assign`, { assignments: [{ target }] })
    expect(assigned.status).toBe(200)
    expect(assigned.body.value).toEqual([expect.objectContaining({ target: answered })])
    const read = await graphGet(env.emulator, token, `${path}/assignments`)
    expect(read.body.value).toEqual([
      expect.objectContaining({ id: `${policy.id}_${target.groupId}`, target: answered }),
    ])
    expect((await write(token, 'POST', `${path}/assign`, { assignments: [{ target: { groupId: 'x' } }] })).status).toBe(
      400,
    )
    expect((await write(token, 'POST', `${path}/assign`, { assignments: [] })).status).toBe(200)
    expect((await graphGet(env.emulator, token, `${path}/assignments`)).body.value).toEqual([])

    // Scripts name their assignments after the type.
    const script = all.find((o) => o.type === 'deviceManagementScript')!
    const scriptPath = `/beta/deviceManagement/deviceManagementScripts/${script.id}`
    expect(
      (await write(token, 'POST', `${scriptPath}/assign`, { deviceManagementScriptAssignments: [{ target }] })).status,
    ).toBe(200)
    expect((await graphGet(env.emulator, token, `${scriptPath}/assignments`)).body.value).toEqual([
      expect.objectContaining({ target: answered }),
    ])

    // Autopilot profiles take one assignment at a time.
    const profile = all.find((o) => o.type === 'windowsAutopilotDeploymentProfile')!
    const profilePath = `/beta/deviceManagement/windowsAutopilotDeploymentProfiles/${profile.id}/assignments`
    const before = (await graphGet(env.emulator, token, profilePath)).body.value!.length
    const added = await write(token, 'POST', profilePath, { target })
    expect(added.status).toBe(201)
    expect((await write(token, 'POST', profilePath, { target })).status).toBe(409)
    expect((await graphGet(env.emulator, token, profilePath)).body.value).toHaveLength(before + 1)
    expect((await write(token, 'DELETE', `${profilePath}/${String(added.body.id)}`)).status).toBe(204)
    expect((await graphGet(env.emulator, token, profilePath)).body.value).toHaveLength(before)

    // A type without assignments has no assign action.
    const filter = all.find((o) => o.type === 'assignmentFilter')!
    expect(
      (await write(token, 'POST', `/beta/deviceManagement/assignmentFilters/${filter.id}/assign`, { assignments: [] }))
        .status,
    ).toBe(400)
    expect((await auditOf(token, policy.id)).map((e) => e.activityType)).toEqual([
      'assign DeviceConfiguration',
      'assign DeviceConfiguration',
    ])
  })

  it('updateDefinitionValues adds, updates and deletes an Administrative template’s values', async () => {
    const { tenant, token } = await tenantWithToken()
    const policy = (await contents(tenant.tenant_id)).find(
      (o) => o.type === 'groupPolicyConfiguration' && (o.content.definitionValues as unknown[]).length >= 2,
    )!
    const path = `/beta/deviceManagement/groupPolicyConfigurations/${policy.id}`
    const values = policy.content.definitionValues as { id: string; enabled: boolean; definition: { id: string } }[]
    const used = new Set(values.map((v) => v.definition.id))
    const fresh = Array.from({ length: 5000 }, (_, n) => `def-${n}`).find((d) => !used.has(d))!
    const bind = (id: string) => `https://graph.microsoft.com/beta/deviceManagement/groupPolicyDefinitions('${id}')`
    const unknown = await write(token, 'POST', `${path}/updateDefinitionValues`, {
      added: [{ enabled: true, 'definition@odata.bind': bind('no-such-definition') }],
    })
    expect(unknown.status).toBe(404)
    const before = await graphGet(env.emulator, token, path)
    const updated = await write(token, 'POST', `${path}/updateDefinitionValues`, {
      added: [
        {
          enabled: true,
          'definition@odata.bind': bind(fresh),
          presentationValues: [
            {
              '@odata.type': '#microsoft.graph.groupPolicyPresentationValueText',
              value: 'hello',
              'presentation@odata.bind': 'x',
            },
          ],
        },
      ],
      updated: [{ id: values[0]!.id, enabled: !values[0]!.enabled }],
      deletedIds: [values[1]!.id],
    })
    expect(updated.status).toBe(204)
    const now = (await graphGet(env.emulator, token, `${path}/definitionValues?$top=100`)).body.value as {
      id: string
      enabled: boolean
      definition: { id: string; displayName: string }
      presentationValues: Body[]
    }[]
    expect(now).toHaveLength(values.length)
    expect(now.find((v) => v.id === values[0]!.id)!.enabled).toBe(!values[0]!.enabled)
    expect(now.some((v) => v.id === values[1]!.id)).toBe(false)
    const added = now.find((v) => v.definition.id === fresh)!
    expect(added.definition.displayName).toBe(`Administrative template setting ${fresh.slice(4)}`)
    expect(added.presentationValues).toEqual([expect.objectContaining({ value: 'hello' })])
    expect(
      String((await graphGet(env.emulator, token, path)).body.lastModifiedDateTime) >
        String(before.body.lastModifiedDateTime),
    ).toBe(true)
    expect((await auditOf(token, policy.id)).map((e) => e.activityType)).toEqual([
      'updateDefinitionValues GroupPolicyConfiguration',
    ])
  })

  it('throttles writes on their own, lower limits, with Retry-After, without applying the refused write', async () => {
    const { token } = await tenantWithToken()
    await control(env.emulator, 'PUT', '/faults', { throttle_scale: 0.02 })
    const base = '/beta/deviceManagement/assignmentFilters'
    const statuses: number[] = []
    for (let i = 0; i < 4; i++)
      statuses.push(
        (
          await write(token, 'POST', base, {
            displayName: `Throttled ${i}`,
            platform: 'windows10AndLater',
            rule: '(device.osVersion -startsWith "10")',
          })
        ).status,
      )
    // 100 app writes × 0.02 = 2 per window; reads (1000 × 0.02 = 20) still pass.
    expect(statuses).toEqual([201, 201, 429, 429])
    const refused = await write(token, 'POST', base, { displayName: 'Refused' })
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0)
    const list = await graphGet(
      env.emulator,
      token,
      `${base}?$filter=startswith(displayName, 'Throttled') or displayName eq 'Refused'`,
    )
    expect(list.status).toBe(200)
    expect((list.body.value as Body[]).map((v) => v.displayName)).toEqual(['Throttled 0', 'Throttled 1'])
  })
})

describe('lost responses and the ground truth with content', () => {
  it('drop_response_rate applies the write and destroys the connection; the object and its audit event exist', async () => {
    const { tenant, token } = await tenantWithToken()
    await control(env.emulator, 'DELETE', '/stats')
    expect((await control(env.emulator, 'PUT', '/faults', { drop_response_rate: 1 })).status).toBe(200)
    await expect(
      write(token, 'POST', '/beta/deviceManagement/assignmentFilters', {
        displayName: 'Lost answer',
        platform: 'windows10AndLater',
        rule: '',
      }),
    ).rejects.toThrow()
    // Reads are answered.
    expect((await graphGet(env.emulator, token, '/beta/deviceManagement/assignmentFilters?$top=1')).status).toBe(200)
    // A $batch with a write loses its whole response.
    const batch = fetch(`${env.emulator.url}/beta/$batch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        requests: [
          {
            id: '1',
            method: 'POST',
            url: '/deviceManagement/assignmentFilters',
            body: { displayName: 'Lost in batch' },
            headers: { 'content-type': 'application/json' },
          },
        ],
      }),
    })
    await expect(batch).rejects.toThrow()
    // A refused write is answered (nothing was applied).
    const refused = await write(token, 'POST', '/beta/deviceManagement/assignmentFilters', {
      displayName: 'Refused',
      frobnicate: true,
    })
    expect(refused.status).toBe(400)
    // The stats count the answers lost (the write and the $batch), not the refusal.
    expect((await control<{ dropped: number }>(env.emulator, 'GET', '/stats')).body.dropped).toBe(2)
    expect((await control(env.emulator, 'PUT', '/faults', { drop_response_rate: 1.5 })).status).toBe(400)
    await control(env.emulator, 'PUT', '/faults', {})

    const names = (await contents(tenant.tenant_id)).map((o) => o.display_name)
    expect(names).toContain('Lost answer')
    expect(names).toContain('Lost in batch')
    expect(names).not.toContain('Refused')
    const events = await graphGet(
      env.emulator,
      token,
      `/beta/deviceManagement/auditEvents?$filter=activityOperationType eq 'Create'`,
    )
    expect(
      (events.body.value as { resources: { displayName: string }[] }[]).map((e) => e.resources[0]!.displayName),
    ).toEqual(['Lost answer', 'Lost in batch'])
  })

  it('inventory?include=content gives each object as full Graph reads return it', async () => {
    const { tenant, token } = await tenantWithToken({ policies: 150 })
    const objects = await contents(tenant.tenant_id)
    const plain = (await control<{ objects: Body[] }>(env.emulator, 'GET', `/tenants/${tenant.tenant_id}/inventory`))
      .body.objects
    expect(objects.map((o) => o.id)).toEqual(plain.map((o) => o.id))
    expect(plain.every((o) => !('content' in o))).toBe(true)
    expect(
      (await control(env.emulator, 'GET', `/tenants/${tenant.tenant_id}/inventory?include=everything`)).status,
    ).toBe(400)

    const read = async (path: string) => {
      const all: Body[] = []
      let url: string | undefined = path
      while (url) {
        const page = await graphGet(env.emulator, token, url)
        all.push(...page.body.value!)
        url = page.body['@odata.nextLink'] as string | undefined
      }
      return all
    }
    for (const key of [
      'settingsCatalogPolicy',
      'deviceCompliancePolicy',
      'groupPolicyConfiguration',
      'deviceConfiguration',
    ]) {
      const o = objects.find((x) => x.type === key)!
      const entry = POLICY_TYPES.find((e) => e.key === key)!
      const path = `/beta/${entry.path}/${o.id}`
      const { '@odata.context': _context, ...body } = (await graphGet(env.emulator, token, path)).body
      const expected: Body = { ...body, assignments: await read(`${path}/assignments`) }
      for (const d of entry.details) expected[d.name] = await read(`${path}/${d.name}`)
      expect(o.content, key).toEqual(expected)
    }
    const group = objects.find((o) => o.type === 'group')!
    expect(group.content).toMatchObject({ id: group.id, displayName: group.display_name })
  })
})
