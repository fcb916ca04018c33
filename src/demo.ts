import { randomBytes } from 'node:crypto'
import { eq } from 'drizzle-orm'
import type { Logger } from 'pino'
import type { Database } from './db/engine.ts'
import { tenants } from './db/schema.ts'
import { GRAPH_PERMISSIONS, GRAPH_WRITE_PERMISSIONS } from './graph/policy-types.ts'
import type { SecretBox } from './lib/crypto.ts'
import { addTenant } from './modules/tenants/add-tenant.ts'
import { addMember } from './modules/tenants/members.ts'
import { readClientSecret } from './modules/tenants/update-tenant.ts'

/**
 * The demo workspace `npm start` creates on an empty data directory: "Contoso (demo)", an
 * emulated Microsoft tenant of a few hundred objects whose app registration lacks one
 * permission, so the first sync shows a partial success and what to grant.
 */
export const DEMO = {
  name: 'Contoso (demo)',
  entraTenantId: 'c0a70500-de70-4000-8000-00000000c0de',
  clientId: 'de70a770-5a11-4000-8000-00000000a770',
  seed: 'contoso',
  policies: 300,
  missingPermission: 'DeviceManagementScripts.Read.All',
} as const

/** Registers the demo tenant with the emulator (its state lives in memory: again at every start). */
async function registerWithEmulator(emulatorUrl: string, clientSecret: string) {
  const response = await fetch(`${emulatorUrl}/_emulator/tenants`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      seed: DEMO.seed,
      policies: DEMO.policies,
      tenant_id: DEMO.entraTenantId,
      client_id: DEMO.clientId,
      client_secret: clientSecret,
      // Reads (one missing, to show the permission failure) and the writes a restore needs.
      permissions: [
        ...GRAPH_PERMISSIONS.filter((p) => p !== DEMO.missingPermission),
        ...new Set(
          GRAPH_PERMISSIONS.filter((p) => p !== DEMO.missingPermission).map((p) => GRAPH_WRITE_PERMISSIONS[p]),
        ),
      ],
    }),
    signal: AbortSignal.timeout(10_000),
  })
  if (!response.ok)
    throw new Error(`the Graph emulator at ${emulatorUrl} answered ${response.status}: ${await response.text()}`)
}

/** Creates the demo tenant with the admin as its owner. */
export async function createDemoTenant(db: Database, secrets: SecretBox, ownerEmail: string) {
  const clientSecret = randomBytes(24).toString('base64url')
  const tenant = await addTenant(
    db,
    secrets,
    { kind: 'system' },
    {
      name: DEMO.name,
      entra_tenant_id: DEMO.entraTenantId,
      client_id: DEMO.clientId,
      client_secret: clientSecret,
      cloud: 'emulator',
    },
  )
  await addMember(db, { kind: 'system' }, tenant.id, { email: ownerEmail, role: 'owner' }, { upsert: true })
  return tenant
}

/**
 * Makes the demo tenant readable at start-up: registered with the emulator under its stored
 * secret. A data directory without the demo tenant is left alone.
 */
export async function attachDemoTenant(
  db: Database,
  secrets: SecretBox,
  emulatorUrl: string,
  log: Logger,
): Promise<boolean> {
  const [tenant] = await db.select().from(tenants).where(eq(tenants.entraTenantId, DEMO.entraTenantId))
  if (!tenant || tenant.cloud !== 'emulator') return false
  try {
    await registerWithEmulator(emulatorUrl, readClientSecret(secrets, tenant))
    return true
  } catch (error) {
    log.warn(
      { err: error },
      'the demo tenant could not be registered with the Graph emulator: its syncs fail until it can be',
    )
    return false
  }
}
