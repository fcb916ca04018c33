import type { DatabaseHandle, Database } from '../db/engine.ts'
import type { Config } from '../lib/config.ts'
import type { SecretBox } from '../lib/crypto.ts'
import type { SignInLimits } from '../modules/access/sign-in.ts'
import type { OperationsEngine } from '../modules/operations/engine.ts'
import type { Auth } from '../modules/access/http-auth.ts'
import type { LiveHub } from '../modules/operations/live-hub.ts'
import type { OidcClient } from '../modules/entra/oidc-client.ts'

/** What route modules receive: everything they need, nothing global. */
export type HttpDeps = {
  db: Database
  handle: DatabaseHandle
  config: Config
  secrets: SecretBox
  auth: Auth
  signInLimits: SignInLimits
  engine: OperationsEngine
  hub: LiveHub
  /** The Entra ID relying party, when ENTRA_CLIENT_ID is configured. */
  oidc: OidcClient | undefined
}
