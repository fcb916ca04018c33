import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { routesOf } from '../src/http/app.ts'
import { createTestContext, type TestContext } from './harness.ts'

const errorMessage = (body: string) => (JSON.parse(body) as { error: { message: string } }).error.message

let ctx: TestContext
let token: string
let tenantId: string
let memberId: string

beforeAll(async () => {
  ctx = await createTestContext()
  const admin = await ctx.factories.userWithToken({ isAdmin: true })
  token = admin.token
  const tenant = await ctx.factories.tenant()
  tenantId = tenant.id
  await ctx.factories.member(tenantId, admin.user, 'owner')
  const member = await ctx.factories.user()
  await ctx.factories.member(tenantId, member, 'readonly')
  memberId = member.id
})
afterAll(() => ctx.close())

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
const concrete = (url: string) =>
  url
    .replace(':tenantId', tenantId)
    .replace(':userId', memberId)
    .replace(':tokenId', '0195f3c2-0000-7000-8000-000000000000')

/** Every error is the error envelope of docs/api.md, with no stack trace and no 500. */
function expectClientError(response: { statusCode: number; body: string }, route: string) {
  expect(response.statusCode, `${route}: ${response.body}`).toBeGreaterThanOrEqual(400)
  expect(response.statusCode, `${route}: ${response.body}`).toBeLessThan(500)
  const body = JSON.parse(response.body) as { error?: { code?: unknown; message?: unknown } }
  expect(typeof body.error?.code, route).toBe('string')
  expect(typeof body.error?.message, route).toBe('string')
  expect(response.body, route).not.toMatch(/\n\s+at |node_modules|\.ts:\d+/)
}

describe('bad input on every mutating route', () => {
  const routes = () => routesOf(ctx.app).filter((r) => MUTATING.has(r.method) && r.url.startsWith('/api/'))

  it('has mutating routes to check', () => {
    expect(routes().length).toBeGreaterThanOrEqual(9)
  })

  it('answers malformed JSON with 400 invalid_json', async () => {
    for (const route of routes()) {
      const response = await ctx.request({
        method: route.method,
        url: concrete(route.url),
        token,
        headers: { 'content-type': 'application/json' },
        payload: '{"name": "unterminated',
      })
      expectClientError(response, `${route.method} ${route.url}`)
      expect(response.statusCode).toBe(400)
    }
  })

  it('answers an oversized body with 413', async () => {
    // Past the largest body limit: 1 MiB on the routes that take 10,000 ids, 256 KiB elsewhere.
    const huge = JSON.stringify({ name: 'x'.repeat(1100 * 1024) })
    for (const route of routes()) {
      const response = await ctx.request({
        method: route.method,
        url: concrete(route.url),
        token,
        headers: { 'content-type': 'application/json' },
        payload: huge,
      })
      expectClientError(response, `${route.method} ${route.url}`)
      expect(response.statusCode).toBe(413)
    }
  })

  it('answers bodies nested 1,000, 10,000 and 100,000 levels deep with a 4xx, signed in or not', async () => {
    let tried = 0
    for (const depth of [1_000, 10_000, 100_000]) {
      for (const text of [
        `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
        `${'['.repeat(depth)}${']'.repeat(depth)}`,
      ]) {
        for (const route of routes()) {
          for (const auth of [token, undefined]) {
            const response = await ctx.request({
              method: route.method,
              url: concrete(route.url),
              token: auth,
              headers: { 'content-type': 'application/json' },
              payload: text,
            })
            expectClientError(response, `${route.method} ${route.url} at depth ${depth}`)
            tried++
          }
        }
      }
    }
    // Signed in, a depth the body limit lets through is refused naming the limit.
    const response = await ctx.request({
      method: 'POST',
      url: '/api/tokens',
      token,
      headers: { 'content-type': 'application/json' },
      payload: `${'['.repeat(1_000)}${']'.repeat(1_000)}`,
    })
    expect(response.statusCode).toBe(422)
    expect(errorMessage(response.body)).toMatch(/more than 64 levels/)
    expect(tried).toBeGreaterThan(100)
  })

  it('answers wrong types and non-object bodies with a 4xx envelope', async () => {
    const bodies: unknown[] = [
      [1, 2],
      'text',
      42,
      null,
      { name: 7, email: false, role: [], password: {}, entra_tenant_id: 1, client_id: true },
    ]
    for (const route of routes().filter((r) => r.hasBody)) {
      for (const payload of bodies) {
        const response = await ctx.request({
          method: route.method,
          url: concrete(route.url),
          token,
          headers: { 'content-type': 'application/json' },
          payload: JSON.stringify(payload),
        })
        expectClientError(response, `${route.method} ${route.url} ${JSON.stringify(payload)}`)
      }
    }
  })

  it('answers missing fields with 422 naming each field', async () => {
    const expectations: Record<string, string[]> = {
      'POST /api/tenants': ['name', 'entra_tenant_id', 'client_id', 'client_secret'],
      'POST /api/users': ['email', 'name', 'password'],
      'POST /api/tokens': ['name'],
      'POST /api/auth/sign-in': ['email', 'password'],
      'POST /api/tenants/:tenantId/members': ['email', 'role'],
      'PATCH /api/tenants/:tenantId/members/:userId': ['role'],
    }
    for (const [route, fields] of Object.entries(expectations)) {
      const [method, url] = route.split(' ') as [string, string]
      const response = await ctx.request({ method: method, url: concrete(url), token, payload: {} })
      expectClientError(response, route)
      expect(response.statusCode, route).toBe(422)
      const details = (JSON.parse(response.body) as { error: { details: { fields: { field: string }[] } } }).error
        .details
      expect(details.fields.map((f) => f.field).sort(), route).toEqual([...fields].sort())
    }
  })

  it('names unknown selection keys, policy types and categories of an inventory sync', async () => {
    const url = `/api/tenants/${tenantId}/inventory-sync`
    const response = await ctx.request({
      method: 'POST',
      url,
      token,
      payload: { policy_types: ['deviceConfiguration', 'noSuchType'], categories: ['Foundations'], colour: 'red' },
    })
    expectClientError(response, url)
    expect(response.statusCode).toBe(422)
    const { message, details } = (
      JSON.parse(response.body) as {
        error: { message: string; details: { fields: { field: string; message: string }[] } }
      }
    ).error
    expect(message).toContain('noSuchType')
    expect(message).toContain('colour')
    expect(details.fields.find((f) => f.field === 'categories')?.message).toMatch(/unknown category: Foundations/)
    const empty = await ctx.request({
      method: 'POST',
      url,
      token,
      payload: {
        categories: ['Scripts'],
        policy_types: ['deviceConfiguration'],
        include_foundations: false,
        include_dependencies: false,
      },
    })
    expect(empty.statusCode).toBe(422)
    expect(errorMessage(empty.body)).toMatch(/selection reads nothing/)
  })

  it('answers a NUL character in inventory queries and cursors with 422, not a database error', async () => {
    const cursor = Buffer.from(JSON.stringify(['a\u0000b', '0195f3c2-0000-7000-8000-000000000000'])).toString(
      'base64url',
    )
    for (const query of ['q=%00', 'type=%00', 'category=a%00', `cursor=${cursor}`]) {
      const url = `/api/tenants/${tenantId}/inventory/items?${query}`
      const response = await ctx.request({ method: 'GET', url, token })
      expectClientError(response, url)
      expect(response.statusCode, url).toBe(422)
    }
  })

  it('answers a wrong content type with 415', async () => {
    const response = await ctx.request({
      method: 'POST',
      url: '/api/tokens',
      token,
      headers: { 'content-type': 'text/xml' },
      payload: '<name/>',
    })
    expectClientError(response, 'POST /api/tokens')
    expect(response.statusCode).toBe(415)
  })

  it('answers bad query parameters with 422 naming them', async () => {
    const response = await ctx.request({
      method: 'GET',
      url: `/api/tenants/${tenantId}/audit-events?limit=lots`,
      token,
    })
    expectClientError(response, 'audit-events')
    expect(response.statusCode).toBe(422)
    expect(response.body).toContain('limit')
  })

  it('answers an unknown route with a 404 envelope', async () => {
    const response = await ctx.request({ method: 'GET', url: '/api/nope', token })
    expectClientError(response, '/api/nope')
    expect(response.statusCode).toBe(404)
  })
})
