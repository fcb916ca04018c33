import { unlinkSync } from 'node:fs'
import { eq } from 'drizzle-orm'
import type { Database } from '../../db/engine.ts'
import { settings, tenants } from '../../db/schema.ts'
import { generatedKeyFile } from '../../lib/app-key.ts'
import { ConfigError } from '../../lib/config.ts'
import type { SecretBox } from '../../lib/crypto.ts'
import { readClientSecret } from './update-tenant.ts'

const KEY_CHECK = 'app_key_check'
const KEY_CHECK_TEXT = 'TenantAtlas APP_KEY check'

const opens = (open: () => string) => {
  try {
    open()
    return true
  } catch {
    return false
  }
}

/**
 * Refuses to go on with an APP_KEY that is not the one this database's secrets were encrypted
 * with: every sync would fail on its client secret while /readyz said ok. The database keeps a
 * value encrypted with the key (written on first start); a database from before that check is
 * judged by one stored client secret. On the embedded engine, a key generated just now (app.key
 * was missing) over such a database is removed again, so a lost key is never silently replaced.
 */
export async function verifyAppKey(db: Database, secrets: SecretBox): Promise<void> {
  let check = await readCheck(db)
  if (check === undefined) {
    const [tenant] = await db
      .select({ id: tenants.id, clientSecretEncrypted: tenants.clientSecretEncrypted })
      .from(tenants)
      .limit(1)
    if (tenant && !opens(() => readClientSecret(secrets, tenant))) refuse(secrets)
    await db
      .insert(settings)
      .values({ key: KEY_CHECK, value: secrets.encrypt(KEY_CHECK_TEXT, KEY_CHECK) })
      .onConflictDoNothing()
    // Another process starting at the same time may have written its check first: read what stands.
    check = await readCheck(db)
  }
  if (check === undefined || !opens(() => secrets.decrypt(check, KEY_CHECK))) refuse(secrets)
}

async function readCheck(db: Database) {
  const [row] = await db.select({ value: settings.value }).from(settings).where(eq(settings.key, KEY_CHECK))
  return row?.value
}

function refuse(secrets: SecretBox): never {
  const generated = generatedKeyFile(secrets)
  if (generated) {
    unlinkSync(generated)
    throw new ConfigError(
      `APP_KEY: ${generated} was missing, and this database holds secrets encrypted with another key: put the original app.key back (or set APP_KEY to it)`,
    )
  }
  throw new ConfigError(
    'APP_KEY does not match the key this database was encrypted with: start with the APP_KEY (or DATA_DIR/app.key) it was created with',
  )
}
