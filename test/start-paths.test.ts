import { randomUUID } from 'node:crypto'
import { inArray } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { schedules } from '../src/db/schema.ts'
import { uuidv7 } from '../src/lib/ids.ts'
import { createLogger } from '../src/lib/logger.ts'
import { createApiToken } from '../src/modules/access/api-tokens.ts'
import { can, type Capability, ROLES } from '../src/modules/access/policy.ts'
import { parseScope, scopeAllows, type TokenScope } from '../src/modules/access/token-scope.ts'
import { createCatalog } from '../src/modules/operations/catalog.ts'
import { finishRun } from '../src/modules/operations/finish-run.ts'
import { Scheduler } from '../src/modules/schedules/scheduler.ts'
import { shippedCatalog } from '../src/operation-types.ts'
import { bulkNoopHandlers } from './bulk/noop-handlers.ts'
import { createTestContext, errorOf, type TestContext } from './harness.ts'
import { testCatalog, testHandlers } from './operations/fixtures.ts'

/**
 * Every operation type × every path that starts one (issue 22, ADR 022) × principals of every role
 * and of narrowed token scopes: re-run, schedule create, schedule firing (the creator's authority,
 * re-checked at the slot), and the direct start's route (its capability is the type's). Generated
 * from the catalog: a new type needs only a sample input below, and fails here until it has one.
 */
const catalog = createCatalog({ ...testCatalog.specs, ...shippedCatalog.specs })
const handlers = {
  ...testHandlers,
  'inventory.sync': async () => {},
  'backup.create': async () => {},
  'backup.prune': async () => {},
  'restore.execute': async () => {},
  'compare.run': async () => {},
  'docs.export': async () => {},
  'drift.evaluate': async () => {},
  ...bulkNoopHandlers,
}

const bulkContext = {
  params: { prefix: 'x', suffix: '', find: '', replace: '' },
  filter: null,
  item_count: 1,
  selection_digest: '0'.repeat(64),
}
/** A run context per type (valid for the types that can be re-run or scheduled). */
const SAMPLE: Record<string, Record<string, unknown>> = {
  'inventory.sync': {},
  'backup.create': {},
  'backup.prune': {},
  'restore.execute': { plan_id: '0195f3c2-0000-7000-8000-000000000000' },
  'compare.run': { comparison_id: '0195f3c2-0000-7000-8000-000000000001' },
  'docs.export': { source: { now: true }, format: 'html', include_assignments: true },
  'drift.evaluate': {},
  ...Object.fromEntries(
    shippedCatalog
      .types()
      .filter((t) => t.startsWith('bulk.'))
      .map((t) => [t, bulkContext]),
  ),
  ...Object.fromEntries(testCatalog.types().map((t) => [t, {}])),
}

/** The route that starts each shipped type directly (its capability must be the type's). */
const DIRECT: Record<string, { route: string; capability: Capability }> = {
  'inventory.sync': { route: 'POST /api/tenants/:tenantId/inventory-sync', capability: 'inventory.sync' },
  'backup.create': { route: 'POST /api/tenants/:tenantId/backups', capability: 'backups.manage' },
  'backup.prune': { route: 'POST /api/tenants/:tenantId/backup-retention/prune', capability: 'backups.manage' },
  'restore.execute': {
    route: 'POST /api/tenants/:tenantId/restore-plans/:planId/execute',
    capability: 'restore.execute',
  },
  // A comparison runs in its left side's tenant; tenant.view on both sides (404 otherwise).
  'compare.run': { route: 'POST /api/comparisons', capability: 'tenant.view' },
  'docs.export': { route: 'POST /api/tenants/:tenantId/documentation', capability: 'tenant.view' },
  'drift.evaluate': { route: 'POST /api/tenants/:tenantId/drift-evaluations', capability: 'findings.manage' },
  ...Object.fromEntries(
    shippedCatalog
      .types()
      .filter((t) => t.startsWith('bulk.'))
      .map((t) => [t, { route: 'POST /api/tenants/:tenantId/bulk-operations', capability: 'bulk.execute' as const }]),
  ),
}

type Principal = { name: string; role: (typeof ROLES)[number]; scope: string; userId: string; token: string }

let ctx: TestContext
let tenantId: string
const CAPABILITIES_OF_TYPES = [...new Set(catalog.types().map((t) => catalog.spec(t).capability))]
/** Who asks, known when the cases are generated: each role with a full token, the owner with narrowed tokens. */
const principals: Principal[] = [
  ...ROLES.map((role) => ({ name: role, role, scope: 'full', userId: '', token: '' })),
  ...['read', 'list:base', ...CAPABILITIES_OF_TYPES.map((c) => `list:${c}`)].map((scope) => ({
    name: `owner token ${scope}`,
    role: 'owner' as const,
    scope,
    userId: '',
    token: '',
  })),
]
const completedRuns = new Map<string, string>()

/** The principals for one type: each role with a full token, and the owner with scopes lacking or holding its capability. */
const principalsFor = (capability: Capability) =>
  principals.filter((p) => !p.scope.startsWith('list:') || p.scope === 'list:base' || p.scope === `list:${capability}`)

const scopeOf = (p: Principal): TokenScope => {
  const parsed = parseScope(p.scope === 'full' || p.scope === 'read' ? p.scope : scopeText(p.scope))
  if ('error' in parsed) throw new Error(parsed.error)
  return parsed
}
const BASE = 'tenant.view,operations.view,operations.manage,schedules.manage'
const scopeText = (name: string) => (name === 'list:base' ? BASE : `${BASE},${name.slice('list:'.length)}`)
/** The one rule: the role and the token both allow the capability; a read token starts nothing. */
const may = (p: Principal, capability: Capability) => {
  const scope = scopeOf(p)
  return can(p.role, capability) && scope.kind !== 'read' && scopeAllows(scope, capability)
}

beforeAll(async () => {
  ctx = await createTestContext({ catalog, handlers, worker: false })
  tenantId = (await ctx.factories.tenant()).id
  const users = new Map<string, { id: string; token: string }>()
  for (const role of ROLES) {
    const { user, token } = await ctx.factories.userWithToken()
    await ctx.factories.member(tenantId, user, role)
    users.set(role, { id: user.id, token })
  }
  for (const p of principals) {
    const user = users.get(p.role)!
    p.userId = user.id
    p.token =
      p.scope === 'full'
        ? user.token
        : (
            await createApiToken(ctx.db, { kind: 'system' }, user.id, {
              name: p.name,
              scope: p.scope === 'read' ? 'read' : scopeText(p.scope),
            })
          ).secret
  }
  // A completed run of every type started by each user: operators may re-run only their own.
  for (const type of catalog.types()) {
    for (const userId of new Set(principals.map((p) => p.userId))) {
      const { run } = await ctx.engine.startRun({
        tenantId,
        type,
        context: SAMPLE[type]!,
        initiatorUserId: userId,
        actor: { kind: 'system' },
      })
      await ctx.db.transaction((tx) =>
        finishRun(tx, catalog, { runId: run.id, from: ['queued'], outcome: 'succeeded', actor: { kind: 'system' } }),
      )
      completedRuns.set(`${type} ${userId}`, run.id)
    }
  }
})
afterAll(() => ctx.close())

describe('the catalog is covered', () => {
  it('has a sample input for every operation type: a new type fails here until it has one', () => {
    expect(catalog.types().filter((t) => !(t in SAMPLE))).toEqual([])
  })

  it('starts every shipped type directly through a route that needs the type’s capability', () => {
    expect(shippedCatalog.types().filter((t) => !(t in DIRECT))).toEqual([])
    for (const [type, direct] of Object.entries(DIRECT))
      expect(catalog.spec(type as never).capability, type).toBe(direct.capability)
  })
})

const cases = (path: string) =>
  catalog
    .types()
    .flatMap((type) => principalsFor(catalog.spec(type).capability).map((p) => ({ type, path, principal: p.name })))
const principal = (name: string) => principals.find((p) => p.name === name)!

describe('re-run', () => {
  it.each(cases('re-run'))('$type by $principal', async ({ type, principal: name }) => {
    const p = principal(name)
    const spec = catalog.spec(type)
    const manages = p.scope !== 'read' && may(p, 'operations.manage')
    const expected = !manages ? 403 : !spec.rerunnable ? 409 : may(p, spec.capability) ? 202 : 403
    const runId = completedRuns.get(`${type} ${p.userId}`)!
    const response = await ctx.request({
      method: 'POST',
      url: `/api/tenants/${tenantId}/operation-runs/${runId}/rerun`,
      token: p.token,
    })
    expect(response.statusCode, response.body.slice(0, 300)).toBe(expected)
    if (expected === 403) expect(errorOf(response.body).code).toBe('forbidden')
  })
})

describe('schedule create', () => {
  it.each(cases('schedule'))('$type by $principal', async ({ type, principal: name }) => {
    const p = principal(name)
    const spec = catalog.spec(type)
    const expected = !may(p, 'schedules.manage') ? 403 : !spec.schedulable ? 422 : may(p, spec.capability) ? 201 : 403
    const payload = { name: `${type} ${name}`, operation_type: type, input: SAMPLE[type], cron: '0 3 * * *' }
    const response = await ctx.request({
      method: 'POST',
      url: `/api/tenants/${tenantId}/schedules`,
      payload,
      token: p.token,
    })
    expect(response.statusCode, response.body.slice(0, 300)).toBe(expected)
  })
})

describe('schedule firing', () => {
  it('starts a schedule’s run only when its creator may start the type now (role and the scope it was made with)', async () => {
    const rows = catalog
      .types()
      .filter((t) => catalog.spec(t).schedulable)
      .flatMap((type) =>
        principalsFor(catalog.spec(type).capability).map((p) => ({
          id: uuidv7(),
          tenantId,
          name: `fire ${type} ${p.name} ${randomUUID()}`,
          operationType: type,
          input: SAMPLE[type]!,
          cron: '0 4 * * *',
          timezone: 'UTC',
          enabled: true,
          nextRunAt: new Date(Date.now() - 60_000),
          createdBy: p.userId,
          creatorScope: p.scope === 'full' || p.scope === 'read' ? p.scope : scopeText(p.scope),
          expected: may(p, catalog.spec(type).capability),
        })),
      )
    await ctx.db.insert(schedules).values(rows.map(({ expected: _, ...row }) => row))
    await new Scheduler(ctx.db, ctx.engine, createLogger('silent'), { now: () => new Date() }).tick()
    const fired = await ctx.db
      .select()
      .from(schedules)
      .where(
        inArray(
          schedules.id,
          rows.map((r) => r.id),
        ),
      )
    const outcome = new Map(fired.map((f) => [f.id, f]))
    for (const row of rows) {
      const after = outcome.get(row.id)!
      expect(after.lastRunId !== null, `${row.name}: ${after.blockedReason}`).toBe(row.expected)
      expect(after.blockedReason === null, row.name).toBe(row.expected)
    }
    expect(rows.length).toBeGreaterThan(20)
  })
})
