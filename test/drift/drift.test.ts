import { and, eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inventoryItems, operationRuns, type InventoryItemRow } from '../../src/db/schema.ts'
import { GRAPH_PERMISSIONS } from '../../src/graph/policy-types.ts'
import { evaluateTenant } from '../../src/modules/baselines/evaluate.ts'
import { ORIGIN, type TestContext } from '../harness.ts'
import { connectTenant, control, inventoryContext, syncAndWait, waitForCompletion } from '../inventory/helpers.ts'
import { waitFor } from '../operations/helpers.ts'

let env: Awaited<ReturnType<typeof inventoryContext>>
let ctx: TestContext
let tenant: Awaited<ReturnType<typeof connectTenant>>
let policies: InventoryItemRow[]
let baselineId: string

type Finding = {
  id: string
  entry_id: string
  item_id: string | null
  path: string
  kind: string
  state: string
  severity: string
  expected: unknown
  actual: unknown
  reopened_count: number
  caused_by: { version_id: string | null; changed_by: Record<string, unknown> | null } | null
  exception: { value: unknown; reason: string; approved_by: string; expires_at: string | null } | null
}

const base = () => `/api/tenants/${tenant.tenantId}`

async function call<T>(method: string, url: string, payload?: unknown) {
  const response = await ctx.request({
    method,
    url,
    token: tenant.token,
    headers: { origin: ORIGIN },
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  })
  return { status: response.statusCode, body: (response.body ? JSON.parse(response.body) : null) as T }
}

/** A sync, then the drift evaluation it started (a system run attributed to it). */
async function syncAndEvaluate() {
  const sync = await syncAndWait(ctx, tenant.tenantId, tenant.token)
  expect(sync.outcome).not.toBe('failed')
  const drift = await waitFor(async () => {
    const [run] = await ctx.db
      .select()
      .from(operationRuns)
      .where(and(eq(operationRuns.type, 'drift.evaluate'), sql`${operationRuns.context}->>'sync_run_id' = ${sync.id}`))
    return run
  }, 'the drift evaluation after the sync')
  expect(drift.initiatorUserId).toBeNull()
  const done = await waitForCompletion(ctx, drift.id)
  expect(done.outcome).toBe('succeeded')
  return sync
}

async function openFindings(query = '') {
  const out: Finding[] = []
  let cursor: string | null = null
  do {
    const page: { status: number; body: { data: Finding[]; next_cursor: string | null } } = await call(
      'GET',
      `${base()}/findings?limit=3${query}${cursor ? `&cursor=${cursor}` : ''}`,
    )
    expect(page.status).toBe(200)
    out.push(...page.body.data)
    cursor = page.body.next_cursor
  } while (cursor)
  return out.filter((f) => f.state !== 'resolved')
}

beforeAll(async () => {
  env = await inventoryContext()
  ctx = env.ctx
  tenant = await connectTenant(ctx, env.emulator, { policies: 120 })
  expect((await syncAndWait(ctx, tenant.tenantId, tenant.token)).outcome).toBe('succeeded')
  policies = await ctx.db
    .select()
    .from(inventoryItems)
    .where(
      and(
        eq(inventoryItems.tenantId, tenant.tenantId),
        eq(inventoryItems.policyType, 'deviceConfiguration'),
        sql`${inventoryItems.removedAt} IS NULL`,
      ),
    )
    .orderBy(inventoryItems.displayName)
    .limit(5)
  expect(policies).toHaveLength(5)
})
afterAll(async () => env.close())

describe('baselines and drift (issue 25)', () => {
  it('builds a baseline from picked objects, versions each change, and assigns it with bindings proposed by name', async () => {
    const created = await call<{ id: string; version: number; entry_count: number }>('POST', '/api/baselines', {
      name: 'Golden',
      from: { tenant_id: tenant.tenantId, item_ids: policies.slice(0, 4).map((p) => p.id) },
    })
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({ version: 1, entry_count: 4 })
    baselineId = created.body.id
    // Adding an entry is version 2; the diff between them names it.
    const added = await call<{ data: { id: string }[] }>('POST', `/api/baselines/${baselineId}/entries`, {
      from: { tenant_id: tenant.tenantId, item_ids: [policies[4]!.id] },
    })
    expect(added.status).toBe(201)
    const diff = await call<{ from: number; to: number; entries: { kind: string; display_name: string }[] }>(
      'GET',
      `/api/baselines/${baselineId}/diff`,
    )
    expect(diff.body).toMatchObject({
      from: 1,
      to: 2,
      entries: [{ kind: 'added', display_name: policies[4]!.displayName }],
    })
    const versions = await call<{ data: { number: number }[] }>('GET', `/api/baselines/${baselineId}/versions`)
    expect(versions.body.data.map((v) => v.number)).toEqual([2, 1])
    // A bad body names its field.
    const bad = await call<{ error: { message: string } }>('POST', '/api/baselines', {
      name: 'x',
      from: { tenant_id: 'no' },
    })
    expect(bad.status).toBe(422)
    expect(bad.body.error.message).toContain('from')

    const proposal = await call<{ assigned: boolean; bindings: { item_id: string | null; proposed: boolean }[] }>(
      'GET',
      `${base()}/baselines/${baselineId}`,
    )
    expect(proposal.body.assigned).toBe(false)
    expect(proposal.body.bindings.map((b) => b.item_id).sort()).toEqual(policies.map((p) => p.id).sort())
    const assigned = await call<{ enabled: boolean }>('PUT', `${base()}/baselines/${baselineId}`, { enabled: true })
    expect(assigned.status).toBe(200)
    expect(assigned.body.enabled).toBe(true)
  })

  it('an unchanged tenant over several syncs: not one finding', async () => {
    for (let i = 0; i < 3; i++) await syncAndEvaluate()
    expect(await openFindings()).toEqual([])
    const alignment = await call<{ data: { aligned: number; deviating: number; score: number; coverage: number }[] }>(
      'GET',
      `${base()}/alignment`,
    )
    expect(alignment.body.data).toEqual([
      expect.objectContaining({ aligned: 5, deviating: 0, excepted: 0, unknown: 0, score: 100, coverage: 100 }),
    ])
  })

  it('edits through the emulator: exactly the expected findings, each with the editing actor', async () => {
    const [edited, renamed, deleted] = [policies[0]!, policies[1]!, policies[2]!]
    await control(env.emulator, 'PATCH', `/tenants/${tenant.entraTenantId}/items/${edited.externalId}`, {
      description: 'changed by alex',
      actor: { user_principal_name: 'alex@contoso.com' },
    })
    await control(env.emulator, 'PATCH', `/tenants/${tenant.entraTenantId}/items/${renamed.externalId}`, {
      displayName: `${renamed.displayName} (renamed)`,
      actor: { user_principal_name: 'sam@contoso.com' },
    })
    await control(env.emulator, 'DELETE', `/tenants/${tenant.entraTenantId}/items/${deleted.externalId}`)
    await syncAndEvaluate()
    const found = await openFindings()
    const summary = found.map((f) => `${f.item_id} ${f.path} ${f.kind} ${f.severity}`).sort()
    expect(summary).toEqual(
      [
        `${edited.id} description changed low`,
        `${renamed.id} displayName changed low`,
        `${deleted.id}  missing high`,
      ].sort(),
    )
    const byItem = new Map(found.map((f) => [f.item_id, f]))
    expect(byItem.get(edited.id)).toMatchObject({
      state: 'open',
      actual: 'changed by alex',
      caused_by: { changed_by: { user_principal_name: 'alex@contoso.com' } },
    })
    expect(byItem.get(renamed.id)!.caused_by!.changed_by).toMatchObject({ user_principal_name: 'sam@contoso.com' })
    // The renamed object stays bound (by id), not proposed anew.
    const assignment = await call<{ bindings: { entry_id: string; item_id: string | null; proposed: boolean }[] }>(
      'GET',
      `${base()}/baselines/${baselineId}`,
    )
    expect(assignment.body.bindings.find((b) => b.item_id === renamed.id)).toMatchObject({ proposed: false })
    // Unchanged since: the next evaluation opens nothing new and reopens nothing.
    await syncAndEvaluate()
    expect((await openFindings()).map((f) => f.id).sort()).toEqual(found.map((f) => f.id).sort())
  })

  it('acknowledge, then the value matches again: resolved; deviating again: reopened, acknowledgement cleared', async () => {
    const edited = policies[0]!
    const [finding] = await openFindings(`&severity=low`).then((all) => all.filter((f) => f.item_id === edited.id))
    const ack = await call<Finding & { acknowledged: unknown }>('POST', `${base()}/findings/${finding!.id}/acknowledge`)
    expect(ack.status).toBe(200)
    expect(ack.body.state).toBe('acknowledged')
    await control(env.emulator, 'PATCH', `/tenants/${tenant.entraTenantId}/items/${edited.externalId}`, {
      description: edited.payload.description ?? null,
    })
    await syncAndEvaluate()
    const resolved = await call<{ data: Finding[] }>('GET', `${base()}/findings?state=resolved`)
    expect(resolved.body.data.map((f) => f.id)).toContain(finding!.id)
    await control(env.emulator, 'PATCH', `/tenants/${tenant.entraTenantId}/items/${edited.externalId}`, {
      description: 'changed again',
      actor: { app_name: 'Automation' },
    })
    await syncAndEvaluate()
    const again = (await openFindings()).find((f) => f.id === finding!.id)
    expect(again).toMatchObject({
      state: 'open',
      reopened_count: 1,
      acknowledged: null,
      actual: 'changed again',
      caused_by: { changed_by: { app_name: 'Automation' } },
    })
    // Each transition is an alert event, recorded once with the evaluation (ADR 030): opened, resolved,
    // reopened by whoever changed it — the evaluations in between, which changed nothing, added none.
    const { rows: events } = await ctx.db.execute<{ kind: string; dedup_key: string; actor: unknown }>(sql`
      SELECT kind, dedup_key, actor FROM alert_events WHERE subject->>'id' = ${finding!.id} ORDER BY id`)
    expect(events.map((e) => e.kind)).toEqual(['finding.opened', 'finding.resolved', 'finding.reopened'])
    expect(events.map((e) => e.dedup_key)).toEqual([
      `finding.opened:${finding!.id}:0`,
      `finding.resolved:${finding!.id}:0`,
      `finding.reopened:${finding!.id}:1`,
    ])
    expect(events[2]!.actor).toEqual({ app_name: 'Automation' })
  })

  it('an exception stays silent while the accepted value holds, and reopens on change and on expiry (fake clock)', async () => {
    const renamed = policies[1]!
    const finding = (await openFindings()).find((f) => f.item_id === renamed.id)!
    const expires = new Date(Date.now() + 7 * 24 * 3600_000).toISOString()
    const excepted = await call<Finding>('POST', `${base()}/findings/${finding.id}/exception`, {
      reason: 'Customer naming',
      expires_at: expires,
    })
    expect(excepted.status).toBe(200)
    expect(excepted.body).toMatchObject({
      state: 'excepted',
      exception: { reason: 'Customer naming', value: finding.actual },
    })
    const evaluate = (now: Date) => evaluateTenant(ctx.db, tenant.tenantId, { now, actor: { kind: 'system' } })
    await evaluate(new Date(Date.now() + 24 * 3600_000))
    const state = async () =>
      (await call<{ data: Finding[] }>('GET', `${base()}/findings?baseline_id=${baselineId}&limit=200`)).body.data.find(
        (f) => f.id === finding.id,
      )!
    expect(await state()).toMatchObject({ state: 'excepted', reopened_count: 0 })
    // Past its expiry: open again, the exception gone.
    await evaluate(new Date(Date.now() + 8 * 24 * 3600_000))
    expect(await state()).toMatchObject({ state: 'open', reopened_count: 1, exception: null })
    // Excepted again, then the value changes: open again.
    expect(
      (await call('POST', `${base()}/findings/${finding.id}/exception`, { reason: 'ok', expires_at: null })).status,
    ).toBe(200)
    await control(env.emulator, 'PATCH', `/tenants/${tenant.entraTenantId}/items/${renamed.externalId}`, {
      displayName: `${renamed.displayName} (renamed twice)`,
    })
    await syncAndEvaluate()
    expect(await state()).toMatchObject({
      state: 'open',
      reopened_count: 2,
      actual: `${renamed.displayName} (renamed twice)`,
    })
  })

  it('an override is the desired value in this tenant, not a finding', async () => {
    const renamed = policies[1]!
    const entries = await call<{ data: { id: string; source: { item_id: string } }[] }>(
      'GET',
      `/api/baselines/${baselineId}/entries`,
    )
    const entry = entries.body.data.find((e) => e.source.item_id === renamed.id)!
    const put = await call('PUT', `${base()}/baselines/${baselineId}`, {
      overrides: [{ entry_id: entry.id, path: 'displayName', value: `${renamed.displayName} (renamed twice)` }],
    })
    expect(put.status).toBe(200)
    await syncAndEvaluate()
    expect((await openFindings()).filter((f) => f.item_id === renamed.id)).toEqual([])
  })

  it('a type that cannot be read: its findings are unknown, none opened or resolved', async () => {
    const before = await openFindings()
    expect(before.length).toBeGreaterThan(0)
    // The object deleted earlier comes back in the emulator while the type cannot be read.
    await control(env.emulator, 'PATCH', `/tenants/${tenant.entraTenantId}/items/${policies[3]!.externalId}`, {
      description: 'unseen change',
    })
    await control(
      env.emulator,
      'PUT',
      `/tenants/${tenant.entraTenantId}/permissions`,
      GRAPH_PERMISSIONS.filter((p) => p !== 'DeviceManagementConfiguration.Read.All'),
    )
    try {
      await syncAndEvaluate()
      const after = await openFindings()
      expect(after.map((f) => f.id).sort()).toEqual(before.map((f) => f.id).sort())
      expect(after.every((f) => f.state === 'unknown')).toBe(true)
      const alignment = await call<{ data: { unknown: number; coverage: number; score: number | null }[] }>(
        'GET',
        `${base()}/alignment`,
      )
      expect(alignment.body.data[0]).toMatchObject({ unknown: 5, coverage: 0, score: null })
    } finally {
      await control(env.emulator, 'PUT', `/tenants/${tenant.entraTenantId}/permissions`, GRAPH_PERMISSIONS)
    }
    await syncAndEvaluate()
    const back = await openFindings()
    expect(back.some((f) => f.state === 'unknown')).toBe(false)
    expect(back.find((f) => f.item_id === policies[3]!.id)).toMatchObject({
      path: 'description',
      actual: 'unseen change',
    })
  })
})
