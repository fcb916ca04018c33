import { startServe } from './serve.ts'

/**
 * Starts `tenantatlas serve` exactly as a user's first `npm start` does (e2e/serve.ts): the demo tenant
 * ("Contoso (demo)") on the built-in Graph emulator, whose URL the specs use to slow it down.
 * The web console is built beforehand (`pretest:e2e`).
 */
export default async function globalSetup() {
  const served = await startServe()
  process.env.E2E_BASE_URL = served.baseUrl
  process.env.E2E_ADMIN_EMAIL = served.admin.email
  process.env.E2E_ADMIN_PASSWORD = served.admin.password
  process.env.E2E_EMULATOR_URL = served.emulatorUrl
  return served.stop
}
