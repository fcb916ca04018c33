import { authorizeDestructive } from '../access/authority.ts'
import { and, eq, inArray, isNull } from 'drizzle-orm'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { Database } from '../../db/engine.ts'
import {
  backupSets,
  backupSetItems,
  inventoryContents,
  inventoryItems,
  inventoryVersions,
  MAPPING_KINDS,
  restorePlanItems,
  restorePlans,
  tenants,
} from '../../db/schema.ts'
import { GraphClient } from '../../graph/graph-client.ts'
import { createMsalTokenProvider } from '../../graph/token-provider.ts'
import type { HttpDeps } from '../../http/deps.ts'
import { ID_LIST_BODY_LIMIT, responses } from '../../http/schemas.ts'
import { AppError, conflict, notFound, validationError } from '../../lib/errors.ts'
import { uuidv7 } from '../../lib/ids.ts'
import { recordAuditEvent } from '../audit/record-audit-event.ts'
import { pinObjects } from '../backups/store.ts'
import { scopeAllows } from '../access/token-scope.ts'
import { can } from '../access/policy.ts'
import { graphContextOf } from '../inventory/graph-context.ts'
import { presentRun, runResponse } from '../operations/presenter.ts'
import { findRun } from '../operations/repository.ts'
import { checkTargets, graphGroupConfirm } from '../tenant-objects/targets.ts'
import { tenantIdParams } from '../tenants/schemas.ts'
import { KIND_TYPES } from './content.ts'
import {
  buildPlan,
  findPlan,
  planItems,
  rememberMappings,
  savePlan,
  targetSyncedAt,
  type DefinitionCheck,
  type PlanSelection,
} from './plan.ts'
import { presentPlan, restorePlanResponse } from './presenter.ts'

const planParams = z.object({ tenantId: z.string(), planId: z.string() })
const uuid = (what: string) => z.uuid({ error: `must be ${what} (a UUID)` })

const createBody = z
  .strictObject({
    backup_id: uuid('a backup set id').optional(),
    item_ids: z
      .array(uuid("an inventory item id of the backup's tenant"))
      .min(1, { error: 'must name at least one item' })
      .max(10_000, { error: 'at most 10000 item ids' })
      .optional(),
    version_id: uuid("a version id from an item's timeline").optional(),
  })
  .refine((b) => (b.backup_id === undefined) !== (b.version_id === undefined), {
    error: 'send backup_id (a backup set) or version_id (one version of an item), not both',
    path: ['backup_id'],
  })
  .refine((b) => b.version_id === undefined || b.item_ids === undefined, {
    error: 'item_ids go with backup_id, not version_id',
    path: ['item_ids'],
  })
  .meta({
    id: 'RestorePlanCreate',
    description:
      "A plan for a backup set (optionally only `item_ids`, inventory items of the backup's tenant), or for one version of an item (`version_id`)",
  })

const mappingEdit = z.strictObject({
  kind: z.enum(MAPPING_KINDS, { error: `must be one of ${MAPPING_KINDS.join(', ')}` }),
  source_id: z.string().min(1).max(200),
  target_id: z.string().min(1).max(200).nullable(),
})
const updateBody = z
  .strictObject({
    mapping: z.array(mappingEdit).max(10_000).optional(),
    excluded_item_ids: z.array(uuid('a plan item id')).max(10_000).optional(),
    included_item_ids: z.array(uuid('a plan item id')).max(10_000).optional(),
    refresh: z.boolean({ error: 'must be true or false' }).optional(),
  })
  .meta({
    id: 'RestorePlanUpdate',
    description:
      'Edit the mapping (remembered for the tenant pair), leave items out or back in, or rebuild the plan against the current inventory (`refresh`)',
  })

/** A plan executed (or executing) already: executing it again would write its changes a second time. */
const executedConflict = (runId: string) =>
  new AppError(
    409,
    'plan_executed',
    `This plan was executed already (run ${runId}): to restore again, refresh the plan (PATCH with {"refresh": true}), review it and execute it`,
    { run_id: runId },
  )

/** The Graph client plans read setting definitions with (the process's shared budgets). */
let planGraph: GraphClient | undefined

/** Which of the setting definitions the target tenant no longer offers: 404 on `configurationSettings/{id}`. Null when Graph cannot tell. */
function definitionCheck(db: Database, deps: HttpDeps, targetTenantId: string): DefinitionCheck {
  return async (ids) => {
    const [tenant] = await db.select().from(tenants).where(eq(tenants.id, targetTenantId))
    if (!tenant) return null
    try {
      const ctx = graphContextOf(tenant, deps.secrets, deps.config.graphEmulatorUrl)
      planGraph ??= new GraphClient({ tokens: createMsalTokenProvider(), retry: { maxAttempts: 3 } })
      const results = await planGraph.batch(
        ctx,
        ids.map((id) => `/beta/deviceManagement/configurationSettings/${encodeURIComponent(id)}?$select=id`),
        { permission: 'DeviceManagementConfiguration.Read.All', subject: 'Setting definitions' },
      )
      if (results.some((r) => r.error && r.error.code !== 'not_found')) return null
      return new Set(ids.filter((_, i) => results[i]!.error?.code === 'not_found'))
    } catch {
      return null
    }
  }
}

export function registerRestoreRoutes(app: FastifyInstance, deps: HttpDeps) {
  const { db, auth, engine } = deps
  const r = app.withTypeProvider<ZodTypeProvider>()
  const tags = ['restore']

  /** The caller must see the source tenant: otherwise its backups and versions do not exist for them (404). */
  const canView = async (request: FastifyRequest, tenantId: string) => {
    try {
      await auth.tenantAccess(request, tenantId, 'tenant.view')
      return true
    } catch (error) {
      if (error instanceof AppError && (error.status === 404 || error.status === 403)) return false
      throw error
    }
  }

  const load = async (tenantId: string, planId: string) => {
    const plan = z.uuid().safeParse(planId).success ? await findPlan(db, tenantId, planId) : undefined
    if (!plan) throw notFound('Restore plan')
    return plan
  }
  /**
   * A plan shows its source's content (names, settings before and after): it exists only for
   * principals who may act on the target (restore.execute, role and token) and view the source.
   */
  const loadVisible = async (request: FastifyRequest, tenantId: string, planId: string) => {
    const principal = await auth.principalOf(request)
    const access = await auth.membershipOf(request, tenantId)
    const plan = await load(access.tenantId, planId)
    const { scope } = principal
    const acts = can(access.role, 'restore.execute') && scope.kind !== 'read' && scopeAllows(scope, 'restore.execute')
    const seesSource = plan.sourceTenantId === access.tenantId || (await canView(request, plan.sourceTenantId))
    if (!acts || !seesSource) throw notFound('Restore plan')
    return plan
  }
  const present = async (tenantId: string, planId: string) => {
    const plan = await load(tenantId, planId)
    return presentPlan(plan, await planItems(db, plan.id), await targetSyncedAt(db, tenantId))
  }

  r.post(
    '/api/tenants/:tenantId/restore-plans',
    {
      bodyLimit: ID_LIST_BODY_LIMIT,
      config: { capability: 'restore.execute' },
      schema: {
        tags,
        summary: "Build a restore plan against the tenant's current inventory",
        params: tenantIdParams,
        body: createBody,
        response: responses({ 201: restorePlanResponse }),
      },
    },
    async (request, reply) => {
      const { principal, access } = await auth.tenantAccess(request, request.params.tenantId, 'restore.execute')
      const body = request.body
      let backupId: string
      let sourceTenantId: string
      let selection: PlanSelection = null
      if (body.version_id !== undefined) {
        // One version of an item: pinned in a one-item set of the item's tenant, restored through a plan like any other.
        const [version] = await db
          .select({ v: inventoryVersions, item: inventoryItems })
          .from(inventoryVersions)
          .innerJoin(inventoryItems, eq(inventoryItems.id, inventoryVersions.itemId))
          .where(eq(inventoryVersions.id, body.version_id))
        if (!version || !(await canView(request, version.v.tenantId))) throw notFound('Version')
        sourceTenantId = version.v.tenantId
        backupId = uuidv7()
        // The snapshot is a set of the target tenant (the one in the URL, where the caller may act):
        // nothing is written into the source tenant, which the caller may only be able to view (ADR 022).
        const name = `Version ${version.v.number} of ${version.item.displayName}`.slice(0, 200)
        await db.transaction(async (tx) => {
          const [content] = await tx
            .select()
            .from(inventoryContents)
            .where(
              and(
                eq(inventoryContents.tenantId, sourceTenantId),
                eq(inventoryContents.contentHash, version.v.contentHash),
              ),
            )
          if (!content) throw notFound('Version')
          const counts = { [version.item.policyType]: 1 }
          await tx.insert(backupSets).values({
            id: backupId,
            tenantId: access.tenantId,
            name,
            status: 'complete',
            origin: 'created',
            kind: 'version',
            initiatorUserId: principal.user.id,
            itemCount: 1,
            countsByType: counts,
            completedAt: new Date(),
            labels: ['version-restore'],
            manifest: {
              format: 'tenantatlas-backup',
              version: 1,
              name,
              source_tenant: { id: sourceTenantId, name: '', entra_tenant_id: '' },
              created_at: new Date().toISOString(),
              origin: 'created',
              item_count: 1,
              counts_by_type: counts,
              missing: [],
              version_id: version.v.id,
            },
          })
          const { policyType, externalId, displayName } = version.item
          const { contentHash, payload, assignments } = content
          await pinObjects(tx, access.tenantId, backupId, [
            { policyType, externalId, displayName, contentHash, payload, assignments },
          ])
        })
      } else {
        const [set] = await db.select().from(backupSets).where(eq(backupSets.id, body.backup_id!))
        if (!set || !(await canView(request, set.tenantId))) throw notFound('Backup')
        if (set.status === 'running' || set.status === 'failed')
          throw conflict(
            `Backup "${set.name}" is ${set.status === 'running' ? 'still being written' : 'a failed set'}: it cannot be restored`,
          )
        backupId = set.id
        sourceTenantId = set.tenantId
        if (body.item_ids) {
          const ids = [...new Set(body.item_ids)]
          const rows = await db
            .select({
              id: inventoryItems.id,
              policy_type: inventoryItems.policyType,
              external_id: inventoryItems.externalId,
            })
            .from(inventoryItems)
            .where(and(eq(inventoryItems.tenantId, set.tenantId), inArray(inventoryItems.id, ids)))
          const inSet =
            rows.length === 0
              ? []
              : await db
                  .select({ t: backupSetItems.policyType, e: backupSetItems.externalId })
                  .from(backupSetItems)
                  .where(
                    and(
                      eq(backupSetItems.backupId, set.id),
                      inArray(
                        backupSetItems.externalId,
                        rows.map((x) => x.external_id),
                      ),
                    ),
                  )
          const pinned = new Set(inSet.map((x) => `${x.t}\n${x.e}`))
          const found = rows.filter((x) => pinned.has(`${x.policy_type}\n${x.external_id}`))
          const missing = ids.filter((id) => !found.some((x) => x.id === id))
          if (missing.length > 0)
            throw validationError([
              {
                field: 'item_ids',
                message: `not in this backup: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}`,
              },
            ])
          selection = found.map((x) => ({ policy_type: x.policy_type, external_id: x.external_id }))
        }
      }
      const built = await buildPlan(
        db,
        { targetTenantId: access.tenantId, sourceTenantId, backupId, selection },
        definitionCheck(db, deps, access.tenantId),
      )
      const planId = uuidv7()
      await db.transaction(async (tx) => {
        await tx.insert(restorePlans).values({
          id: planId,
          targetTenantId: access.tenantId,
          sourceTenantId,
          backupId,
          selection,
          createdByUserId: principal.user.id,
        })
        await savePlan(tx, planId, built)
        await recordAuditEvent(tx, auth.actorOf(request, principal), {
          tenantId: access.tenantId,
          action: 'restore_plan.created',
          subject: { type: 'restore_plan', id: planId },
          metadata: { backup_id: backupId, source_tenant_id: sourceTenantId, items: built.items.length },
        })
      })
      return reply.code(201).send(await present(access.tenantId, planId))
    },
  )

  r.get(
    '/api/tenants/:tenantId/restore-plans/:planId',
    {
      schema: {
        tags,
        summary: 'One restore plan: its items in execution order, their diffs and the mapping',
        params: planParams,
        response: responses({ 200: restorePlanResponse }),
      },
    },
    async (request) => {
      const plan = await loadVisible(request, request.params.tenantId, request.params.planId)
      return present(plan.targetTenantId, plan.id)
    },
  )

  r.patch(
    '/api/tenants/:tenantId/restore-plans/:planId',
    {
      bodyLimit: ID_LIST_BODY_LIMIT,
      config: { capability: 'restore.execute' },
      schema: {
        tags,
        summary: 'Edit the mapping, leave items out or in, or refresh the plan',
        params: planParams,
        body: updateBody,
        response: responses({ 200: restorePlanResponse }),
      },
    },
    async (request) => {
      const { principal, access } = await auth.tenantAccess(request, request.params.tenantId, 'restore.execute')
      const plan = await loadVisible(request, access.tenantId, request.params.planId)
      const body = request.body
      const items = await planItems(db, plan.id)
      const known = new Set(items.map((i) => i.id))
      const unknownItems = [...(body.excluded_item_ids ?? []), ...(body.included_item_ids ?? [])].filter(
        (id) => !known.has(id),
      )
      if (unknownItems.length > 0)
        throw validationError([
          { field: 'excluded_item_ids', message: `not items of this plan: ${unknownItems.slice(0, 5).join(', ')}` },
        ])
      const edits = body.mapping ?? []
      const inPlan = new Set(plan.mapping.map((m) => `${m.kind}\n${m.source_id}`))
      const issues = edits
        .filter((e) => !inPlan.has(`${e.kind}\n${e.source_id}`))
        .map((e) => ({ field: 'mapping', message: `${e.kind} ${e.source_id} is not referenced by this plan` }))
      // Groups, filters and scope tags: objects of the target tenant (ADR 023), else 422 naming the id.
      const targetRefs = edits.flatMap((e, i) =>
        e.target_id !== null && e.kind !== 'notification_template'
          ? [{ field: `mapping[${i}].target_id`, kind: e.kind, id: e.target_id }]
          : [],
      )
      issues.push(
        ...(await checkTargets(
          db,
          access.tenantId,
          targetRefs,
          graphGroupConfirm(db, { secrets: deps.secrets, emulatorUrl: deps.config.graphEmulatorUrl }, access.tenantId),
        )),
      )
      // A notification template must be mapped to one the target has.
      const foundationTargets = edits.filter((e) => e.target_id !== null && e.kind === 'notification_template')
      if (foundationTargets.length > 0) {
        const rows = await db
          .select({ type: inventoryItems.policyType, id: inventoryItems.externalId })
          .from(inventoryItems)
          .where(
            and(
              eq(inventoryItems.tenantId, access.tenantId),
              isNull(inventoryItems.removedAt),
              inArray(
                inventoryItems.externalId,
                foundationTargets.map((e) => e.target_id!),
              ),
            ),
          )
        const present = new Set(rows.map((x) => `${x.type}\n${x.id}`))
        for (const e of foundationTargets)
          if (!present.has(`${KIND_TYPES[e.kind]}\n${e.target_id}`))
            issues.push({
              field: 'mapping',
              message: `${e.kind} ${e.target_id} is not in the target tenant's inventory`,
            })
      }
      if (issues.length > 0) throw validationError(issues)
      const rebuild = edits.length > 0 || body.refresh === true
      // An executed plan rebuilt is a new plan (new items, new write intents); one still executing is not rebuilt under its run.
      const executed = rebuild && plan.runId ? await findRun(db, access.tenantId, plan.runId) : undefined
      if (executed && executed.run.status !== 'completed')
        throw new AppError(
          409,
          'plan_executing',
          `The plan is being executed (run ${executed.run.id}): wait for the run to end`,
          { run_id: executed.run.id },
        )
      await db.transaction(async (tx) => {
        if (body.excluded_item_ids?.length)
          await tx
            .update(restorePlanItems)
            .set({ excluded: true })
            .where(and(eq(restorePlanItems.planId, plan.id), inArray(restorePlanItems.id, body.excluded_item_ids)))
        if (body.included_item_ids?.length)
          await tx
            .update(restorePlanItems)
            .set({ excluded: false })
            .where(and(eq(restorePlanItems.planId, plan.id), inArray(restorePlanItems.id, body.included_item_ids)))
        if (edits.length > 0) await rememberMappings(tx, plan.sourceTenantId, plan.targetTenantId, edits)
      })
      if (rebuild) {
        const excluded = new Set(
          (await planItems(db, plan.id)).filter((i) => i.excluded).map((i) => `${i.policyType}\n${i.sourceExternalId}`),
        )
        const built = await buildPlan(
          db,
          {
            targetTenantId: access.tenantId,
            sourceTenantId: plan.sourceTenantId,
            backupId: plan.backupId,
            selection: plan.selection ?? null,
            excluded,
          },
          definitionCheck(db, deps, access.tenantId),
        )
        await db.transaction(async (tx) => {
          await savePlan(tx, plan.id, built)
          if (plan.runId) await tx.update(restorePlans).set({ runId: null }).where(eq(restorePlans.id, plan.id))
          await recordAuditEvent(tx, auth.actorOf(request, principal), {
            tenantId: access.tenantId,
            action: 'restore_plan.updated',
            subject: { type: 'restore_plan', id: plan.id },
            metadata: { mapping_changes: edits.length, refreshed: body.refresh === true },
          })
        })
      }
      return present(access.tenantId, plan.id)
    },
  )

  r.post(
    '/api/tenants/:tenantId/restore-plans/:planId/execute',
    {
      config: { capability: 'restore.execute' },
      schema: {
        tags,
        summary:
          'Execute the plan (a restore.execute run); 409 when it was executed already, or the inventory was synced after it was built',
        params: planParams,
        response: responses({ 202: z.object({ run: runResponse }) }),
      },
    },
    async (request, reply) => {
      const { principal, access } = await auth.tenantAccess(request, request.params.tenantId, 'restore.execute')
      authorizeDestructive(access, 'restore.execute')
      const plan = await loadVisible(request, access.tenantId, request.params.planId)
      if (plan.runId) throw executedConflict(plan.runId)
      const synced = await targetSyncedAt(db, access.tenantId)
      if (synced && (!plan.targetSyncedAt || synced.getTime() > plan.targetSyncedAt.getTime())) {
        throw new AppError(
          409,
          'plan_stale',
          'The tenant\'s inventory was synced after this plan was built: refresh the plan (PATCH with {"refresh": true}) and review it again',
        )
      }
      let started: Awaited<ReturnType<typeof engine.startRunIn>> = null
      for (let attempt = 0; attempt < 5 && !started; attempt++) {
        started = await db.transaction(async (tx) => {
          // A plan executes once (ADR 023): the plan row is locked, so of two executes at once the second sees the first's run.
          const [locked] = await tx
            .select({ runId: restorePlans.runId })
            .from(restorePlans)
            .where(eq(restorePlans.id, plan.id))
            .for('update')
          if (locked?.runId) throw executedConflict(locked.runId)
          const result = await engine.startRunIn(tx, {
            tenantId: access.tenantId,
            type: 'restore.execute',
            context: { plan_id: plan.id },
            initiatorUserId: principal.user.id,
            actor: auth.actorOf(request, principal),
          })
          if (result) await tx.update(restorePlans).set({ runId: result.run.id }).where(eq(restorePlans.id, plan.id))
          return result
        })
      }
      if (!started) throw new Error('Could not start the restore: its active twin kept changing')
      const runRow = (await findRun(db, access.tenantId, started.run.id)) ?? {
        run: started.run,
        initiatorName: principal.user.name,
        scheduleName: null,
      }
      return reply.code(202).send({ run: presentRun(engine.catalog, access, runRow) })
    },
  )
}
