import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { HttpDeps } from '../../http/deps.ts'
import { ID_LIST_BODY_LIMIT, responses, tenantIdParams } from '../../http/schemas.ts'
import { AppError, notFound } from '../../lib/errors.ts'
import { authorizeDestructive } from '../access/authority.ts'
import { can } from '../access/policy.ts'
import { scopeAllows } from '../access/token-scope.ts'
import { presentRun, runResponse } from '../operations/presenter.ts'
import { createPlan } from './create-plan.ts'
import { executePlan } from './execute-plan.ts'
import { presentPlan, restorePlanResponse } from './presenter.ts'
import { findPlan, planItems, targetSyncedAt } from './repository.ts'
import { createPlanBody, planParams, updatePlanBody } from './schemas.ts'
import { updatePlan } from './update-plan.ts'

export function registerRestoreRoutes(app: FastifyInstance, deps: HttpDeps) {
  const { db, auth, engine } = deps
  const r = app.withTypeProvider<ZodTypeProvider>()
  const tags = ['restore']
  const graphDeps = { secrets: deps.secrets, emulatorUrl: deps.config.graphEmulatorUrl }

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
        body: createPlanBody,
        response: responses({ 201: restorePlanResponse }),
      },
    },
    async (request, reply) => {
      const { principal, access } = await auth.tenantAccess(request, request.params.tenantId)
      const planId = await createPlan(
        db,
        graphDeps,
        {
          tenantId: access.tenantId,
          user: principal.user,
          actor: auth.actorOf(request, principal),
          canView: (tenantId) => canView(request, tenantId),
        },
        request.body,
      )
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
        body: updatePlanBody,
        response: responses({ 200: restorePlanResponse }),
      },
    },
    async (request) => {
      const { principal, access } = await auth.tenantAccess(request, request.params.tenantId)
      const plan = await loadVisible(request, access.tenantId, request.params.planId)
      await updatePlan(
        db,
        graphDeps,
        { tenantId: access.tenantId, actor: auth.actorOf(request, principal) },
        plan,
        request.body,
      )
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
      const { principal, access } = await auth.tenantAccess(request, request.params.tenantId)
      authorizeDestructive(access, 'restore.execute')
      const plan = await loadVisible(request, access.tenantId, request.params.planId)
      const runRow = await executePlan(
        db,
        engine,
        { tenantId: access.tenantId, user: principal.user, actor: auth.actorOf(request, principal) },
        plan,
      )
      return reply.code(202).send({ run: presentRun(engine.catalog, access, runRow) })
    },
  )
}
