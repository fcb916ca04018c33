import { randomBytes } from 'node:crypto'
import { eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DatabaseHandle } from '../../src/db/engine.ts'
import { graphWrites } from '../../src/db/schema.ts'
import { GraphError } from '../../src/graph/errors.ts'
import { GraphClient } from '../../src/graph/graph-client.ts'
import { getPolicyType, POLICY_TYPES } from '../../src/graph/policy-types.ts'
import { BudgetRegistry } from '../../src/graph/throttle-budget.ts'
import { createMsalTokenProvider } from '../../src/graph/token-provider.ts'
import {
  afterCreateRequests,
  assignRequest,
  createRequest,
  deleteRequest,
  detailsNotUpdated,
  notWritableReason,
  reconcileByMarker,
  sendWrite,
  SlidingWindowLimiter,
  updateRequests,
  writableFields,
  WriteJournal,
  type ObjectContent,
  type WriteRequest,
} from '../../src/graph/writes/index.ts'
import { SecretBox } from '../../src/lib/crypto.ts'
import { uuidv7 } from '../../src/lib/ids.ts'
import { normaliseValue } from '../../src/modules/inventory/normalise.ts'
import { openTestDatabase } from '../database.ts'
import { Factories } from '../factories.ts'
import { control, createTenant, useEmulator } from './emulator-helpers.ts'

const env = useEmulator()
const tokens = createMsalTokenProvider()
const FAST_RETRY = { baseDelayMs: 20, maxDelayMs: 200, maxAttempts: 8 }
const client = () =>
  new GraphClient({
    tokens,
    retry: FAST_RETRY,
    budgets: new BudgetRegistry({ reads: 100_000, writes: 10_000, windowMs: 20_000 }),
  })

let handle: DatabaseHandle
let factories: Factories
beforeAll(async () => {
  handle = await openTestDatabase()
  factories = new Factories(handle.db, new SecretBox(randomBytes(32)))
})
afterAll(async () => {
  await handle.close()
})

type Body = Record<string, unknown>
type ContentObject = { type: string; id: string; display_name: string; content: Body }

async function contents(tenantId: string): Promise<ContentObject[]> {
  return (
    await control<{ objects: ContentObject[] }>(env.emulator, 'GET', `/tenants/${tenantId}/inventory?include=content`)
  ).body.objects
}

/** An object of the ground truth as the inventory keeps it: normalised payload, assignments apart. */
function asContent(o: ContentObject): ObjectContent {
  const { assignments, ...payload } = o.content
  return { payload: normaliseValue(payload) as Body, assignments: normaliseValue(assignments ?? []) as Body[] }
}

/** Server-set and service-computed values (counts, flags Graph derives), and ids. */
const IGNORED = new Set([
  'id',
  'createdDateTime',
  'lastModifiedDateTime',
  'modifiedDateTime',
  'version',
  'secretReferenceValueId',
  'settingCount',
  'isAssigned',
  'deployedAppCount',
  'creationSource',
  'referencingConfigurationPolicyCount',
])
/** Content without ids and server-set values (a re-created object has new ones), arrays in canonical order. */
function comparable(value: unknown): unknown {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip)
    if (typeof v !== 'object' || v === null) return v
    return Object.fromEntries(
      Object.entries(v)
        .filter(([k]) => !IGNORED.has(k))
        .map(([k, x]) => [k, strip(x)]),
    )
  }
  return normaliseValue(strip(value))
}

describe('write strategies', () => {
  it('re-create every writable catalog type from its content: the new object equals the original, assignments included', async () => {
    const { tenant, ctx } = await createTenant(env.emulator, { policies: 300 })
    await control(env.emulator, 'PUT', '/faults', { throttle_scale: 10 })
    const graph = client()
    const originals = await contents(tenant.tenant_id)
    const covered: string[] = []
    for (const entry of POLICY_TYPES.filter((e) => e.listable)) {
      const original = originals.find(
        (o) =>
          o.type === entry.key &&
          !JSON.stringify(o.content).includes('****') &&
          notWritableReason(entry, o.content) === null,
      )
      if (!original) continue
      covered.push(entry.key)
      const content = asContent(original)
      const id = await sendWrite(graph, ctx, entry, createRequest(entry, content), crypto.randomUUID())
      expect(id, entry.key).toBeTruthy()
      for (const request of afterCreateRequests(entry, id!, content))
        await sendWrite(graph, ctx, entry, request, crypto.randomUUID(), id)
      const assign = assignRequest(entry, id!, content.payload, content.assignments)
      if (assign) await sendWrite(graph, ctx, entry, assign, crypto.randomUUID(), id)
      const after = (await contents(tenant.tenant_id)).find((o) => o.id === id)!
      expect(comparable(after.content), entry.key).toEqual(comparable(original.content))

      // Updated back from another object's content of the type: equal to that one (but its name).
      const other = originals.find(
        (o) =>
          o.type === entry.key &&
          o.id !== original.id &&
          !JSON.stringify(o.content).includes('****') &&
          o.content['@odata.type'] === original.content['@odata.type'],
      )
      if (!other) continue
      for (const request of updateRequests(entry, id!, asContent(other), asContent(after)))
        await sendWrite(graph, ctx, entry, request, crypto.randomUUID(), id)
      const updated = (await contents(tenant.tenant_id)).find((o) => o.id === id)!
      // What an update cannot write (PATCH takes no navigation property) stays as it was.
      const notUpdated = ['assignments', ...detailsNotUpdated(entry)]
      const without = (body: Body) => Object.fromEntries(Object.entries(body).filter(([k]) => !notUpdated.includes(k)))
      expect(comparable(without(updated.content)), `${entry.key} updated`).toEqual(comparable(without(other.content)))
      for (const name of detailsNotUpdated(entry))
        expect(comparable(updated.content[name]), `${entry.key} ${name}`).toEqual(comparable(after.content[name]))
    }
    expect(covered.length).toBeGreaterThan(25)
    expect(covered).toEqual(
      expect.arrayContaining([
        'settingsCatalogPolicy',
        'deviceCompliancePolicy',
        'groupPolicyConfiguration',
        'deviceManagementScript',
        'deviceConfiguration',
        'managedAppPolicy',
      ]),
    )
  })
})

describe('write refusals', () => {
  it('names the ReadWrite permission a write lacks', async () => {
    const { ctx } = await createTenant(env.emulator, { policies: 10, permissions: ['DeviceManagementRBAC.Read.All'] })
    const error = await client()
      .write(
        ctx,
        'POST',
        '/beta/deviceManagement/roleScopeTags',
        { displayName: 'x' },
        { permission: 'DeviceManagementRBAC.ReadWrite.All', subject: 'Scope tags' },
      )
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(GraphError)
    expect((error as GraphError).code).toBe('missing_permission')
    expect((error as GraphError).message).toContain(
      'lacks the application permission DeviceManagementRBAC.ReadWrite.All needed to write Scope tags',
    )
  })
})

describe('the write limiter', () => {
  it('never starts more writes in any window than the limit allows, and sustains the rate', async () => {
    const limiter = new SlidingWindowLimiter(20, 300)
    // The times the limiter admitted each write: a time taken after `take` resolved would include the
    // event loop's delay on a busy machine, and two admissions a window apart could then seem to share one.
    const starts = await Promise.all(Array.from({ length: 60 }, () => limiter.take(1)))
    starts.sort((a, b) => a - b)
    for (let i = 0; i < starts.length; i++) {
      // In the window opened at starts[i] unless it left it (the limiter's own test: `start <= now - window`).
      const inWindow = starts.filter((t) => t >= starts[i]! && !(starts[i]! <= t - 300)).length
      expect(inWindow).toBeLessThanOrEqual(limiter.limit)
    }
    expect(limiter.limit).toBe(19)
  })

  it("keeps a tenant under the emulator's write limit: no 429 for a burst of writes", async () => {
    const { ctx } = await createTenant(env.emulator, { policies: 10 })
    await control(env.emulator, 'PUT', '/faults', { throttle_window_ms: 400, throttle_scale: 0.1 })
    // 10 writes per app per 400 ms in the emulator; the same limit for the client.
    const graph = new GraphClient({
      tokens,
      retry: FAST_RETRY,
      budgets: new BudgetRegistry({ reads: 100_000, writes: 10, windowMs: 400 }),
    })
    const entry = getPolicyType('roleScopeTag')
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        graph.write(ctx, 'POST', `/beta/${entry.path}`, { displayName: `Tag ${i}` }),
      ),
    )
    expect(graph.counters.throttled).toBe(0)
  })
})

/** A content check for a write of `entry`: the object read from its collection by id (null on 404). */
function checkOf(
  graph: GraphClient,
  ctx: Parameters<typeof reconcileByMarker>[1],
  entry: ReturnType<typeof getPolicyType>,
  request: WriteRequest,
  content: ObjectContent,
) {
  const read = async (id: string): Promise<ObjectContent | null> => {
    try {
      const { '@odata.context': _c, ...body } = await graph.get<Record<string, unknown>>(
        ctx,
        `/${entry.apiVersion}/${entry.path}/${id}`,
      )
      return { payload: normaliseValue(body) as Record<string, unknown>, assignments: [] }
    } catch (error) {
      if (error instanceof GraphError && error.code === 'not_found') return null
      throw error
    }
  }
  return { entry, request, content, read }
}

describe('the write journal', () => {
  async function journalFor(
    tenantKey: string,
    graph: GraphClient,
    ctx: Parameters<typeof reconcileByMarker>[1],
    runId = uuidv7(),
  ) {
    void tenantKey
    const tenant = await factories.tenant()
    return {
      journal: new WriteJournal({ tenantId: tenant.id, runId, db: handle.db, graph, ctx }),
      tenantId: tenant.id,
      runId,
    }
  }

  it('creates each object exactly once when half the responses are lost', async () => {
    const { tenant, ctx } = await createTenant(env.emulator, { policies: 10 })
    const graph = client()
    const { journal, runId } = await journalFor(tenant.tenant_id, graph, ctx)
    const entry = getPolicyType('assignmentFilter')
    await control(env.emulator, 'PUT', '/faults', { drop_response_rate: 0.5 })
    const names = Array.from({ length: 24 }, (_, i) => `Filter ${i}`)
    const outcomes: Awaited<ReturnType<WriteJournal['writeOnce']>>[] = []
    for (const name of names) {
      const content = {
        payload: { displayName: name, platform: 'windows10AndLater', rule: '(device.osVersion -startsWith "10")' },
        assignments: [],
      }
      const request = createRequest(entry, content)
      outcomes.push(
        await journal.writeOnce(`${name}:create`, {
          operation: 'create',
          policyType: entry.key,
          targetId: null,
          method: request.method,
          path: request.url,
          expect: checkOf(graph, ctx, entry, request, content),
          send: (marker) => sendWrite(graph, ctx, entry, request, marker),
        }),
      )
    }
    await control(env.emulator, 'PUT', '/faults', {})
    const objects = (await contents(tenant.tenant_id)).filter(
      (o) => o.type === entry.key && names.includes(o.display_name),
    )
    expect(objects.map((o) => o.display_name).sort()).toEqual([...names].sort())
    expect(outcomes.some((o) => o.how === 'reconciled')).toBe(true)
    expect(new Set(outcomes.map((o) => o.targetId)).size).toBe(names.length)
    for (const o of outcomes)
      expect(objects.find((x) => x.display_name === names[outcomes.indexOf(o)])?.id).toBe(o.targetId)
    const rows = await handle.db.select().from(graphWrites).where(eq(graphWrites.runId, runId))
    expect(rows.map((r) => r.state)).toEqual(names.map(() => 'confirmed'))

    // The same run again (a re-queued attempt): nothing is sent.
    const again = new WriteJournal({ tenantId: rows[0]!.tenantId, runId, db: handle.db, graph, ctx })
    const before = graph.counters.graphRequests
    for (const name of names) {
      const content = { payload: { displayName: name }, assignments: [] }
      const expect_ = checkOf(graph, ctx, entry, createRequest(entry, content), content)
      const outcome = await again.writeOnce(`${name}:create`, {
        operation: 'create',
        policyType: entry.key,
        targetId: null,
        method: 'POST',
        path: '/x',
        expect: expect_,
        send: () => Promise.reject(new Error('must not send')),
      })
      expect(outcome.how).toBe('already')
    }
    expect(graph.counters.graphRequests).toBe(before)
  })

  it('reconciles a write its worker sent but never confirmed, and sends again one that never left', async () => {
    const { tenant, ctx } = await createTenant(env.emulator, { policies: 10 })
    const graph = client()
    const { journal, runId, tenantId } = await journalFor(tenant.tenant_id, graph, ctx)
    const entry = getPolicyType('roleScopeTag')
    const request = (name: string) =>
      createRequest(entry, { payload: { displayName: name, description: '' }, assignments: [] })
    // A worker intended two writes, sent the first and died before confirming either.
    const sent = await journal.sending(
      await journal.intend('a', {
        operation: 'create',
        policyType: entry.key,
        targetId: null,
        method: 'POST',
        path: request('A').url,
      }),
      { newMarker: false },
    )
    const createdId = await sendWrite(graph, ctx, entry, request('A'), sent.marker)
    await journal.sending(
      await journal.intend('b', {
        operation: 'create',
        policyType: entry.key,
        targetId: null,
        method: 'POST',
        path: request('B').url,
      }),
      { newMarker: false },
    )

    const next = new WriteJournal({ tenantId, runId, db: handle.db, graph, ctx })
    const sends: string[] = []
    const content = (name: string) => ({ payload: { displayName: name, description: '' }, assignments: [] })
    const spec = (name: string) => ({
      operation: 'create' as const,
      policyType: entry.key,
      targetId: null,
      method: 'POST' as const,
      path: request(name).url,
      expect: checkOf(graph, ctx, entry, request(name), content(name)),
      send: (marker: string) => (sends.push(name), sendWrite(graph, ctx, entry, request(name), marker)),
    })
    const a = await next.writeOnce('a', spec('A'))
    const b = await next.writeOnce('b', spec('B'))
    expect(a).toMatchObject({ how: 'reconciled', targetId: createdId })
    expect(b.how).toBe('written')
    expect(sends).toEqual(['B'])
    const tags = (await contents(tenant.tenant_id)).filter(
      (o) => o.type === entry.key && ['A', 'B'].includes(o.display_name),
    )
    expect(tags.map((t) => t.display_name).sort()).toEqual(['A', 'B'])
    // A write's marker is findable in Graph afterwards: the audit event's correlationId.
    expect(await reconcileByMarker(graph, ctx, b.entry)).toEqual({ applied: true, targetId: b.targetId })
    expect(b.entry.marker).not.toBe(sent.marker)
  })

  it("with the audit log lagging and every answer lost, reconciles from Graph's objects: creates (one of two identical each), an update, a delete", async () => {
    const { tenant, ctx } = await createTenant(env.emulator, { policies: 10 })
    const graph = client()
    const { journal } = await journalFor(tenant.tenant_id, graph, ctx)
    const entry = getPolicyType('assignmentFilter')
    const read = async (id: string): Promise<ObjectContent | null> => {
      try {
        const { '@odata.context': _c, ...body } = await graph.get<Body>(
          ctx,
          `/beta/deviceManagement/assignmentFilters/${id}`,
        )
        return { payload: normaliseValue(body) as Body, assignments: [] }
      } catch (error) {
        if (error instanceof GraphError && error.code === 'not_found') return null
        throw error
      }
    }
    const content: ObjectContent = {
      payload: { displayName: 'Twin', platform: 'windows10AndLater', rule: '(device.osVersion -startsWith "10")' },
      assignments: [],
    }
    const sends: string[] = []
    const write = (
      key: string,
      operation: 'create' | 'update' | 'delete',
      request: WriteRequest,
      targetId: string | null,
      intended: ObjectContent = content,
    ) =>
      journal.writeOnce(key, {
        operation,
        policyType: entry.key,
        targetId,
        method: request.method,
        path: request.url,
        expect: { entry, request, content: intended, read },
        send: (marker) => (sends.push(key), sendWrite(graph, ctx, entry, request, marker, targetId)),
      })
    await control(env.emulator, 'PUT', `/tenants/${tenant.tenant_id}/faults`, { audit_delay_ms: 3_600_000 })
    await control(env.emulator, 'PUT', '/faults', { drop_response_rate: 1 })
    try {
      const first = await write('first', 'create', createRequest(entry, content), null)
      const second = await write('second', 'create', createRequest(entry, content), null)
      expect([first.how, second.how]).toEqual(['reconciled', 'reconciled'])
      const twins = (await contents(tenant.tenant_id)).filter((o) => o.type === entry.key && o.display_name === 'Twin')
      expect(twins).toHaveLength(2)
      expect(new Set([first.targetId, second.targetId])).toEqual(new Set(twins.map((t) => t.id)))
      const changed: ObjectContent = {
        ...content,
        payload: { ...content.payload, rule: '(device.osVersion -startsWith "11")' },
      }
      const update = await write(
        'update',
        'update',
        {
          method: 'PATCH',
          url: `/beta/deviceManagement/assignmentFilters/${first.targetId}`,
          body: writableFields(entry, changed.payload),
          label: 'update',
        },
        first.targetId,
        changed,
      )
      expect(update.how).toBe('reconciled')
      const removed = await write('delete', 'delete', deleteRequest(entry, second.targetId!), second.targetId)
      expect(removed.how).toBe('reconciled')
      // Each write was sent once: no audit event was listed, Graph's objects said it was applied.
      expect(sends).toEqual(['first', 'second', 'update', 'delete'])
      const after = (await contents(tenant.tenant_id)).filter((o) => o.type === entry.key && o.display_name === 'Twin')
      expect(after.map((o) => [o.id, o.content.rule])).toEqual([
        [first.targetId, '(device.osVersion -startsWith "11")'],
      ])
      expect(await reconcileByMarker(graph, ctx, update.entry)).toEqual({ applied: false })
    } finally {
      await control(env.emulator, 'PUT', `/tenants/${tenant.tenant_id}/faults`, { audit_delay_ms: 0 })
      await control(env.emulator, 'PUT', '/faults', {})
    }
  })

  it('answers a bad per-tenant fault with 400 naming the field, and lists events again once the delay is lifted', async () => {
    const { tenant } = await createTenant(env.emulator, { policies: 10 })
    const bad = await control<{ error: { message: string } }>(
      env.emulator,
      'PUT',
      `/tenants/${tenant.tenant_id}/faults`,
      { audit_delay_ms: -1 },
    )
    expect(bad.status).toBe(400)
    expect(bad.body.error.message).toMatch(/audit_delay_ms/)
    expect((await control(env.emulator, 'PUT', `/tenants/${tenant.tenant_id}/faults`, { audit_delay: 5 })).status).toBe(
      400,
    )
    expect((await control(env.emulator, 'PUT', '/tenants/nope/faults', { audit_delay_ms: 5 })).status).toBe(404)
    const log = env.emulator.tenant(tenant.tenant_id)!.audit
    await control(env.emulator, 'PUT', `/tenants/${tenant.tenant_id}/faults`, { audit_delay_ms: 3_600_000 })
    await control(env.emulator, 'POST', `/tenants/${tenant.tenant_id}/items`, {
      type: 'roleScopeTag',
      displayName: 'Late',
    })
    expect(log.query(null, null)).toHaveLength(0)
    expect((await control(env.emulator, 'GET', `/tenants/${tenant.tenant_id}/faults`)).body).toEqual({
      audit_delay_ms: 3_600_000,
    })
    await control(env.emulator, 'PUT', `/tenants/${tenant.tenant_id}/faults`, { audit_delay_ms: 0 })
    expect(log.query(null, null).map((e) => (e.body.resources as { displayName: string }[])[0]!.displayName)).toEqual([
      'Late',
    ])
  })

  it("records a refusal as failed with Graph's message, and does not send it again", async () => {
    const { tenant, ctx } = await createTenant(env.emulator, { policies: 10 })
    const graph = client()
    const { journal } = await journalFor(tenant.tenant_id, graph, ctx)
    const entry = getPolicyType('deviceCompliancePolicy')
    const content = {
      payload: {
        '@odata.type': '#microsoft.graph.windows10CompliancePolicy',
        displayName: 'No block',
        scheduledActionsForRule: [],
      },
      assignments: [],
    }
    const request = createRequest(entry, content)
    const spec = {
      operation: 'create' as const,
      policyType: entry.key,
      targetId: null,
      method: request.method,
      path: request.url,
      expect: checkOf(graph, ctx, entry, request, content),
      send: (marker: string) => sendWrite(graph, ctx, entry, request, marker),
    }
    const error = await journal.writeOnce('x', spec).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(GraphError)
    expect((error as GraphError).message).toContain('one and only one block scheduled action')
    expect((await journal.get('x'))?.state).toBe('failed')
    await expect(
      journal.writeOnce('x', { ...spec, send: () => Promise.reject(new Error('must not send')) }),
    ).rejects.toThrow(/block scheduled action/)
  })
})
