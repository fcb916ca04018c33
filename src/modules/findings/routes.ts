import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { FINDING_SEVERITIES } from '../../db/schema.ts'
import type { HttpDeps } from '../../http/deps.ts'
import { cursorQuery, listEnvelope, responses } from '../../http/schemas.ts'
import { UUID_PATTERN } from '../../lib/ids.ts'
import { validationError } from '../../lib/errors.ts'
import { requiredText } from '../../lib/validation.ts'
import { authorizeDestructive } from '../access/authority.ts'
import { alignmentOf, alignmentResponse } from './alignment.ts'
import { acknowledge, except, withdrawException } from './commands.ts'
import { FINDING_PRESENTED_STATES, findingResponse, presentFinding } from './presenter.ts'
import { listFindings } from './repository.ts'

const tenantParams = z.object({ tenantId: z.string() })
const findingParams = z.object({ tenantId: z.string(), findingId: z.string() })
const listQuery = cursorQuery.extend({
  baseline_id: z.uuid({ error: 'must be a baseline id (a UUID)' }).optional(),
  state: z
    .enum(FINDING_PRESENTED_STATES, { error: `must be one of ${FINDING_PRESENTED_STATES.join(', ')}` })
    .optional(),
  severity: z.enum(FINDING_SEVERITIES, { error: `must be one of ${FINDING_SEVERITIES.join(', ')}` }).optional(),
})
const exceptionBody = z
  .strictObject({
    reason: requiredText(1000),
    expires_at: z.iso
      .datetime({ offset: true, error: 'must be an ISO 8601 date and time' })
      .nullable()
      .describe('When the exception ends (null: until withdrawn)'),
  })
  .meta({ id: 'FindingException' })

export function registerFindingRoutes(app: FastifyInstance, { db, auth }: HttpDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>()
  const tags = ['findings']

  r.get(
    '/api/tenants/:tenantId/findings',
    {
      config: { capability: 'tenant.view' },
      schema: {
        tags,
        summary: "The tenant's drift findings, newest first, filtered by baseline, state and severity",
        params: tenantParams,
        querystring: listQuery,
        response: responses({ 200: listEnvelope(findingResponse) }),
      },
    },
    async (request) => {
      const { tenantId } = request.params
      const { cursor, limit, baseline_id, state, severity } = request.query
      if (cursor !== undefined && !UUID_PATTERN.test(cursor))
        throw validationError([{ field: 'cursor', message: 'is not a cursor this API returned' }])
      const rows = await listFindings(
        db,
        tenantId,
        { baselineId: baseline_id, state, severity },
        { after: cursor, limit: limit + 1 },
      )
      const page = rows.slice(0, limit)
      return {
        data: page.map((row) => presentFinding(row.finding, row.approverName)),
        next_cursor: rows.length > limit ? page.at(-1)!.finding.id : null,
      }
    },
  )

  r.post(
    '/api/tenants/:tenantId/findings/:findingId/acknowledge',
    {
      config: { capability: 'findings.manage' },
      schema: {
        tags,
        summary: 'Acknowledge an open finding (cleared when it resolves and reopens)',
        params: findingParams,
        response: responses({ 200: findingResponse }),
      },
    },
    async (request) => {
      const { tenantId, findingId } = request.params
      const { principal } = await auth.tenantAccess(request, tenantId, 'findings.manage')
      const row = await acknowledge(db, auth.actorOf(request, principal), tenantId, principal.user.id, findingId)
      return presentFinding(row, principal.user.name)
    },
  )

  r.post(
    '/api/tenants/:tenantId/findings/:findingId/exception',
    {
      config: { capability: 'findings.approve' },
      schema: {
        tags,
        summary:
          'Accept the value the tenant holds now, with a reason and an expiry (findings.approve and a recent sign-in)',
        params: findingParams,
        body: exceptionBody,
        response: responses({ 200: findingResponse }),
      },
    },
    async (request) => {
      const { tenantId, findingId } = request.params
      const { principal, access } = await auth.tenantAccess(request, tenantId, 'findings.approve')
      authorizeDestructive(access, 'findings.approve')
      const row = await except(
        db,
        auth.actorOf(request, principal),
        tenantId,
        { id: principal.user.id, name: principal.user.name },
        findingId,
        request.body,
      )
      return presentFinding(row)
    },
  )

  r.delete(
    '/api/tenants/:tenantId/findings/:findingId/exception',
    {
      config: { capability: 'findings.approve' },
      schema: {
        tags,
        summary: 'Withdraw an exception: the finding is open again',
        params: findingParams,
        response: responses({ 200: findingResponse }),
      },
    },
    async (request) => {
      const { tenantId, findingId } = request.params
      const { principal } = await auth.tenantAccess(request, tenantId, 'findings.approve')
      return presentFinding(await withdrawException(db, auth.actorOf(request, principal), tenantId, findingId))
    },
  )

  r.get(
    '/api/tenants/:tenantId/alignment',
    {
      config: { capability: 'tenant.view' },
      schema: {
        tags,
        summary:
          'Per baseline assigned to the tenant: aligned, deviating, excepted and unknown entries, score, coverage',
        params: tenantParams,
        response: responses({ 200: listEnvelope(alignmentResponse) }),
      },
    },
    async (request) => ({ data: await alignmentOf(db, request.params.tenantId), next_cursor: null }),
  )
}
