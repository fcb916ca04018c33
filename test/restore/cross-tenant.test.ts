import { and, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inventoryItems } from '../../src/db/schema.ts'
import { control, graphGet, rawToken } from '../graph/emulator-helpers.ts'
import { errorOf, ORIGIN, type TestContext } from '../harness.ts'
import { connectTenant, syncAndWait } from '../inventory/helpers.ts'
import { backupAndWait } from '../backups/helpers.ts'
import { contents, createPlan, executeAndWait, plan, restoreContext, type Body, type PlanBody } from './helpers.ts'

let env: Awaited<ReturnType<typeof restoreContext>>
let ctx: TestContext

beforeAll(async () => {
  env = await restoreContext()
  ctx = env.ctx
})
afterAll(async () => env.close())

async function allGroups(entraTenantId: string, clientId: string, secret: string) {
  const token = (await rawToken(env.emulator, entraTenantId, clientId, secret)).body.access_token as string
  const out: { id: string; displayName: string }[] = []
  let url: string | undefined = '/v1.0/groups?$top=999&$select=id,displayName'
  while (url) {
    const page = await graphGet(env.emulator, token, url)
    out.push(...(page.body.value as { id: string; displayName: string }[]))
    url = page.body['@odata.nextLink'] as string | undefined
  }
  return out
}

const add = async (entraTenantId: string, body: Body) =>
  (await control<{ id: string }>(env.emulator, 'POST', `/tenants/${entraTenantId}/items`, body)).body.id

describe('restore into another tenant', () => {
  it(
    'maps groups, filters and scope tags by name, remembers edits per tenant pair, assigns mapped ids and never an unmapped group',
    { timeout: 240_000 },
    async () => {
      const a = await connectTenant(ctx, env.emulator, { policies: 40, seed: 'alpha', client_secret: 'alpha-secret' })
      const b = await connectTenant(ctx, env.emulator, { policies: 40, seed: 'bravo', client_secret: 'bravo-secret' })
      await ctx.factories.member(b.tenantId, a.owner, 'owner')
      await syncAndWait(ctx, b.tenantId, b.token)
      const bKnown = await ctx.db
        .select()
        .from(inventoryItems)
        .where(and(eq(inventoryItems.tenantId, b.tenantId), eq(inventoryItems.policyType, 'group')))
      const bAll = new Set(
        (await allGroups(b.entraTenantId, b.emulated.client_id, 'bravo-secret')).map((g) => g.displayName),
      )
      const aGroups = await allGroups(a.entraTenantId, a.emulated.client_id, 'alpha-secret')
      const g1 = aGroups.find((g) => bKnown.some((k) => k.displayName === g.displayName))
      const g2 = aGroups.find((g) => !bAll.has(g.displayName))
      expect(g1, 'a group name both tenants have').toBeDefined()
      expect(g2).toBeDefined()
      const g1Target = bKnown.find((k) => k.displayName === g1!.displayName)!.externalId
      expect(g1Target).not.toBe(g1!.id)

      const filterA = await add(a.entraTenantId, {
        type: 'assignmentFilter',
        displayName: 'Cross filter',
        description: '',
        platform: 'windows10AndLater',
        rule: '(device.model -eq "X1")',
        assignmentFilterManagementType: 'devices',
        roleScopeTagIds: ['0'],
      })
      const tagA = await add(a.entraTenantId, {
        type: 'roleScopeTag',
        displayName: 'Cross tag',
        description: 'for the cross-tenant test',
      })
      const filterB = await add(b.entraTenantId, {
        type: 'assignmentFilter',
        displayName: 'Cross filter',
        description: '',
        platform: 'windows10AndLater',
        rule: '(device.model -eq "X1")',
        assignmentFilterManagementType: 'devices',
        roleScopeTagIds: ['0'],
      })
      const tagB = await add(b.entraTenantId, {
        type: 'roleScopeTag',
        displayName: 'Cross tag',
        description: 'for the cross-tenant test',
      })
      expect(filterB).not.toBe(filterA)
      const policy = await add(a.entraTenantId, {
        type: 'deviceConfiguration',
        '@odata.type': '#microsoft.graph.windows10GeneralConfiguration',
        displayName: 'Cross-tenant policy',
        description: 'moved',
        passwordRequired: true,
        roleScopeTagIds: [tagA],
      })
      const target = (groupId: string, filter?: string) => ({
        '@odata.type': '#microsoft.graph.groupAssignmentTarget',
        groupId,
        deviceAndAppManagementAssignmentFilterId: filter ?? null,
        deviceAndAppManagementAssignmentFilterType: filter ? 'include' : 'none',
      })
      await control(env.emulator, 'PATCH', `/tenants/${a.entraTenantId}/items/${policy}`, {
        assignments: [
          { id: `${policy}_${g1!.id}`, target: target(g1!.id, filterA) },
          { id: `${policy}_${g2!.id}`, target: target(g2!.id) },
        ],
      })
      await syncAndWait(ctx, a.tenantId, a.token)
      await syncAndWait(ctx, b.tenantId, b.token)
      const [item] = await ctx.db
        .select()
        .from(inventoryItems)
        .where(and(eq(inventoryItems.tenantId, a.tenantId), eq(inventoryItems.externalId, policy)))
      const { backup } = await backupAndWait(ctx, a.tenantId, a.token, {
        selection: { policy_types: ['deviceConfiguration'], include_foundations: true, include_dependencies: true },
      })

      const p = await plan(ctx, b.tenantId, a.token, { backup_id: backup.id, item_ids: [item!.id] })
      expect(p.source_tenant_id).toBe(a.tenantId)
      const mapping = (body: PlanBody, kind: string, id: string) =>
        body.mapping.find((m) => m.kind === kind && m.source_id === id)
      expect(mapping(p, 'group', g1!.id)).toMatchObject({
        source_name: g1!.displayName,
        target_id: g1Target,
        proposed_by: 'name',
      })
      expect(mapping(p, 'group', g2!.id)).toMatchObject({ source_name: g2!.displayName, target_id: null })
      expect(mapping(p, 'assignment_filter', filterA)).toMatchObject({ target_id: filterB, proposed_by: 'name' })
      expect(mapping(p, 'scope_tag', tagA)).toMatchObject({ target_id: tagB, proposed_by: 'name' })
      expect(p.items).toHaveLength(1)
      expect(p.items[0]).toMatchObject({ action: 'create', display_name: 'Cross-tenant policy' })
      expect(p.items[0]!.warnings.join(' ')).toContain(`Group "${g2!.displayName}" is not mapped`)

      // Edited: the group mapped to another group, then unmapped again; remembered for the pair.
      const patch = (body: Body) =>
        ctx.request({
          method: 'PATCH',
          url: `/api/tenants/${b.tenantId}/restore-plans/${p.id}`,
          token: a.token,
          headers: { origin: ORIGIN },
          payload: body,
        })
      const other = bKnown.find((k) => k.externalId !== g1Target)!.externalId
      const mapped = JSON.parse(
        (await patch({ mapping: [{ kind: 'group', source_id: g2!.id, target_id: other }] })).body,
      ) as PlanBody
      expect(mapping(mapped, 'group', g2!.id)).toMatchObject({ target_id: other, proposed_by: 'remembered' })
      expect(mapped.items[0]!.warnings).toEqual([])
      const bad = await patch({ mapping: [{ kind: 'scope_tag', source_id: tagA, target_id: 'no-such-tag' }] })
      expect(bad.statusCode).toBe(422)
      expect(errorOf(bad.body).message + JSON.stringify(errorOf(bad.body).details)).toContain('no-such-tag')
      await patch({ mapping: [{ kind: 'group', source_id: g2!.id, target_id: null }] })
      const fresh = await plan(ctx, b.tenantId, a.token, { backup_id: backup.id, item_ids: [item!.id] })
      expect(mapping(fresh, 'group', g2!.id)).toMatchObject({ target_id: null, proposed_by: 'remembered' })

      const run = await executeAndWait(ctx, b.tenantId, a.token, fresh.id)
      expect(run.outcome).toBe('succeeded')
      const created = (await contents(env.emulator, b.entraTenantId)).filter(
        (o) => o.display_name === 'Cross-tenant policy',
      )
      expect(created).toHaveLength(1)
      const assignments = created[0]!.content.assignments as { target: Body }[]
      expect(assignments.map((x) => x.target)).toEqual([
        expect.objectContaining({
          groupId: g1Target,
          deviceAndAppManagementAssignmentFilterId: filterB,
          deviceAndAppManagementAssignmentFilterType: 'include',
        }),
      ])
      expect(created[0]!.content.roleScopeTagIds).toEqual([tagB])
    },
  )

  it(
    'roles: readonly cannot plan or execute, an operator backs up but cannot restore, a backup of a tenant the caller cannot see is a 404',
    { timeout: 120_000 },
    async () => {
      const a = await connectTenant(ctx, env.emulator, { policies: 10 })
      await syncAndWait(ctx, a.tenantId, a.token)
      const { backup } = await backupAndWait(ctx, a.tenantId, a.token)
      const p = await plan(ctx, a.tenantId, a.token, { backup_id: backup.id })
      for (const role of ['readonly', 'operator'] as const) {
        const { user, token } = await ctx.factories.userWithToken()
        await ctx.factories.member(a.tenantId, user, role)
        expect((await createPlan(ctx, a.tenantId, token, { backup_id: backup.id })).statusCode, role).toBe(403)
        const execute = await ctx.request({
          method: 'POST',
          url: `/api/tenants/${a.tenantId}/restore-plans/${p.id}/execute`,
          token,
          headers: { origin: ORIGIN },
        })
        expect(execute.statusCode, role).toBe(403)
        if (role === 'operator') {
          const started = await ctx.request({
            method: 'POST',
            url: `/api/tenants/${a.tenantId}/backups`,
            token,
            headers: { origin: ORIGIN },
          })
          expect(started.statusCode).toBe(202)
        }
      }
      // An owner of another tenant who cannot see this one: its backup does not exist for them.
      const other = await connectTenant(ctx, env.emulator, { policies: 5 })
      const foreign = await createPlan(ctx, other.tenantId, other.token, { backup_id: backup.id })
      expect(foreign.statusCode).toBe(404)
      expect(errorOf(foreign.body).code).toBe('not_found')
      const bad = await createPlan(ctx, other.tenantId, other.token, { backup_id: 'nope' })
      expect(bad.statusCode).toBe(422)
      expect(JSON.stringify(errorOf(bad.body))).toContain('backup_id')
      const both = await createPlan(ctx, other.tenantId, other.token, {})
      expect(both.statusCode).toBe(422)
    },
  )
})
