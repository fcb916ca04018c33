import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { GraphClient } from '../../graph/graph-client.ts'
import { createMsalTokenProvider } from '../../graph/token-provider.ts'
import type { HttpDeps } from '../../http/deps.ts'
import { responses } from '../../http/schemas.ts'
import { tenantIdParams } from '../../http/schemas.ts'
import { assignmentsQuery, assignmentsResponse } from './schemas.ts'
import { whatReaches } from './what-reaches.ts'

export function registerAssignmentRoutes(app: FastifyInstance, { db, auth, secrets, config }: HttpDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>()
  const graph = new GraphClient({ tokens: createMsalTokenProvider() })

  r.get(
    '/api/tenants/:tenantId/assignments',
    {
      config: { capability: 'tenant.view' },
      schema: {
        tags: ['assignments'],
        summary:
          'What reaches a group, a user (UPN) or a device (name): every assigned policy, app and script, through nesting',
        params: tenantIdParams,
        querystring: assignmentsQuery,
        response: responses({ 200: assignmentsResponse }),
      },
    },
    async (request) => {
      const { access } = await auth.tenantAccess(request, request.params.tenantId)
      return whatReaches(db, graph, secrets, config.graphEmulatorUrl, access.tenantId, request.query)
    },
  )
}
