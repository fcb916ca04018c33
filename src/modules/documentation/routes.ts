import { Readable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { HttpDeps } from '../../http/deps.ts'
import { responses } from '../../http/schemas.ts'
import { notFound } from '../../lib/errors.ts'
import { presentRun, runResponse } from '../operations/presenter.ts'
import { findRun } from '../operations/repository.ts'
import { validatedInput } from '../operations/start-run.ts'
import { tenantIdParams } from '../../http/schemas.ts'
import { sideOfSource } from './export-run.ts'
import type { DocsExportContext } from './operation-types.ts'
import { documentationBytes, findDocumentation } from './repository.ts'

const docsExportBody = z
  .strictObject({
    source: z.record(z.string(), z.unknown()).optional(),
    format: z.string(),
    include_assignments: z.boolean().optional(),
    changed_since: z.string().optional(),
  })
  .meta({
    id: 'DocumentationExportCreate',
    description:
      '`source`: `{now: true}` (default), `{at}`, `{backup_id}` or `{baseline_id}`; `format`: `markdown` or `html`; `include_assignments` (default true); `changed_since` adds the appendix of changes since then',
  })
const downloadParams = z.object({ tenantId: z.string(), runId: z.string() })

export function registerDocumentationRoutes(app: FastifyInstance, { db, auth, engine }: HttpDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>()
  const tags = ['documentation']

  r.post(
    '/api/tenants/:tenantId/documentation',
    {
      config: { capability: 'tenant.view' },
      schema: {
        tags,
        summary:
          'Export readable documentation (Markdown ZIP or one HTML file) of the tenant now, at a time, or of one of its backup sets: a docs.export run',
        params: tenantIdParams,
        body: docsExportBody,
        response: responses({ 202: z.object({ run: runResponse, deduplicated: z.boolean() }) }),
      },
    },
    async (request, reply) => {
      const { principal, access } = await auth.tenantAccess(request, request.params.tenantId)
      const context = validatedInput(engine.catalog, 'docs.export', request.body)
      // The source is checked now (a backup of another tenant is a 404, a baseline a 422), not when the run starts.
      await sideOfSource(db, access.tenantId, (context as DocsExportContext).source)
      const { run, deduplicated } = await engine.startRun({
        tenantId: access.tenantId,
        type: 'docs.export',
        context,
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

  r.get(
    '/api/tenants/:tenantId/documentation/:runId/download',
    {
      config: { capability: 'tenant.view' },
      schema: {
        tags,
        summary: "A finished docs.export run's document (application/zip or text/html), streamed",
        params: downloadParams,
        response: responses({ 200: z.any().describe('application/zip or text/html') }),
      },
    },
    async (request, reply) => {
      const { access } = await auth.tenantAccess(request, request.params.tenantId)
      const doc = await findDocumentation(db, access.tenantId, request.params.runId)
      if (!doc?.completedAt) throw notFound('Finished documentation')
      return reply
        .type(doc.format === 'markdown' ? 'application/zip' : 'text/html; charset=utf-8')
        .header('content-disposition', `attachment; filename="${doc.filename}"`)
        .header('content-length', doc.byteCount)
        .send(Readable.from(documentationBytes(db, doc.runId)))
    },
  )
}
