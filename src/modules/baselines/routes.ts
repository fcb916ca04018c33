import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { HttpDeps } from '../../http/deps.ts'
import { ID_LIST_BODY_LIMIT, listEnvelope, responses } from '../../http/schemas.ts'
import { AppError, notFound } from '../../lib/errors.ts'
import type { Capability } from '../access/policy.ts'
import { listMemberships } from '../access/repository.ts'
import { recordAuditEvent } from '../audit/record-audit-event.ts'
import { presentRun, runResponse } from '../operations/presenter.ts'
import { findRun } from '../operations/repository.ts'
import { addEntries, removeEntry, updateEntry } from './change-entries.ts'
import { createBaseline } from './create-baseline.ts'
import {
  assignmentResponse,
  baselineResponse,
  entryResponse,
  presentBaseline,
  presentEntry,
  versionDiffResponse,
  versionResponse,
} from './presenter.ts'
import {
  countEntries,
  currentEntries,
  deleteBaselineRow,
  findBaseline,
  findEntry,
  listBaselines,
  listVersions,
  updateBaselineRow,
} from './repository.ts'
import { readAssignment, saveAssignment } from './save-assignment.ts'
import {
  addEntriesBody,
  assignmentBody,
  assignmentParams,
  baselineParams,
  createBaselineBody,
  entryParams,
  updateBaselineBody,
  updateEntryBody,
  versionsDiffQuery,
} from './schemas.ts'
import { DEFAULT_IGNORE } from './sources.ts'
import { versionDiff } from './version-diff.ts'

export function registerBaselineRoutes(app: FastifyInstance, { db, auth, engine }: HttpDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>()
  const tags = ['baselines']

  /** A baseline the caller reaches through its home tenant (404 otherwise, as if it did not exist). */
  async function load(request: FastifyRequest, baselineId: string, capability: Capability) {
    const baseline = await findBaseline(db, baselineId)
    if (!baseline) throw notFound('Baseline')
    try {
      const { principal } = await auth.tenantAccess(request, baseline.homeTenantId, capability)
      return { baseline, principal }
    } catch (error) {
      if (error instanceof AppError && error.status === 404) throw notFound('Baseline')
      throw error
    }
  }
  const present = async (baselineId: string) => {
    const row = (await findBaseline(db, baselineId))!
    return presentBaseline(row, await countEntries(db, row.id))
  }
  /** The caller may manage baselines in the tenant the objects come from. */
  const canUse = (request: FastifyRequest) => async (tenantId: string) => {
    await auth.tenantAccess(request, tenantId, 'baselines.manage')
  }

  r.get(
    '/api/baselines',
    {
      config: { scope: 'tenant.view' },
      schema: {
        tags,
        summary: 'Baselines whose home tenant the caller belongs to, by name',
        response: responses({ 200: listEnvelope(baselineResponse) }),
      },
    },
    async (request) => {
      const principal = await auth.principalOf(request)
      const tenants = await auth.visibleMemberships(principal, await listMemberships(db, principal.user.id))
      const rows = await listBaselines(
        db,
        tenants.map((t) => t.tenant.id),
      )
      return { data: rows.map((row) => presentBaseline(row.baseline, row.entryCount)), next_cursor: null }
    },
  )

  r.post(
    '/api/baselines',
    {
      bodyLimit: ID_LIST_BODY_LIMIT,
      config: { scope: 'baselines.manage' },
      schema: {
        tags,
        summary: 'Create a baseline from objects of a tenant or a backup set (baselines.manage in that tenant)',
        body: createBaselineBody,
        response: responses({ 201: baselineResponse }),
      },
    },
    async (request, reply) => {
      const principal = await auth.principalOf(request)
      const id = await createBaseline(
        db,
        auth.actorOf(request, principal),
        principal.user.id,
        request.body,
        canUse(request),
      )
      return reply.code(201).send(await present(id))
    },
  )

  r.get(
    '/api/baselines/:baselineId',
    {
      config: { scope: 'tenant.view' },
      schema: { tags, summary: 'One baseline', params: baselineParams, response: responses({ 200: baselineResponse }) },
    },
    async (request) => {
      const { baseline } = await load(request, request.params.baselineId, 'tenant.view')
      return present(baseline.id)
    },
  )

  r.patch(
    '/api/baselines/:baselineId',
    {
      config: { scope: 'baselines.manage' },
      schema: {
        tags,
        summary: 'Rename a baseline or change its description (not a new version: its entries are unchanged)',
        params: baselineParams,
        body: updateBaselineBody,
        response: responses({ 200: baselineResponse }),
      },
    },
    async (request) => {
      const { baseline, principal } = await load(request, request.params.baselineId, 'baselines.manage')
      await db.transaction(async (tx) => {
        await updateBaselineRow(tx, baseline.id, request.body)
        await recordAuditEvent(tx, auth.actorOf(request, principal), {
          tenantId: baseline.homeTenantId,
          action: 'baseline.updated',
          subject: { type: 'baseline', id: baseline.id },
          metadata: { ...request.body },
        })
      })
      return present(baseline.id)
    },
  )

  r.delete(
    '/api/baselines/:baselineId',
    {
      config: { scope: 'baselines.manage' },
      schema: {
        tags,
        summary: 'Delete a baseline, its assignments and its findings',
        params: baselineParams,
        response: responses({ 204: z.null() }),
      },
    },
    async (request, reply) => {
      const { baseline, principal } = await load(request, request.params.baselineId, 'baselines.manage')
      await db.transaction(async (tx) => {
        await recordAuditEvent(tx, auth.actorOf(request, principal), {
          tenantId: baseline.homeTenantId,
          action: 'baseline.deleted',
          subject: { type: 'baseline', id: baseline.id },
          metadata: { name: baseline.name },
        })
        await deleteBaselineRow(tx, baseline.id)
      })
      return reply.code(204).send(null)
    },
  )

  r.get(
    '/api/baselines/:baselineId/versions',
    {
      config: { scope: 'tenant.view' },
      schema: {
        tags,
        summary: "A baseline's versions, newest first",
        params: baselineParams,
        response: responses({ 200: listEnvelope(versionResponse) }),
      },
    },
    async (request) => {
      const { baseline } = await load(request, request.params.baselineId, 'tenant.view')
      const rows = await listVersions(db, baseline.id)
      return {
        data: rows.map((v) => ({
          number: v.number,
          summary: v.summary,
          entry_count: v.entryCount,
          created_at: v.createdAt.toISOString(),
        })),
        next_cursor: null,
      }
    },
  )

  r.get(
    '/api/baselines/:baselineId/diff',
    {
      config: { scope: 'tenant.view' },
      schema: {
        tags,
        summary: 'A readable diff between two versions (default: the previous one and the current one)',
        params: baselineParams,
        querystring: versionsDiffQuery,
        response: responses({ 200: versionDiffResponse }),
      },
    },
    async (request) => {
      const { baseline } = await load(request, request.params.baselineId, 'tenant.view')
      return versionDiff(db, baseline, request.query.from, request.query.to)
    },
  )

  r.get(
    '/api/baselines/:baselineId/entries',
    {
      config: { scope: 'tenant.view' },
      schema: {
        tags,
        summary: "A baseline's current entries, by type and name",
        params: baselineParams,
        response: responses({ 200: listEnvelope(entryResponse) }),
      },
    },
    async (request) => {
      const { baseline } = await load(request, request.params.baselineId, 'tenant.view')
      const rows = await currentEntries(db, baseline.id)
      return { data: rows.map((e) => presentEntry(e, DEFAULT_IGNORE)), next_cursor: null }
    },
  )

  r.post(
    '/api/baselines/:baselineId/entries',
    {
      bodyLimit: ID_LIST_BODY_LIMIT,
      config: { scope: 'baselines.manage' },
      schema: {
        tags,
        summary: 'Add entries from objects of a tenant or a backup set (a new version)',
        params: baselineParams,
        body: addEntriesBody,
        response: responses({ 201: listEnvelope(entryResponse) }),
      },
    },
    async (request, reply) => {
      const { baseline, principal } = await load(request, request.params.baselineId, 'baselines.manage')
      const ids = new Set(
        await addEntries(
          db,
          baseline,
          auth.actorOf(request, principal),
          principal.user.id,
          request.body.from,
          canUse(request),
        ),
      )
      const rows = (await currentEntries(db, baseline.id)).filter((e) => ids.has(e.id))
      return reply.code(201).send({ data: rows.map((e) => presentEntry(e, DEFAULT_IGNORE)), next_cursor: null })
    },
  )

  r.patch(
    '/api/baselines/:baselineId/entries/:entryId',
    {
      config: { scope: 'baselines.manage' },
      schema: {
        tags,
        summary:
          'Change what an entry compares, its ignore rules, or re-pin it to a version of its source (a new version)',
        params: entryParams,
        body: updateEntryBody,
        response: responses({ 200: entryResponse }),
      },
    },
    async (request) => {
      const { baseline, principal } = await load(request, request.params.baselineId, 'baselines.manage')
      await updateEntry(
        db,
        baseline,
        auth.actorOf(request, principal),
        principal.user.id,
        request.params.entryId,
        request.body,
      )
      return presentEntry((await findEntry(db, baseline.id, request.params.entryId))!, DEFAULT_IGNORE)
    },
  )

  r.delete(
    '/api/baselines/:baselineId/entries/:entryId',
    {
      config: { scope: 'baselines.manage' },
      schema: {
        tags,
        summary: 'Remove an entry (a new version; its findings resolve at the next evaluation)',
        params: entryParams,
        response: responses({ 204: z.null() }),
      },
    },
    async (request, reply) => {
      const { baseline, principal } = await load(request, request.params.baselineId, 'baselines.manage')
      await removeEntry(db, baseline, auth.actorOf(request, principal), principal.user.id, request.params.entryId)
      return reply.code(204).send(null)
    },
  )

  /** A baseline seen from a tenant: the caller views its home tenant too (404 otherwise). */
  async function loadFor(request: FastifyRequest, tenantId: string, baselineId: string, capability: Capability) {
    await auth.tenantAccess(request, tenantId, capability)
    return (await load(request, baselineId, 'tenant.view')).baseline
  }

  r.get(
    '/api/tenants/:tenantId/baselines/:baselineId',
    {
      config: { capability: 'tenant.view' },
      schema: {
        tags,
        summary:
          "The baseline's assignment to the tenant: enabled, mapping, overrides and bindings (proposals where none is stored)",
        params: assignmentParams,
        response: responses({ 200: assignmentResponse }),
      },
    },
    async (request) => {
      const { tenantId, baselineId } = request.params
      const baseline = await loadFor(request, tenantId, baselineId, 'tenant.view')
      return readAssignment(db, tenantId, baseline)
    },
  )

  r.put(
    '/api/tenants/:tenantId/baselines/:baselineId',
    {
      bodyLimit: ID_LIST_BODY_LIMIT,
      config: { capability: 'baselines.manage' },
      schema: {
        tags,
        summary: 'Assign the baseline to the tenant or change the assignment (fields left out keep their value)',
        params: assignmentParams,
        body: assignmentBody,
        response: responses({ 200: assignmentResponse }),
      },
    },
    async (request) => {
      const { tenantId, baselineId } = request.params
      const baseline = await loadFor(request, tenantId, baselineId, 'baselines.manage')
      const principal = await auth.principalOf(request)
      await saveAssignment(db, auth.actorOf(request, principal), tenantId, baseline, request.body)
      return readAssignment(db, tenantId, baseline)
    },
  )

  r.post(
    '/api/tenants/:tenantId/drift-evaluations',
    {
      config: { capability: 'findings.manage' },
      schema: {
        tags,
        summary: "Evaluate the tenant's enabled baselines now: 202 with a drift.evaluate run",
        params: z.object({ tenantId: z.string() }),
        response: responses({ 202: z.object({ run: runResponse, deduplicated: z.boolean() }) }),
      },
    },
    async (request, reply) => {
      const { tenantId } = request.params
      const { principal, access } = await auth.tenantAccess(request, tenantId, 'findings.manage')
      const { run, deduplicated } = await engine.startRun({
        tenantId,
        type: 'drift.evaluate',
        context: {},
        initiatorUserId: principal.user.id,
        actor: auth.actorOf(request, principal),
      })
      const row = (await findRun(db, tenantId, run.id))!
      return reply.code(202).send({ run: presentRun(engine.catalog, access, row), deduplicated })
    },
  )
}
