import { Readable } from 'node:stream'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { COMPARISON_ROW_STATUSES, type ComparisonRowStatus } from '../../db/schema.ts'
import type { HttpDeps } from '../../http/deps.ts'
import { cursorQuery, responses } from '../../http/schemas.ts'
import { AppError, notFound } from '../../lib/errors.ts'
import { presentRun, runResponse } from '../operations/presenter.ts'
import { findRun } from '../operations/repository.ts'
import { comparisonCsv, comparisonMarkdown } from './export.ts'
import { comparisonResponse, comparisonRowResponse, presentComparison } from './presenter.ts'
import { eachComparisonRow, findComparison, listComparisonRows, type RowFilters } from './repository.ts'
import { comparisonBody, startComparison } from './start-comparison.ts'

const params = z.object({ comparisonId: z.string() })
const filters = z.object({
  status: z.enum(COMPARISON_ROW_STATUSES, { error: `must be one of ${COMPARISON_ROW_STATUSES.join(', ')}` }).optional(),
  type: z.string().max(100, { error: 'must be at most 100 characters' }).optional().describe('A policy type key'),
})
const rowsQuery = cursorQuery.extend(filters.shape).extend({
  cursor: z.coerce
    .number({ error: 'must be the next_cursor of the previous page' })
    .int()
    .min(0)
    .max(10_000_000)
    .optional(),
})
const exportQuery = filters.extend({
  format: z.enum(['csv', 'md'], { error: 'must be csv or md' }),
})
const createdResponse = z.object({ comparison: comparisonResponse, run: runResponse.nullable() })

/** A file name for a comparison's export. */
const fileName = (id: string, format: 'csv' | 'md') => `comparison-${id}.${format}`

export function registerCompareRoutes(app: FastifyInstance, { db, auth, engine }: HttpDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>()
  const tags = ['compare']

  /** A comparison the caller may see: they view both sides' tenants (404 otherwise, as if it did not exist). */
  async function load(request: FastifyRequest, comparisonId: string) {
    const comparison = await findComparison(db, comparisonId)
    if (!comparison) throw notFound('Comparison')
    try {
      await auth.tenantAccess(request, comparison.leftTenantId, 'tenant.view')
      await auth.tenantAccess(request, comparison.rightTenantId, 'tenant.view')
    } catch (error) {
      if (error instanceof AppError && error.status === 404) throw notFound('Comparison')
      throw error
    }
    return comparison
  }

  r.post(
    '/api/comparisons',
    {
      config: { scope: 'tenant.view' },
      schema: {
        tags,
        summary:
          'Compare two states (a tenant now or at a time, a backup set): 201 computed inline, 202 with a compare.run run for large ones',
        body: comparisonBody,
        response: responses({ 201: createdResponse, 202: createdResponse }),
      },
    },
    async (request, reply) => {
      const principal = await auth.principalOf(request)
      const { comparisonId, run } = await startComparison(db, engine, {
        body: request.body,
        userId: principal.user.id,
        actor: auth.actorOf(request, principal),
        canView: async (tenantId) => {
          await auth.tenantAccess(request, tenantId, 'tenant.view')
        },
      })
      const comparison = presentComparison((await findComparison(db, comparisonId))!)
      if (!run) return reply.code(201).send({ comparison, run: null })
      const access = await auth.membershipOf(request, run.tenantId)
      const row = (await findRun(db, run.tenantId, run.id)) ?? {
        run,
        initiatorName: principal.user.name,
        scheduleName: null,
      }
      return reply.code(202).send({ comparison, run: presentRun(engine.catalog, access, row) })
    },
  )

  r.get(
    '/api/comparisons/:comparisonId',
    {
      config: { scope: 'tenant.view' },
      schema: {
        tags,
        summary:
          'A comparison (visible to whoever views both sides) and a page of its rows, filtered by status and type',
        params,
        querystring: rowsQuery,
        response: responses({
          200: z.object({
            comparison: comparisonResponse,
            data: z.array(comparisonRowResponse),
            next_cursor: z.string().nullable(),
          }),
        }),
      },
    },
    async (request) => {
      const comparison = await load(request, request.params.comparisonId)
      const { status, type, cursor, limit } = request.query
      const rows = await listComparisonRows(
        db,
        comparison.id,
        { status, type },
        { after: cursor ?? -1, limit: limit + 1 },
      )
      const page = rows.slice(0, limit)
      return {
        comparison: presentComparison(comparison),
        data: page.map((row) => ({
          position: row.position,
          status: row.status,
          policy_type: row.policyType,
          left: row.left as z.infer<typeof comparisonRowResponse>['left'],
          right: row.right as z.infer<typeof comparisonRowResponse>['right'],
          changes: row.changes as z.infer<typeof comparisonRowResponse>['changes'],
        })),
        next_cursor: rows.length > limit ? String(page.at(-1)!.position) : null,
      }
    },
  )

  r.get(
    '/api/comparisons/:comparisonId/export',
    {
      config: { scope: 'tenant.view' },
      schema: {
        tags,
        summary: 'A comparison as CSV (one line per changed setting) or Markdown, streamed; filtered like its rows',
        params,
        querystring: exportQuery,
        response: responses({ 200: z.any().describe('text/csv or text/markdown') }),
      },
    },
    async (request, reply) => {
      const comparison = await load(request, request.params.comparisonId)
      if (comparison.status !== 'ready') throw notFound('Completed comparison')
      const { format, status, type } = request.query
      const rowFilters: RowFilters = { status, type }
      const body =
        format === 'csv'
          ? comparisonCsv(eachComparisonRow(db, comparison.id, rowFilters))
          : comparisonMarkdown(
              presentComparison(comparison),
              status ? [status] : (['only_left', 'only_right', 'different', 'same'] satisfies ComparisonRowStatus[]),
              (s) => eachComparisonRow(db, comparison.id, { status: s, type }),
            )
      return reply
        .type(format === 'csv' ? 'text/csv; charset=utf-8' : 'text/markdown; charset=utf-8')
        .header('content-disposition', `attachment; filename="${fileName(comparison.id, format)}"`)
        .send(Readable.from(body))
    },
  )
}
