import type { TenantRow } from '../../db/schema.ts'
import type { GraphTenantContext } from '../../graph/tenant-context.ts'
import type { SecretBox } from '../../lib/crypto.ts'
import { readClientSecret } from '../tenants/update-tenant.ts'

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
