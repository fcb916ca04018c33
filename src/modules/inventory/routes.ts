import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { POLICY_TYPES, usedCategories } from '../../graph/policy-types.ts'
import type { HttpDeps } from '../../http/deps.ts'
import { responses } from '../../http/schemas.ts'
import { tenantIdParams } from '../tenants/schemas.ts'

const policyTypeResponse = z.object({
  key: z.string(),
  label: z.string(),
  kind: z.enum(['policy', 'foundation', 'dependency']),
  category: z.string(),
  platforms: z.array(z.string()),
  permission: z.string().describe('The application permission the app registration needs to read this type'),
})

// The catalog is static: presented once.
const catalogBody = {
  data: POLICY_TYPES.map((entry) => ({
    key: entry.key,
    label: entry.label,
    kind: entry.kind,
    category: entry.category,
    platforms: [...entry.platforms],
    permission: entry.permission,
  })),
  categories: usedCategories(),
}

export function registerInventoryRoutes(app: FastifyInstance, { auth }: HttpDeps) {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/tenants/:tenantId/policy-types',
    {
      schema: {
        tags: ['inventory'],
        summary: 'The supported policy types, foundations and dependencies, and their categories',
        params: tenantIdParams,
        response: responses({ 200: z.object({ data: z.array(policyTypeResponse), categories: z.array(z.string()) }) }),
      },
    },
    async (request) => {
      await auth.tenantAccess(request, request.params.tenantId, 'tenant.view')
      return catalogBody
    },
  )
}
