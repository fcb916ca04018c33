import { and, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inventoryItems } from '../../src/db/schema.ts'
import { control } from '../graph/emulator-helpers.ts'
import { errorOf, type TestContext } from '../harness.ts'
import { connectTenant, syncAndWait } from '../inventory/helpers.ts'
import { restoreContext } from './helpers.ts'

let env: Awaited<ReturnType<typeof restoreContext>>
let ctx: TestContext

beforeAll(async () => {
  env = await restoreContext({ worker: true })
  ctx = env.ctx
})
afterAll(async () => env.close())

type Targets = { data: { kind: string; id: string; name: string; description: string | null }[]; complete: boolean }

describe('GET /api/tenants/:tenantId/targets (pick, do not type)', () => {
  it(
    "finds the tenant's groups by name, also those nothing references yet (Graph), and filters and scope tags from the inventory",
    { timeout: 180_000 },
    async () => {
      const t = await connectTenant(ctx, env.emulator, {
        policies: 20,
        seed: 'targets',
        client_secret: 'targets-secret',
      })
      await control(env.emulator, 'POST', `/tenants/${t.entraTenantId}/items`, {
        type: 'roleScopeTag',
        displayName: 'Paris helpdesk',
        description: '',
      })
      await syncAndWait(ctx, t.tenantId, t.token)
      const get = (query: string, token = t.token) =>
        ctx.request({ method: 'GET', url: `/api/tenants/${t.tenantId}/targets?${query}`, token })

      const known = await ctx.db
        .select()
        .from(inventoryItems)
        .where(and(eq(inventoryItems.tenantId, t.tenantId), eq(inventoryItems.policyType, 'group')))
      expect(known.length).toBeGreaterThan(1)
      // A group nothing references (the inventory keeps only referenced ones): found through Graph.
      const [loner, referenced] = known as [(typeof known)[number], (typeof known)[number]]
      await ctx.db.delete(inventoryItems).where(eq(inventoryItems.id, loner.id))
      const found = await get(`kind=group&q=${encodeURIComponent(loner.displayName.slice(0, 8))}`)
      expect(found.statusCode, found.body).toBe(200)
      const body = JSON.parse(found.body) as Targets
      expect(body.complete).toBe(true)
      expect(body.data).toContainEqual(
        expect.objectContaining({ kind: 'group', id: loner.externalId, name: loner.displayName }),
      )
      expect(body.data.every((g) => g.name.toLowerCase().includes(loner.displayName.slice(0, 8).toLowerCase()))).toBe(
        true,
      )
      // A referenced group (in the inventory) is found by a part of its name.
      const part = referenced.displayName.slice(1, 6)
      const byPart = JSON.parse((await get(`kind=group&q=${encodeURIComponent(part)}`)).body) as Targets
      expect(byPart.data.map((g) => g.id)).toContain(referenced.externalId)

      const tags = JSON.parse((await get('kind=scope_tag&q=paris')).body) as Targets
      expect(tags.data.map((x) => x.name)).toEqual(['Paris helpdesk'])
      const none = JSON.parse((await get('kind=assignment_filter&q=no-such-filter-anywhere')).body) as Targets
      expect(none.data).toEqual([])

      const bad = await get('kind=user')
      expect(bad.statusCode).toBe(422)
      expect(JSON.stringify(errorOf(bad.body))).toContain('kind')
      const tooMany = await get('kind=group&limit=500')
      expect(tooMany.statusCode).toBe(422)
      expect(JSON.stringify(errorOf(tooMany.body))).toContain('limit')

      // Someone else's tenant does not exist for its outsiders.
      const other = await connectTenant(ctx, env.emulator, { policies: 2 })
      const foreign = await get('kind=group', other.token)
      expect(foreign.statusCode).toBe(404)
    },
  )
})
