import { describe, expect, it } from 'vitest'
import { GRAPH_PERMISSIONS } from '../../src/graph/policy-types.ts'
import { control, graphGet, inventory, tenantWithToken as withToken, useEmulator } from './emulator-helpers.ts'

const env = useEmulator()

const tenantWithToken = (body: Record<string, unknown> = {}) => withToken(env.emulator, { policies: 60, ...body })

type Event = Record<string, unknown> & {
  id: string
  activityDateTime: string
  actor: Record<string, unknown>
  resources: {
    resourceId: string
    displayName: string
    type: string
    modifiedProperties: { displayName: string; oldValue: string | null; newValue: string | null }[]
  }[]
}

async function allEvents(token: string, path: string): Promise<{ events: Event[]; pages: number }> {
  const events: Event[] = []
  let url: string | undefined = path
  let pages = 0
  while (url) {
    const page = await graphGet(env.emulator, token, url)
    expect(page.status).toBe(200)
    events.push(...(page.body.value as Event[]))
    url = page.body['@odata.nextLink'] as string | undefined
    pages++
  }
  return { events, pages }
}

describe('Intune audit events', () => {
  it('records every control-API change with Graph’s auditEvent shape and the named actor', async () => {
    const { tenant, token } = await tenantWithToken()
    const id = tenant.tenant_id
    const empty = await graphGet(env.emulator, token, '/beta/deviceManagement/auditEvents')
    expect(empty.status).toBe(200)
    expect(empty.body['@odata.context']).toMatch(/\$metadata#deviceManagement\/auditEvents$/)
    expect(empty.body.value).toEqual([])

    const created = await control<{ id: string; displayName: string }>(env.emulator, 'POST', `/tenants/${id}/items`, {
      type: 'deviceConfiguration',
      displayName: 'Audit me',
      '@odata.type': '#microsoft.graph.windows10GeneralConfiguration',
      passwordRequired: true,
    })
    expect(created.status).toBe(201)
    const patched = await control(env.emulator, 'PATCH', `/tenants/${id}/items/${created.body.id}`, {
      displayName: 'Audit me (renamed)',
      actor: { user_principal_name: 'jane@contoso.example' },
    })
    expect(patched.status).toBe(200)
    const deleted = await control(env.emulator, 'DELETE', `/tenants/${id}/items/${created.body.id}`, {
      actor: { app_name: 'Provisioning robot' },
    })
    expect(deleted.status).toBe(204)

    const { events } = await allEvents(token, '/v1.0/deviceManagement/auditEvents')
    expect(events.map((e) => e.activityOperationType)).toEqual(['Create', 'Patch', 'Delete'])
    const [create, patch, remove] = events as [Event, Event, Event]
    expect(create).toMatchObject({
      '@odata.type': '#microsoft.graph.auditEvent',
      displayName: 'Create DeviceConfiguration',
      componentName: 'DeviceConfiguration',
      activity: 'Create DeviceConfiguration',
      activityType: 'Create DeviceConfiguration',
      activityResult: 'Success',
      category: 'DeviceConfiguration',
      correlationId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      actor: {
        type: 'ItPro',
        userPrincipalName: 'admin@contoso.example',
        applicationId: expect.any(String),
        applicationDisplayName: expect.any(String),
      },
      resources: [{ displayName: 'Audit me', type: 'DeviceConfiguration', resourceId: created.body.id }],
    })
    expect(create.resources[0]!.modifiedProperties).toContainEqual(
      expect.objectContaining({ displayName: 'passwordRequired', oldValue: null, newValue: 'true' }),
    )
    expect(patch.actor).toMatchObject({ type: 'ItPro', userPrincipalName: 'jane@contoso.example' })
    expect(patch.resources[0]!.displayName).toBe('Audit me (renamed)')
    expect(patch.resources[0]!.modifiedProperties).toContainEqual(
      expect.objectContaining({ displayName: 'displayName', oldValue: 'Audit me', newValue: 'Audit me (renamed)' }),
    )
    expect(remove.actor).toMatchObject({
      type: 'Application',
      applicationDisplayName: 'Provisioning robot',
      userPrincipalName: null,
      applicationId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    })
    expect(remove.resources[0]!.resourceId).toBe(created.body.id)
    // Strictly increasing times; each event readable by id.
    expect(create.activityDateTime < patch.activityDateTime && patch.activityDateTime < remove.activityDateTime).toBe(
      true,
    )
    const one = await graphGet(env.emulator, token, `/beta/deviceManagement/auditEvents/${patch.id}`)
    expect(one.status).toBe(200)
    expect(one.body).toMatchObject({ id: patch.id, activityOperationType: 'Patch' })
    expect(
      (await graphGet(env.emulator, token, '/beta/deviceManagement/auditEvents/00000000-0000-4000-8000-000000000000'))
        .status,
    ).toBe(404)
  })

  it('records assignment and setting changes of generated objects, naming what changed', async () => {
    const { tenant, token } = await tenantWithToken()
    const policy = (await inventory(env.emulator, tenant.tenant_id)).find((o) => o.type === 'settingsCatalogPolicy')!
    const patched = await control(env.emulator, 'PATCH', `/tenants/${tenant.tenant_id}/items/${policy.id}`, {
      assignments: [{ id: 'a1', target: { '@odata.type': '#microsoft.graph.allDevicesAssignmentTarget' } }],
      children: {
        settings: [
          {
            id: '0',
            settingInstance: {
              settingDefinitionId: 'x',
              '@odata.type': '#microsoft.graph.deviceManagementConfigurationSimpleSettingInstance',
            },
          },
        ],
      },
    })
    expect(patched.status).toBe(200)
    const { events } = await allEvents(token, '/beta/deviceManagement/auditEvents')
    expect(events).toHaveLength(1)
    const names = events[0]!.resources[0]!.modifiedProperties.map((p) => p.displayName)
    expect(names).toEqual(expect.arrayContaining(['assignments', 'settings', 'lastModifiedDateTime']))
    expect(events[0]!.componentName).toBe('ConfigurationPolicy')
    // The new settings and assignments are what Graph now reads.
    const settings = await graphGet(
      env.emulator,
      token,
      `/beta/deviceManagement/configurationPolicies/${policy.id}/settings`,
    )
    expect(settings.body.value).toEqual([expect.objectContaining({ id: '0' })])
    const assignments = await graphGet(
      env.emulator,
      token,
      `/beta/deviceManagement/configurationPolicies/${policy.id}/assignments`,
    )
    expect(assignments.body.value).toEqual([expect.objectContaining({ id: 'a1' })])
  })

  it('filters on activityDateTime, orders, and pages with @odata.nextLink and $top', async () => {
    const { tenant, token } = await tenantWithToken()
    const ids: string[] = []
    for (let i = 0; i < 7; i++) {
      const created = await control<{ id: string }>(env.emulator, 'POST', `/tenants/${tenant.tenant_id}/items`, {
        type: 'assignmentFilter',
        displayName: `Filter ${i}`,
      })
      ids.push(created.body.id)
    }
    const { events, pages } = await allEvents(token, '/beta/deviceManagement/auditEvents?$top=3')
    expect(pages).toBe(3)
    expect(events.map((e) => e.resources[0]!.resourceId)).toEqual(ids)

    const third = events[2]!.activityDateTime
    const fifth = events[4]!.activityDateTime
    const ge = await allEvents(token, `/beta/deviceManagement/auditEvents?$filter=activityDateTime ge ${third}`)
    expect(ge.events.map((e) => e.resources[0]!.resourceId)).toEqual(ids.slice(2))
    const gt = await allEvents(
      token,
      `/beta/deviceManagement/auditEvents?$filter=activityDateTime gt ${third} and activityDateTime le ${fifth}`,
    )
    expect(gt.events.map((e) => e.resources[0]!.resourceId)).toEqual(ids.slice(3, 5))
    const lt = await allEvents(token, `/beta/deviceManagement/auditEvents?$filter=activityDateTime lt ${third}`)
    expect(lt.events.map((e) => e.resources[0]!.resourceId)).toEqual(ids.slice(0, 2))

    // Newest first, paged: an event recorded between pages does not shift the next page.
    const first = await graphGet(
      env.emulator,
      token,
      '/beta/deviceManagement/auditEvents?$orderby=activityDateTime desc&$top=4',
    )
    expect((first.body.value as Event[]).map((e) => e.resources[0]!.resourceId)).toEqual(ids.slice(3).reverse())
    await control(env.emulator, 'POST', `/tenants/${tenant.tenant_id}/items`, {
      type: 'assignmentFilter',
      displayName: 'Late',
    })
    const second = await graphGet(env.emulator, token, first.body['@odata.nextLink'] as string)
    expect((second.body.value as Event[]).map((e) => e.resources[0]!.resourceId)).toEqual(ids.slice(0, 3).reverse())
    expect(second.body['@odata.nextLink']).toBeUndefined()

    const selected = await graphGet(
      env.emulator,
      token,
      '/beta/deviceManagement/auditEvents?$select=activityDateTime,actor&$top=1',
    )
    expect(Object.keys((selected.body.value as Event[])[0]!).sort()).toEqual([
      '@odata.type',
      'activityDateTime',
      'actor',
      'id',
    ])

    expect(
      (await graphGet(env.emulator, token, '/beta/deviceManagement/auditEvents?$filter=activityDateTime ge')).status,
    ).toBe(400)
    expect((await graphGet(env.emulator, token, '/beta/deviceManagement/auditEvents?$orderby=resources')).status).toBe(
      400,
    )
    expect((await graphGet(env.emulator, token, '/beta/deviceManagement/auditEvents?$top=0')).status).toBe(400)
  })

  it('answers 403 without DeviceManagementApps.Read.All, which every default tenant grants', async () => {
    expect(GRAPH_PERMISSIONS).toContain('DeviceManagementApps.Read.All')
    const { token } = await tenantWithToken({
      permissions: GRAPH_PERMISSIONS.filter((p) => p !== 'DeviceManagementApps.Read.All'),
    })
    const denied = await graphGet(env.emulator, token, '/beta/deviceManagement/auditEvents')
    expect(denied.status).toBe(403)
    expect(denied.body.error).toMatchObject({
      code: 'Forbidden',
      message: expect.stringContaining('DeviceManagementApps.Read.All'),
    })
    const { tenant } = await tenantWithToken({ permissions: ['DeviceManagementApps.ReadWrite.All'] })
    expect(tenant.permissions).toEqual(['DeviceManagementApps.ReadWrite.All'])
  })

  it('rejects a malformed actor with a clear error', async () => {
    const { tenant } = await tenantWithToken()
    const both = await control<{ error: { code: string; message: string } }>(
      env.emulator,
      'POST',
      `/tenants/${tenant.tenant_id}/items`,
      { type: 'assignmentFilter', actor: { user_principal_name: 'a@b', app_name: 'x' } },
    )
    expect(both.status).toBe(400)
    expect(both.body.error.message).toMatch(/^actor: /)
  })
})
