import { authorizeDestructive } from '../access/authority.ts'
import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { POLICY_TYPES } from '../../graph/policy-types.ts'
import type { HttpDeps } from '../../http/deps.ts'
import { ID_LIST_BODY_LIMIT, responses } from '../../http/schemas.ts'
import { presentRun, runResponse } from '../operations/presenter.ts'
import { findRun } from '../operations/repository.ts'
import { tenantIdParams } from '../../http/schemas.ts'
import { BULK_ACTIONS, canonicalParams, unsupportedReason } from './actions.ts'
import { notFound, validationError } from '../../lib/errors.ts'
import { checkTargets, graphGroupConfirm, type TargetRef } from '../tenant-objects/targets.ts'
import { can } from '../access/policy.ts'
import { findPlan, planItems, targetSyncedAt } from '../restore/repository.ts'
import { presentPlan, restorePlanResponse } from '../restore/presenter.ts'
import { planUndo, undoState } from './undo.ts'
import { bulkRequest, selectionRequest } from './schemas.ts'
import { describeSelection, isDryRun, planBulk, startBulk } from './start-bulk.ts'

const planItemResponse = z.object({
  id: z.string().describe('The inventory item'),
  policy_type: z.string(),
  policy_type_label: z.string(),
  external_id: z.string(),
  display_name: z.string(),
  action: z.enum(['change', 'skip']),
  code: z
    .string()
    .nullable()
    .describe('Why it is skipped: unsupported_type, removed, unchanged, invalid_name, name_too_long'),
  reason: z.string().nullable(),
  summary: z.string().nullable().describe('What changes, in one line'),
  new_name: z.string().nullable().describe('rename: the resulting name; duplicate: the copy’s name'),
})

export const bulkPlanResponse = z
  .object({
    action: z.enum(BULK_ACTIONS),
    run_type: z.string(),
    item_count: z.number(),
    counts: z.object({ change: z.number(), skip: z.number() }),
    skipped_by_reason: z.array(z.object({ code: z.string(), reason: z.string(), count: z.number() })),
    items: z.array(planItemResponse),
    items_truncated: z.boolean().describe('More items than preview_limit: the counts cover them all'),
  })
  .meta({ id: 'BulkPlan' })

const selectionResponse = z
  .object({
    item_count: z.number(),
    types: z.array(z.object({ policy_type: z.string(), label: z.string(), count: z.number() })),
    actions: z
      .array(z.enum(BULK_ACTIONS))
      .describe('What the caller’s role and the selected types allow; empty without bulk.execute'),
  })
  .meta({ id: 'BulkSelectionSummary' })

const undoStateResponse = z
  .object({
    run_id: z.string(),
    action: z.string(),
    backup_id: z.string().nullable().describe('The backup the run took before changing anything'),
    changed: z.number().describe('Items the run changed'),
    undo: z.object({ available: z.boolean(), reason: z.string().nullable() }),
    undone_by_run_id: z
      .string()
      .nullable()
      .describe('The restore run that undid this run (its undo plan was executed); no second undo is offered'),
  })
  .meta({ id: 'BulkRunUndoState' })

const actionMatrix = z
  .object({
    data: z.array(
      z.object({
        policy_type: z.string(),
        actions: z.array(z.enum(BULK_ACTIONS)),
        unsupported: z.array(z.object({ action: z.enum(BULK_ACTIONS), reason: z.string() })),
      }),
    ),
  })
  .meta({ id: 'BulkActionMatrix' })

// Static: which type can take which action, presented once.
const matrixBody = {
  data: POLICY_TYPES.map((entry) => ({
    policy_type: entry.key,
    actions: BULK_ACTIONS.filter((a) => unsupportedReason(a, entry) === null),
    unsupported: BULK_ACTIONS.flatMap((action) => {
      const why = unsupportedReason(action, entry)
      return why ? [{ action, reason: why.reason }] : []
    }),
  })),
}

/** The targets an action adds (a group, its filter, a scope tag); none while the params are invalid (their 422 comes first). */
function targetsOf(body: unknown): TargetRef[] {
  const { action, params } = (body ?? {}) as { action?: unknown; params?: unknown }
  if (action !== 'assign' && action !== 'add_scope_tag') return []
  const parsed = canonicalParams(action, params)
  if ('issues' in parsed) return []
  const p = parsed.params as { group_id?: string; filter_id?: string | null; scope_tag_id?: string }
  const refs: TargetRef[] = []
  if (p.group_id) refs.push({ field: 'params.group_id', kind: 'group', id: p.group_id })
  if (p.filter_id) refs.push({ field: 'params.filter_id', kind: 'assignment_filter', id: p.filter_id })
  if (p.scope_tag_id) refs.push({ field: 'params.scope_tag_id', kind: 'scope_tag', id: p.scope_tag_id })
  return refs
}

export function registerBulkRoutes(app: FastifyInstance, { db, auth, engine, secrets, config }: HttpDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>()
  const tags = ['bulk']

  r.post(
    '/api/tenants/:tenantId/bulk-operations',
    {
      bodyLimit: ID_LIST_BODY_LIMIT,
      config: { capability: 'bulk.execute' },
      schema: {
        tags,
        summary:
          'Preview (dry_run: true → 200 plan) or start (dry_run: false → 202 run) a bulk operation on items picked by id or by filter',
        description:
          'A filter selects what it matches when the request is made; the run acts on exactly that frozen selection.',
        params: tenantIdParams,
        body: bulkRequest,
        response: responses({ 200: bulkPlanResponse, 202: z.object({ run: runResponse, deduplicated: z.boolean() }) }),
      },
    },
    async (request, reply) => {
      const { principal, access } = await auth.tenantAccess(request, request.params.tenantId)
      if (request.body.action === 'delete' && !isDryRun(request.body)) authorizeDestructive(access, 'bulk.delete')
      // The group, filter or scope tag the action adds must be the tenant's (ADR 023): 422 before anything is planned.
      const refs = targetsOf(request.body)
      const issues =
        refs.length > 0
          ? await checkTargets(
              db,
              access.tenantId,
              refs,
              graphGroupConfirm(db, { secrets, emulatorUrl: config.graphEmulatorUrl }, access.tenantId),
            )
          : []
      if (issues.length > 0) throw validationError(issues)
      if (isDryRun(request.body)) return reply.code(200).send(await planBulk(db, access.tenantId, request.body))
      const { run, deduplicated } = await startBulk(engine, db, {
        tenantId: access.tenantId,
        body: request.body,
        initiatorUserId: principal.user.id,
        actor: auth.actorOf(request, principal),
      })
      const row = (await findRun(db, access.tenantId, run.id)) ?? {
        run,
        initiatorName: principal.user.name,
        scheduleName: null,
      }
      return reply.code(202).send({ run: presentRun(engine.catalog, access, row), deduplicated })
    },
  )

  r.post(
    '/api/tenants/:tenantId/bulk-operations/selection',
    {
      schema: {
        tags,
        summary:
          'What a selection (item ids or a filter) holds by type, and the bulk actions the caller may take on it',
        params: tenantIdParams,
        body: selectionRequest,
        response: responses({ 200: selectionResponse }),
      },
    },
    async (request) => {
      const { access } = await auth.tenantAccess(request, request.params.tenantId, 'tenant.view')
      return describeSelection(db, access.tenantId, request.body, can(access.role, 'bulk.execute'))
    },
  )

  const runParams = z.object({ tenantId: z.string(), runId: z.string() })

  r.get(
    '/api/tenants/:tenantId/bulk-operations/:runId',
    {
      schema: {
        tags,
        summary: 'A bulk run’s backup and whether it can be undone (and why not)',
        params: runParams,
        response: responses({ 200: undoStateResponse }),
      },
    },
    async (request) => {
      const { access } = await auth.tenantAccess(request, request.params.tenantId, 'operations.view')
      if (!z.uuid().safeParse(request.params.runId).success) throw notFound('Bulk run')
      return undoState(db, access.tenantId, request.params.runId)
    },
  )

  r.post(
    '/api/tenants/:tenantId/bulk-operations/:runId/undo',
    {
      config: { capability: 'restore.execute' },
      schema: {
        tags,
        summary:
          'Plan the undo of a finished bulk run: a restore plan from its backup for the items it changed (201; review and execute it as a restore)',
        params: runParams,
        response: responses({ 201: restorePlanResponse }),
      },
    },
    async (request, reply) => {
      const { principal, access } = await auth.tenantAccess(request, request.params.tenantId)
      if (!z.uuid().safeParse(request.params.runId).success) throw notFound('Bulk run')
      const planId = await planUndo(
        db,
        access.tenantId,
        request.params.runId,
        principal.user,
        auth.actorOf(request, principal),
      )
      const plan = (await findPlan(db, access.tenantId, planId))!
      return reply
        .code(201)
        .send(presentPlan(plan, await planItems(db, planId), await targetSyncedAt(db, access.tenantId)))
    },
  )

  r.get(
    '/api/tenants/:tenantId/bulk-actions',
    {
      schema: {
        tags,
        summary: 'Which bulk actions each policy type can take, and why not',
        params: tenantIdParams,
        response: responses({ 200: actionMatrix }),
      },
    },
    async (request) => {
      await auth.tenantAccess(request, request.params.tenantId, 'tenant.view')
      return matrixBody
    },
  )
}
