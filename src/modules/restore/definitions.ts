import { eq } from 'drizzle-orm'
import type { Database } from '../../db/engine.ts'
import { tenants } from '../../db/schema.ts'
import { GraphClient } from '../../graph/graph-client.ts'
import { createMsalTokenProvider } from '../../graph/token-provider.ts'
import type { SecretBox } from '../../lib/crypto.ts'
import { graphContextOf } from '../tenants/graph-context.ts'
import type { DefinitionCheck } from './plan.ts'

/** The Graph client plans read setting definitions with (the process's shared budgets). */
let planGraph: GraphClient | undefined

export type GraphDeps = { secrets: SecretBox; emulatorUrl: string | undefined }

/** Which of the setting definitions the target tenant no longer offers: 404 on `configurationSettings/{id}`. Null when Graph cannot tell. */
export function definitionCheck(db: Database, deps: GraphDeps, targetTenantId: string): DefinitionCheck {
  return async (ids) => {
    const [tenant] = await db.select().from(tenants).where(eq(tenants.id, targetTenantId))
    if (!tenant) return null
    try {
      const ctx = graphContextOf(tenant, deps.secrets, deps.emulatorUrl)
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
