import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runMigrations } from '../src/db/migrate.ts'
import { createTestContext, type TestContext } from './harness.ts'
import { testEngine } from './database.ts'

let ctx: TestContext
beforeAll(async () => {
  ctx = await createTestContext()
})
afterAll(() => ctx.close())

describe(`database engine (${testEngine})`, () => {
  it('returns int8 as numbers, like the other engine', async () => {
    const result = await ctx.db.execute<{ big: number; n: number }>(
      sql`SELECT 9007199254740991::int8 AS big, count(*) AS n FROM users`,
    )
    expect(result.rows[0]).toEqual({ big: 9007199254740991, n: expect.any(Number) })
  })

  it('returns timestamps as Dates with millisecond precision', async () => {
    const user = await ctx.factories.user()
    expect(user.createdAt).toBeInstanceOf(Date)
  })

  it('applies migrations once', async () => {
    expect(await runMigrations(ctx.handle)).toEqual({ applied: 0 })
  })

  it('reports ready when the database is reachable and migrated', async () => {
    const ready = await ctx.app.inject({ method: 'GET', url: '/readyz' })
    expect(ready.statusCode).toBe(200)
    expect(JSON.parse(ready.body)).toEqual({ status: 'ok', checks: { database: 'ok', migrations: 'ok' } })
    expect((await ctx.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200)
  })
})

describe('OpenAPI', () => {
  it('documents every API route as OpenAPI 3.1', async () => {
    const response = await ctx.app.inject({ method: 'GET', url: '/api/openapi.json' })
    expect(response.statusCode).toBe(200)
    const doc = JSON.parse(response.body) as { openapi: string; paths: Record<string, Record<string, unknown>> }
    expect(doc.openapi).toBe('3.1.0')
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`),
    )
    for (const required of [
      'GET /api/me',
      'GET /api/tenants',
      'GET /api/tenants/{tenantId}',
      'PATCH /api/tenants/{tenantId}',
      'GET /api/tenants/{tenantId}/audit-events',
      'POST /api/auth/sign-in',
      'POST /api/tokens',
    ]) {
      expect(documented).toContain(required)
    }
    expect(response.body).not.toContain('client_secret_encrypted')
  })

  it('renders the docs page', async () => {
    const response = await ctx.app.inject({ method: 'GET', url: '/api/docs/' })
    expect(response.statusCode).toBe(200)
    expect(response.body).toContain('swagger')
  })
})
