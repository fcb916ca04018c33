import type { Cloud } from './clouds.ts'

/**
 * What the Graph layer needs to read one tenant. It is independent of the database: the
 * inventory sync builds it from a tenant row and its decrypted client secret.
 */
export type GraphTenantContext = {
  /** Our tenant id: the key the throttle budget is shared by. */
  tenantKey: string
  entraTenantId: string
  clientId: string
  clientSecret: string
  cloud: Cloud
  /** Base URL of the emulator for the `emulator` cloud. */
  emulatorUrl?: string
}
