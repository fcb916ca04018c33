import { eq } from 'drizzle-orm'
import { tenants, type TenantRow } from '../../db/schema.ts'
import { RunFailureError } from '../operations/run-errors.ts'
import type { RunExecution } from '../operations/run-execution.ts'
import type { GraphTenantContext } from '../../graph/tenant-context.ts'
import type { SecretBox } from '../../lib/crypto.ts'
import { readClientSecret } from './update-tenant.ts'

/** A tenant that cannot be reached with this process's configuration. */
export class ConnectionConfigError extends Error {
  override name = 'ConnectionConfigError'
  readonly code = 'emulator_not_configured'
}

/** What the Graph layer needs to read a tenant: its ids, its decrypted secret, its cloud. */
export function graphContextOf(
  tenant: TenantRow,
  secrets: SecretBox,
  emulatorUrl: string | undefined,
): GraphTenantContext {
  if (tenant.cloud === 'emulator' && !emulatorUrl) {
    throw new ConnectionConfigError(
      'The tenant is on the emulator cloud, but this process has no Graph emulator: set GRAPH_EMULATOR_URL',
    )
  }
  return {
    tenantKey: tenant.id,
    entraTenantId: tenant.entraTenantId,
    clientId: tenant.clientId,
    clientSecret: readClientSecret(secrets, tenant),
    cloud: tenant.cloud,
    emulatorUrl: tenant.cloud === 'emulator' ? emulatorUrl : undefined,
  }
}

/** The tenant's Graph context, or a failure that says what to fix. */
export async function tenantContext(
  run: RunExecution,
  deps: { secrets: SecretBox; emulatorUrl: string | undefined },
): Promise<GraphTenantContext> {
  const [tenant] = await run.db.select().from(tenants).where(eq(tenants.id, run.run.tenantId))
  if (!tenant) throw new RunFailureError('tenant_not_found', 'The tenant was deleted before the run started')
  try {
    return graphContextOf(tenant, deps.secrets, deps.emulatorUrl)
  } catch (error) {
    if (error instanceof ConnectionConfigError) throw new RunFailureError(error.code, error.message)
    throw error
  }
}
