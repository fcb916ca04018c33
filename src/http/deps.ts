import type { DatabaseHandle, Database } from '../db/engine.ts'
import type { Config } from '../lib/config.ts'
import type { SecretBox } from '../lib/crypto.ts'
import type { SignInLimits } from '../modules/access/sign-in.ts'
import type { Auth } from './auth.ts'

/** What route modules receive: everything they need, nothing global. */
export type HttpDeps = {
  db: Database
  handle: DatabaseHandle
  config: Config
  secrets: SecretBox
  auth: Auth
  signInLimits: SignInLimits
}
