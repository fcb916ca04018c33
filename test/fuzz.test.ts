import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { routesOf } from '../src/http/app.ts'
import { createTestContext, ORIGIN, type TestContext } from './harness.ts'

/**
 * A fuzz pass over every route the app serves: each path parameter, query parameter and body
 * field (as the OpenAPI document describes them) in turn gets generated bad input while the
 * rest of the request stays well-formed. No answer may be a 5xx.
 */
type JsonSchema = {
  type?: string | string[]
  enum?: unknown[]
  format?: string
  properties?: Record<string, JsonSchema>
  items?: JsonSchema
  anyOf?: JsonSchema[]
}
type Operation = {
  parameters?: { in: string; name: string; schema?: JsonSchema }[]
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> }
}

const cursorOf = (key: string) =>
  Buffer.from(JSON.stringify([key, '0195f3c2-0000-7000-8000-000000000000'])).toString('base64url')

/** Bad values for a JSON body (any JSON value can be sent). */
const BAD_JSON: unknown[] = [
  'lone \ud800 high',
  'lone \udfff low',
  'nul \u0000 inside',
  'x'.repeat(100_000),
  '',
  ' ',
  -1,
  0,
  1.5,
  2 ** 63,
  -1e308,
  1e308,
  Number.MAX_SAFE_INTEGER + 2,
  '0000-01-01',
  '+275760-09-13T00:00:00.000Z',
  '-271821-04-20T00:00:00Z',
  null,
  true,
  [],
  {},
  ['\ud800'],
  { nested: '\u0000' },
  cursorOf('0000-01-01'),
]

/** Bad values for a URL (already percent-encoded): surrogates, NUL, bytes that are not UTF-8, huge, out of range, malformed cursors. */
const BAD_URL: string[] = [
  '%ED%A0%80',
  '%ED%BF%BF',
  'a%00b',
  '%FF%FE',
  '%C0%AF',
  '%25',
  '%ZZ',
  'x'.repeat(100_000),
  '',
  '-1',
  '0',
  '1e308',
  '9'.repeat(400),
  '1.5',
  'NaN',
  '0000-01-01',
  encodeURIComponent('+275760-09-13T00:00:00.000Z'),
  '..%2F..%2Fetc%2Fpasswd',
  'not-base64!',
  cursorOf('0000-01-01'),
  cursorOf('+275760-09-13T00:00:00.000Z'),
  cursorOf('a\u0000b'),
  cursorOf('\ud800'),
  Buffer.from('[1,2,3]').toString('base64url'),
  Buffer.from('{"at":1}').toString('base64url'),
  Buffer.from('\u0000').toString('base64url'),
]

/** A well-formed value for a schema, so that only the field under test is bad. */
function validValue(schema: JsonSchema | undefined, name: string): unknown {
  if (!schema) return 'x'
  if (schema.anyOf)
    return validValue(
      schema.anyOf.find((s) => s.type !== 'null'),
      name,
    )
  if (schema.enum) return schema.enum[0]
  const type = [schema.type].flat()[0]
  if (type === 'boolean') return true
  if (type === 'integer' || type === 'number') return 1
  if (type === 'array') return []
  if (type === 'object')
    return Object.fromEntries(Object.entries(schema.properties ?? {}).map(([k, s]) => [k, validValue(s, k)]))
  if (schema.format === 'email' || name === 'email') return 'fuzz@example.com'
  if (schema.format === 'uuid' || name.endsWith('_id')) return randomUUID()
  return 'fuzz'
}

let ctx: TestContext
let token: string
let tenantId: string
let memberId: string
beforeAll(async () => {
  ctx = await createTestContext({ worker: false })
  const admin = await ctx.factories.userWithToken({ isAdmin: true })
  token = admin.token
  tenantId = (await ctx.factories.tenant()).id
  await ctx.factories.member(tenantId, admin.user, 'owner')
  const member = await ctx.factories.user()
  await ctx.factories.member(tenantId, member, 'readonly')
  memberId = member.id
})
afterAll(() => ctx.close())

describe('fuzzing every route', () => {
  it('answers generated bad input without a 5xx', async () => {
    const spec = ctx.app.swagger() as { paths: Record<string, Record<string, Operation>> }
    const operationOf = (method: string, url: string) =>
      spec.paths[url.replaceAll(/:(\w+)/g, '{$1}')]?.[method.toLowerCase()]
    const validParam = (name: string) =>
      ({ tenantId, userId: memberId })[name] ?? '0195f3c2-0000-7000-8000-000000000000'
    const tried: Record<string, number> = {}
    const failures: string[] = []

    const send = async (area: string, method: string, url: string, payload?: unknown) => {
      tried[area] = (tried[area] ?? 0) + 1
      const response = await ctx.app.inject({
        method: method as 'GET',
        url,
        headers: {
          authorization: `Bearer ${token}`,
          origin: ORIGIN,
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
        },
        payload: payload === undefined ? undefined : JSON.stringify(payload),
        remoteAddress: `10.77.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`,
      })
      if (response.statusCode >= 500)
        failures.push(
          `${area}: ${method} ${url.slice(0, 120)} ${JSON.stringify(payload)?.slice(0, 80)} → ${response.statusCode} ${response.body.slice(0, 200)}`,
        )
    }

    for (const route of routesOf(ctx.app)) {
      if (route.url.startsWith('/api/docs') || route.url.startsWith('/assets') || route.url.endsWith('/events'))
        continue
      const area = route.url.split('/')[2] ?? route.url
      const op = operationOf(route.method, route.url)
      const params = [...route.url.matchAll(/:(\w+)/g)].map((m) => m[1]!)
      const path = (override?: [string, string]) =>
        route.url.replaceAll(/:(\w+)/g, (_, name: string) => (override?.[0] === name ? override[1] : validParam(name)))
      const queryParams = (op?.parameters ?? []).filter((p) => p.in === 'query')
      const bodySchema = op?.requestBody?.content?.['application/json']?.schema
      const validBody = route.hasBody ? validValue(bodySchema, 'body') : undefined

      for (const param of params)
        for (const bad of BAD_URL) await send(area, route.method, path([param, bad]), validBody)
      for (const query of queryParams)
        for (const bad of BAD_URL) await send(area, route.method, `${path()}?${query.name}=${bad}`, validBody)
      if (route.hasBody) {
        for (const bad of BAD_JSON) await send(area, route.method, path(), bad)
        for (const field of Object.keys(bodySchema?.properties ?? {})) {
          for (const bad of BAD_JSON) await send(area, route.method, path(), { ...(validBody as object), [field]: bad })
        }
      }
    }

    const total = Object.values(tried).reduce((a, b) => a + b, 0)
    process.stdout.write(`fuzz: ${total} requests ${JSON.stringify(tried)}; 5xx: ${failures.length}\n`)
    expect(total).toBeGreaterThan(1000)
    expect(failures).toEqual([])
  }, 300_000)
})
