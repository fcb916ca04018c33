import type { EntraConfig } from '../../lib/config.ts'
import { transitiveGroupsOf } from '../../graph/directory.ts'
import { GraphClient } from '../../graph/graph-client.ts'
import type { GraphTenantContext } from '../../graph/tenant-context.ts'

/**
 * Groups overage: past 200 groups Entra leaves `groups` out of the id token and names Graph as the
 * source (`_claim_names`/`_claim_sources`). We then read the user's transitive memberships through
 * Graph with the app's own credentials in the user's tenant (application permission
 * GroupMember.Read.All), as https://learn.microsoft.com/security/zero-trust/develop/configure-tokens-group-claims-app-roles
 * recommends; the Graph layer's errors name a missing permission.
 */
let graph: GraphClient | undefined

export async function readGroups(
  entra: EntraConfig,
  emulatorUrl: string | undefined,
  tid: string,
  oid: string,
): Promise<string[]> {
  graph ??= new GraphClient({ retry: { maxAttempts: 3 } })
  const ctx: GraphTenantContext = {
    tenantKey: `entra-sign-in:${tid}`,
    entraTenantId: tid,
    clientId: entra.clientId,
    clientSecret: entra.clientSecret,
    cloud: entra.cloud,
    ...(entra.cloud === 'emulator' && emulatorUrl ? { emulatorUrl } : {}),
  }
  return (await transitiveGroupsOf(graph, ctx, 'users', oid)).map((g) => g.id.toLowerCase())
}
