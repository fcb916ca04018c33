import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCatalog } from '../../src/modules/operations/catalog.ts'
import { createTestContext, errorOf, type TestContext } from '../harness.ts'
import { gate, testCatalog, testHandlers } from './fixtures.ts'
import { runRow, waitFor } from './helpers.ts'
import { stampHandler } from './recipe/jobs.ts'
import { recipeOperationTypes } from './recipe/operation-types.ts'

// Where src/operation-types.ts assembles the shipped types, a test assembles its own: one line each.
const catalog = createCatalog({ ...testCatalog.specs, ...recipeOperationTypes })
const handlers = { ...testHandlers, 'recipe.stamp': stampHandler }

let ctx: TestContext
let owner: { user: { id: string }; token: string }
let tenantId: string
let foreignToken: string

beforeAll(async () => {
  ctx = await createTestContext({ catalog, handlers })
  owner = await ctx.factories.userWithToken()
  tenantId = (await ctx.factories.tenant()).id
  await ctx.factories.member(tenantId, owner.user, 'owner')
  const foreigner = await ctx.factories.userWithToken()
  await ctx.factories.member((await ctx.factories.tenant()).id, foreigner.user, 'owner')
  foreignToken = foreigner.token
})
afterAll(() => ctx.close())

const get = async <T>(url: string, token = owner.token) => {
  const response = await ctx.request({ method: 'GET', url, token })
  return { status: response.statusCode, body: JSON.parse(response.body) as T, raw: response.body }
}
const start = (type: 'recipe.stamp' | 'test.block', context: Record<string, unknown>) =>
  ctx.engine.startRun({
    tenantId,
    type,
    context,
    initiatorUserId: owner.user.id,
    actor: { kind: 'user', userId: owner.user.id, ip: null },
  })
const completed = (id: string) =>
  waitFor(
    async () => ((await runRow(ctx, id)).status === 'completed' ? runRow(ctx, id) : undefined),
    `run ${id} to complete`,
  )

type Item = {
  id: string
  target: { type: string; id: string; name: string }
  action: string
  status: string
  code: string | null
  message: string | null
}
type OperationType = { type: string; label: string; failure_codes: { code: string; fix: string }[] }

describe('a type added by the recipe alone', () => {
  it("is described by GET /api/operation-types, with its failure fixes and the engine's", async () => {
    const { status, body } = await get<{ data: OperationType[] }>('/api/operation-types')
    expect(status).toBe(200)
    const stamp = body.data.find((t) => t.type === 'recipe.stamp')
    expect(stamp).toMatchObject({
      label: 'Stamp targets',
      description: 'Stamps each target with a marker, and reports one result per target.',
      capability: 'inventory.sync',
      cancellable: true,
      rerunnable: true,
      schedulable: true,
    })
    expect(stamp!.failure_codes).toContainEqual({
      code: 'target_locked',
      fix: 'Unlock the target in Intune (it is being edited elsewhere), then re-run.',
    })
    expect(stamp!.failure_codes.map((f) => f.code)).toContain('worker_lost')
    expect((await ctx.request({ method: 'GET', url: '/api/operation-types' })).statusCode).toBe(401)
  })

  it('runs, keeps the aggregate in summary_counts, and lists its per-item results by keyset, filtered by status', async () => {
    const { run } = await start('recipe.stamp', { targets: 7, fail_every: 3 })
    const done = await completed(run.id)
    expect(done.outcome).toBe('partially_succeeded')
    expect(done.summaryCounts).toEqual({ total: 7, processed: 7, succeeded: 5, failed: 2 })
    expect(done.failures).toEqual([{ code: 'target_locked', message: '2 targets were locked', subject: null }])

    const base = `/api/tenants/${tenantId}/operation-runs/${run.id}/items`
    const seen: Item[] = []
    let cursor: string | null = null
    do {
      const page: { status: number; body: { data: Item[]; next_cursor: string | null } } = await get(
        `${base}?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
      )
      expect(page.status).toBe(200)
      expect(page.body.data.length).toBeLessThanOrEqual(3)
      seen.push(...page.body.data)
      cursor = page.body.next_cursor
    } while (cursor)
    expect(seen.map((i) => i.target.id)).toEqual(Array.from({ length: 7 }, (_, i) => `target-${i + 1}`))
    expect(seen[2]).toMatchObject({
      target: { type: 'deviceConfiguration', id: 'target-3', name: 'Target 3' },
      action: 'stamp',
      status: 'failed',
      code: 'target_locked',
      message: 'Target 3 is locked',
    })

    const failed = await get<{ data: Item[]; next_cursor: string | null }>(`${base}?status=failed`)
    expect(failed.body.data.map((i) => i.target.id)).toEqual(['target-3', 'target-6'])
    expect(failed.body.next_cursor).toBeNull()
    const skipped = await get<{ data: Item[] }>(`${base}?status=skipped`)
    expect(skipped.body.data).toEqual([])
    // The console's groups: what the run wrote or tried to (the writes first), and blocked apart from plain skips.
    const written = await get<{ data: Item[] }>(`${base}?status=written`)
    expect(written.body.data.map((i) => i.target.id)).toEqual(Array.from({ length: 7 }, (_, i) => `target-${i + 1}`))
    const blocked = await get<{ data: Item[] }>(`${base}?status=blocked`)
    expect(blocked.body.data).toEqual([])

    const badStatus = await get(`${base}?status=broken`)
    expect(badStatus.status).toBe(422)
    expect(badStatus.raw).toContain('status')
    const badCursor = await get(`${base}?cursor=abc`)
    expect(badCursor.status).toBe(422)
    expect(errorOf(badCursor.raw).details).toEqual({
      fields: [{ field: 'cursor', message: 'is not a cursor this API returned' }],
    })
    expect((await get(base, foreignToken)).status).toBe(404)
    expect((await get(`/api/tenants/${tenantId}/operation-runs/${crypto.randomUUID()}/items`)).status).toBe(404)
  })

  it("carries the run's outcome on its notification", async () => {
    const { run } = await start('recipe.stamp', { targets: 2 })
    await completed(run.id)
    const { body } = await get<{ data: { run_id: string; outcome: string; title: string }[] }>('/api/notifications')
    expect(body.data.find((n) => n.run_id === run.id)).toMatchObject({
      outcome: 'succeeded',
      title: 'Stamp targets completed',
    })
  })
})

describe('re-run', () => {
  const rerun = (runId: string) =>
    ctx.request({ method: 'POST', url: `/api/tenants/${tenantId}/operation-runs/${runId}/rerun`, token: owner.token })

  it('starts the same type with the stored input', async () => {
    const { run } = await start('recipe.stamp', { targets: 4 })
    await completed(run.id)
    const response = await rerun(run.id)
    expect(response.statusCode, response.body).toBe(202)
    const body = JSON.parse(response.body) as {
      run: { id: string; type: string; context: unknown; initiator: { id: string } }
      deduplicated: boolean
    }
    expect(body.deduplicated).toBe(false)
    expect(body.run).toMatchObject({ type: 'recipe.stamp', context: { targets: 4 }, initiator: { id: owner.user.id } })
    expect(body.run.id).not.toBe(run.id)
    expect((await completed(body.run.id)).summaryCounts).toEqual({ total: 4, processed: 4, succeeded: 4 })
  })

  it('is deduplicated like any start, and refused while the run is active', async () => {
    const { run } = await start('test.block', { gate: 'rerun-dedupe' })
    await waitFor(async () => (await runRow(ctx, run.id)).status === 'running', 'the run to run')
    expect((await rerun(run.id)).statusCode).toBe(409)
    await ctx.request({
      method: 'POST',
      url: `/api/tenants/${tenantId}/operation-runs/${run.id}/cancel`,
      token: owner.token,
    })
    expect((await completed(run.id)).outcome).toBe('cancelled')
    const first = JSON.parse((await rerun(run.id)).body) as { run: { id: string }; deduplicated: boolean }
    const second = JSON.parse((await rerun(run.id)).body) as { run: { id: string }; deduplicated: boolean }
    expect(first.deduplicated).toBe(false)
    expect(second).toEqual({ run: expect.objectContaining({ id: first.run.id }) as unknown, deduplicated: true })
    gate('rerun-dedupe').release()
    expect((await completed(first.run.id)).outcome).toBe('succeeded')
  })
})
