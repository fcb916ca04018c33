import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { EmulatorServer } from '../../src/emulator/server.ts'
import { getPolicyType, POLICY_TYPES } from '../../src/graph/policy-types.ts'
import { listUrl } from '../../src/graph/read-plan.ts'
import { control, createTenant, graphBatch, graphGet, inventory, rawToken, startEmulator } from './emulator-helpers.ts'

let emulator: EmulatorServer

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 })
})
afterAll(async () => {
  await emulator.close()
})
afterEach(async () => {
  await control(emulator, 'PUT', '/faults', {})
  await control(emulator, 'DELETE', '/throttle')
})

async function tenantWithToken(body: Record<string, unknown> = {}) {
  const created = await createTenant(emulator, body)
  const token = await rawToken(emulator, created.tenant.tenant_id, created.tenant.client_id, created.secret)
  return { ...created, token: token.body.access_token as string }
}

describe('login', () => {
  it('issues a token carrying the granted permissions, and rejects a wrong secret with AADSTS7000215', async () => {
    const { tenant, secret } = await createTenant(emulator, { permissions: ['DeviceManagementApps.Read.All'] })
    const good = await rawToken(emulator, tenant.tenant_id, tenant.client_id, secret)
    expect(good.status).toBe(200)
    expect(good.body.token_type).toBe('Bearer')
    const claims = JSON.parse(
      Buffer.from(String(good.body.access_token).split('.')[1]!, 'base64url').toString(),
    ) as Record<string, unknown>
    expect(claims).toMatchObject({
      tid: tenant.tenant_id,
      appid: tenant.client_id,
      roles: ['DeviceManagementApps.Read.All'],
    })

    const bad = await rawToken(emulator, tenant.tenant_id, tenant.client_id, 'wrong')
    expect(bad.status).toBe(400)
    expect(bad.body.error).toBe('invalid_client')
    expect(bad.body.error_description).toMatch(/^AADSTS7000215:/)
    expect(JSON.stringify(bad.body)).not.toContain('wrong')

    expect((await rawToken(emulator, tenant.tenant_id, 'someone-else', secret)).body.error_codes).toEqual([700016])
    expect(
      (await rawToken(emulator, '00000000-0000-4000-8000-000000000000', tenant.client_id, secret)).body.error_codes,
    ).toEqual([90002])
  })

  it('refuses Graph requests without a valid, unexpired token', async () => {
    const noToken = await fetch(`${emulator.url}/beta/deviceManagement/deviceConfigurations`)
    expect(noToken.status).toBe(401)
    const forged = await graphGet(emulator, 'a.b.c', '/beta/deviceManagement/deviceConfigurations')
    expect(forged.status).toBe(401)
    expect(forged.body.error).toMatchObject({
      code: 'InvalidAuthenticationToken',
      innerError: { 'request-id': expect.any(String), date: expect.any(String) },
    })
  })
})

describe('Graph reads', () => {
  it('pages settings catalog lists at 25 whatever $top asks, with nextLink until the end', async () => {
    const { tenant, token } = await tenantWithToken({ policies: 600 })
    const entry = getPolicyType('settingsCatalogPolicy')
    let url: string | undefined = listUrl(entry, { top: 100 })
    expect(url).toContain('%24top=25')
    url = url.replace('%24top=25', '%24top=100')
    const sizes: number[] = []
    const ids = new Set<string>()
    while (url) {
      const page = await graphGet(emulator, token, url)
      expect(page.status).toBe(200)
      expect(page.body['@odata.context']).toMatch(/\$metadata#deviceManagement\/configurationPolicies$/)
      sizes.push(page.body.value!.length)
      for (const item of page.body.value!) {
        ids.add(String(item.id))
        expect(item.name).toEqual(expect.any(String))
        expect(item).not.toHaveProperty('displayName')
        expect(item['assignments@odata.context']).toBe(
          `${emulator.url}/beta/$metadata#deviceManagement/configurationPolicies('${String(item.id)}')/assignments`,
        )
      }
      url = page.body['@odata.nextLink'] as string | undefined
    }
    const expected = tenant.counts.settingsCatalogPolicy!
    expect(expected).toBeGreaterThan(50)
    expect(ids.size).toBe(expected)
    expect(sizes.slice(0, -1).every((n) => n === 25)).toBe(true)
    expect(sizes.at(-1)).toBe(expected % 25 || 25)
  })

  it('pages /settings at 25 and names the object in the sub-resource context', async () => {
    const { token } = await tenantWithToken({ policies: 400 })
    const list = await graphGet(emulator, token, listUrl(getPolicyType('settingsCatalogPolicy')))
    let longest = { id: '', count: 0, pages: 0 }
    for (const item of list.body.value!) {
      let url: string | undefined = `/beta/deviceManagement/configurationPolicies/${String(item.id)}/settings`
      let count = 0
      let pages = 0
      while (url) {
        const page = await graphGet(emulator, token, url)
        expect(page.body['@odata.context']).toContain(`configurationPolicies('${String(item.id)}')/settings`)
        expect(page.body.value!.length).toBeLessThanOrEqual(25)
        count += page.body.value!.length
        pages++
        url = page.body['@odata.nextLink'] as string | undefined
      }
      if (count > longest.count) longest = { id: String(item.id), count, pages }
    }
    expect(longest.count).toBeGreaterThan(25)
    expect(longest.pages).toBe(Math.ceil(longest.count / 25))
  })

  it('honours $top, $select and $expand=assignments, and rejects $expand where Graph cannot', async () => {
    const { token } = await tenantWithToken()
    const selected = await graphGet(
      emulator,
      token,
      '/beta/deviceManagement/deviceConfigurations?$top=3&$select=displayName',
    )
    expect(selected.body.value).toHaveLength(3)
    for (const item of selected.body.value!)
      expect(Object.keys(item).sort()).toEqual(['@odata.type', 'displayName', 'id'])
    const intents = await graphGet(emulator, token, '/beta/deviceManagement/intents?$expand=assignments')
    expect(intents.status).toBe(400)
    expect(intents.body.error).toMatchObject({ code: 'BadRequest' })
    const scripts = await graphGet(emulator, token, listUrl(getPolicyType('deviceManagementScript')))
    const script = scripts.body.value![0]!
    expect(script.scriptContent).toBeNull()
    const full = await graphGet(
      emulator,
      token,
      `/beta/deviceManagement/deviceManagementScripts/${String(script.id)}?$expand=assignments`,
    )
    expect(full.body.scriptContent).toEqual(expect.any(String))
    expect(full.body['assignments@odata.context']).toContain(
      `deviceManagementScripts('${String(script.id)}')/assignments`,
    )
    const assignments = await graphGet(
      emulator,
      token,
      `/beta/deviceManagement/deviceManagementScripts/${String(script.id)}/assignments`,
    )
    expect(assignments.body['@odata.context']).toBe(
      `${emulator.url}/beta/$metadata#deviceManagement/deviceManagementScripts('${String(script.id)}')/assignments`,
    )
    expect(assignments.body.value).toEqual(full.body.assignments)
  })

  it('serves app protection assignments only under the platform-specific collection', async () => {
    const { token } = await tenantWithToken()
    const list = await graphGet(emulator, token, '/beta/deviceAppManagement/managedAppPolicies')
    const policy = list.body.value![0]!
    const type = String(policy['@odata.type'])
    const collection = getPolicyType('managedAppPolicy').itemCollections![type]!
    expect(
      (
        await graphGet(
          emulator,
          token,
          `/beta/deviceAppManagement/managedAppPolicies/${String(policy.id)}?$expand=assignments`,
        )
      ).status,
    ).toBe(400)
    const read = await graphGet(emulator, token, `/beta/${collection}/${String(policy.id)}?$expand=assignments,apps`)
    expect(read.status).toBe(200)
    expect(read.body.assignments).toEqual(expect.any(Array))
    expect(read.body.apps).toEqual(expect.any(Array))
  })

  it('returns 404 for a deleted group that assignments still reference', async () => {
    const { tenant, token } = await tenantWithToken({ policies: 300 })
    const truth = new Set(
      (await inventory(emulator, tenant.tenant_id)).filter((o) => o.type === 'group').map((o) => o.id),
    )
    const referenced = new Set<string>()
    let url: string | undefined = listUrl(getPolicyType('deviceConfiguration'))
    while (url) {
      const page = await graphGet(emulator, token, url)
      for (const item of page.body.value!)
        for (const a of item.assignments as { target: { groupId?: string } }[])
          if (a.target.groupId) referenced.add(a.target.groupId)
      url = page.body['@odata.nextLink'] as string | undefined
    }
    const orphans = [...referenced].filter((id) => !truth.has(id))
    expect(orphans.length).toBeGreaterThan(0)
    const gone = await graphGet(emulator, token, `/v1.0/groups/${orphans[0]}`)
    expect(gone.status).toBe(404)
    expect(gone.body.error).toMatchObject({
      code: 'Request_ResourceNotFound',
      innerError: { 'request-id': expect.any(String) },
    })
    const live = [...referenced].find((id) => truth.has(id))!
    const group = await graphGet(emulator, token, `/v1.0/groups/${live}?$select=id,displayName`)
    expect(group.status).toBe(200)
    expect(Object.keys(group.body).sort()).toEqual(['@odata.context', 'displayName', 'id'])
  })

  it('answers 403 Forbidden for a type whose permission the app lacks, live after a permission change', async () => {
    const { tenant, token } = await tenantWithToken({ permissions: ['DeviceManagementApps.Read.All'] })
    const denied = await graphGet(emulator, token, listUrl(getPolicyType('deviceConfiguration')))
    expect(denied.status).toBe(403)
    expect(denied.body.error).toMatchObject({
      code: 'Forbidden',
      message: expect.stringContaining('DeviceManagementConfiguration.Read.All'),
    })
    expect((await graphGet(emulator, token, listUrl(getPolicyType('mobileApp')))).status).toBe(200)
    const put = await control(emulator, 'PUT', `/tenants/${tenant.tenant_id}/permissions`, {
      permissions: ['DeviceManagementConfiguration.Read.All'],
    })
    expect(put.status).toBe(200)
    expect((await graphGet(emulator, token, listUrl(getPolicyType('deviceConfiguration')))).status).toBe(200)
    expect((await graphGet(emulator, token, listUrl(getPolicyType('mobileApp')))).status).toBe(403)
  })

  it('serves every listable catalog type, Graph-shaped, on v1.0 and beta', async () => {
    const { token } = await tenantWithToken({ policies: 200 })
    for (const entry of POLICY_TYPES.filter((e) => e.listable && !e.singleton)) {
      for (const version of ['beta', 'v1.0']) {
        const page = await graphGet(emulator, token, listUrl(entry).replace(/^\/beta\//, `/${version}/`))
        expect(page.status, entry.key).toBe(200)
        expect(page.body['@odata.context']).toBe(`${emulator.url}/${version}/$metadata#${entry.path}`)
        expect(page.body.value!.length, entry.key).toBeGreaterThan(0)
        for (const item of page.body.value!)
          expect(typeof item[entry.nameProperty], `${entry.key}.${entry.nameProperty}`).toBe('string')
      }
    }
  })
})

describe('$batch', () => {
  it('rejects more than 20 requests with 400', async () => {
    const { token } = await tenantWithToken()
    const requests = Array.from({ length: 21 }, (_, i) => ({
      id: String(i),
      method: 'GET',
      url: '/deviceManagement/deviceCategories',
    }))
    const response = await graphBatch(emulator, token, requests)
    expect(response.status).toBe(400)
    expect(response.body.error).toMatchObject({ code: 'BadRequest' })
    expect((await graphBatch(emulator, token, requests.slice(0, 20))).status).toBe(200)
  })

  it('throttles each member on its own and answers 200 with mixed 200, 404 and 429 members', async () => {
    const { token } = await tenantWithToken()
    // 0.01 × 1,000 = 10 reads per app per window.
    await control(emulator, 'PUT', '/faults', { throttle_scale: 0.01, throttle_window_ms: 60_000 })
    const requests = Array.from({ length: 14 }, (_, i) => ({
      id: `r${i}`,
      method: 'GET',
      url:
        i === 1
          ? '/deviceManagement/deviceCategories/00000000-0000-4000-8000-000000000000'
          : '/deviceManagement/deviceCategories',
    }))
    const response = await graphBatch(emulator, token, requests)
    expect(response.status).toBe(200)
    const statuses = response.body.responses.map((r) => r.status)
    expect(statuses.filter((s) => s === 200)).toHaveLength(9)
    expect(statuses.filter((s) => s === 404)).toHaveLength(1)
    expect(statuses.filter((s) => s === 429)).toHaveLength(4)
    for (const member of response.body.responses) {
      expect(Object.keys(member).sort()).toEqual(['body', 'headers', 'id', 'status'])
      if (member.status === 429) expect(Number(member.headers['Retry-After'])).toBeGreaterThan(0)
    }
  })
})

describe('throttling', () => {
  it('limits each app per tenant per window, says when to come back, and admits again when the window turns', async () => {
    const { token } = await tenantWithToken()
    // A window long enough that eight requests fit in it on a busy machine (a 1 s window could turn mid-loop).
    await control(emulator, 'PUT', '/faults', { throttle_scale: 0.005, throttle_window_ms: 5000 })
    const statuses: number[] = []
    let retryAfter: string | null = null
    for (let i = 0; i < 8; i++) {
      const r = await graphGet(emulator, token, '/beta/deviceManagement/deviceCategories')
      statuses.push(r.status)
      if (r.status === 429) retryAfter ??= r.headers.get('retry-after')
    }
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200])
    expect(statuses.slice(5)).toEqual([429, 429, 429])
    // Whole seconds until the window turns, rounded up.
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1)
    expect(Number(retryAfter)).toBeLessThanOrEqual(5)
    await new Promise((resolve) => setTimeout(resolve, Number(retryAfter) * 1000 + 50))
    expect((await graphGet(emulator, token, '/beta/deviceManagement/deviceCategories')).status).toBe(200)
  })

  it('can answer 429 without Retry-After, as Intune sometimes does', async () => {
    const a = await tenantWithToken()
    await control(emulator, 'PUT', '/faults', {
      throttle_scale: 0.005,
      throttle_window_ms: 60_000,
      omit_retry_after: true,
    })
    for (let i = 0; i < 5; i++)
      expect((await graphGet(emulator, a.token, '/beta/deviceManagement/deviceCategories')).status).toBe(200)
    const throttled = await graphGet(emulator, a.token, '/beta/deviceManagement/deviceCategories')
    expect(throttled.status).toBe(429)
    expect(throttled.headers.get('retry-after')).toBeNull()
    expect(throttled.body.error).toMatchObject({ code: 'TooManyRequests' })
    const stats = (await control<{ throttled: number }>(emulator, 'GET', '/stats')).body
    expect(stats.throttled).toBeGreaterThan(0)
  })
})

describe('generator and control API', () => {
  it('is deterministic: the same seed and size give the same tenant, another seed another one', async () => {
    const a = await tenantWithToken({ seed: 'same', policies: 150 })
    const b = await tenantWithToken({ seed: 'same', policies: 150 })
    const c = await tenantWithToken({ seed: 'other', policies: 150 })
    const strip = (body: Record<string, unknown>) => JSON.stringify(body).replaceAll(emulator.url, '')
    const url = listUrl(getPolicyType('deviceConfiguration'))
    expect(strip((await graphGet(emulator, a.token, url)).body)).toBe(
      strip((await graphGet(emulator, b.token, url)).body),
    )
    expect(strip((await graphGet(emulator, a.token, url)).body)).not.toBe(
      strip((await graphGet(emulator, c.token, url)).body),
    )
    expect(await inventory(emulator, a.tenant.tenant_id)).toEqual(await inventory(emulator, b.tenant.tenant_id))
    expect(a.tenant.tenant_id).not.toBe(b.tenant.tenant_id)
  })

  it('ground truth leaves out built-ins the catalog skips and groups nobody references', async () => {
    const { tenant, token } = await tenantWithToken({ policies: 400 })
    const truth = await inventory(emulator, tenant.tenant_id)
    const tags = truth.filter((o) => o.type === 'roleScopeTag')
    expect(tags.map((t) => t.display_name)).not.toContain('Default')
    expect(tags).toHaveLength(tenant.counts.roleScopeTag! - 1)
    const listedTags = await graphGet(emulator, token, '/beta/deviceManagement/roleScopeTags')
    expect(listedTags.body.value!.some((t) => t.id === '0' && t.isBuiltIn === true)).toBe(true)
    const apps = truth.filter((o) => o.type === 'mobileApp')
    expect(apps.length).toBeLessThan(tenant.counts.mobileApp!)
    const groups = truth.filter((o) => o.type === 'group')
    expect(groups.length).toBeGreaterThan(0)
    expect(groups.length).toBeLessThan(tenant.group_count)
    expect(new Set(truth.map((o) => `${o.type}:${o.id}`)).size).toBe(truth.length)
  })

  it('adds, changes and deletes objects, and the lists and ground truth follow', async () => {
    const { tenant, token } = await tenantWithToken({ policies: 60 })
    const created = await control<{ id: string; type: string }>(
      emulator,
      'POST',
      `/tenants/${tenant.tenant_id}/items`,
      { type: 'deviceCategory', displayName: 'Added category' },
    )
    expect(created.status).toBe(201)
    const listed = async () => (await graphGet(emulator, token, '/beta/deviceManagement/deviceCategories')).body.value!
    expect((await listed()).map((c) => c.displayName)).toContain('Added category')
    const original = (await listed())[0]!
    const patched = await control<{ displayName: string; lastModifiedDateTime: string }>(
      emulator,
      'PATCH',
      `/tenants/${tenant.tenant_id}/items/${String(original.id)}`,
      { displayName: 'Renamed' },
    )
    expect(patched.status).toBe(200)
    expect(patched.body.displayName).toBe('Renamed')
    expect(
      (await graphGet(emulator, token, `/beta/deviceManagement/deviceCategories/${String(original.id)}`)).body
        .displayName,
    ).toBe('Renamed')
    expect((await control(emulator, 'DELETE', `/tenants/${tenant.tenant_id}/items/${created.body.id}`)).status).toBe(
      204,
    )
    expect((await listed()).map((c) => c.id)).not.toContain(created.body.id)
    expect((await graphGet(emulator, token, `/beta/deviceManagement/deviceCategories/${created.body.id}`)).status).toBe(
      404,
    )
    const truth = await inventory(emulator, tenant.tenant_id)
    expect(truth.find((o) => o.id === original.id)?.display_name).toBe('Renamed')
    expect(truth.some((o) => o.id === created.body.id)).toBe(false)
    expect((await control(emulator, 'DELETE', `/tenants/${tenant.tenant_id}/items/${created.body.id}`)).status).toBe(
      404,
    )
    expect((await control(emulator, 'POST', `/tenants/${tenant.tenant_id}/items`, { type: 'nope' })).status).toBe(400)
  })

  it('validates faults and reports statistics by kind and status', async () => {
    expect((await control(emulator, 'PUT', '/faults', { error_rate: 2 })).status).toBe(400)
    expect((await control(emulator, 'PUT', '/faults', { latency: 5 })).status).toBe(400)
    await control(emulator, 'DELETE', '/stats')
    const { token } = await tenantWithToken()
    await graphGet(emulator, token, '/beta/deviceManagement/deviceCategories')
    await graphGet(emulator, token, '/beta/deviceManagement/nothingHere')
    const stats = (
      await control<{
        requests: number
        graph_requests: number
        by_kind: Record<string, number>
        by_status: Record<string, number>
        tokens_issued: number
      }>(emulator, 'GET', '/stats')
    ).body
    expect(stats.by_kind.list).toBe(1)
    expect(stats.by_status['404']).toBe(1)
    expect(stats.tokens_issued).toBe(1)
    expect(stats.graph_requests).toBe(2)
  })

  it('keeps memory flat for a 100,000-object tenant', async () => {
    globalThis.gc?.()
    const before = process.memoryUsage().heapUsed
    const { tenant, token } = await tenantWithToken({ policies: 100_000 })
    const page = await graphGet(emulator, token, listUrl(getPolicyType('mobileApp')))
    expect(page.body.value).toHaveLength(100)
    expect(tenant.counts.mobileApp).toBeGreaterThan(15_000)
    globalThis.gc?.()
    // The tenant itself is a seed and a size: far less than 1 KiB per object.
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(20 * 1024 * 1024)
  })
})
