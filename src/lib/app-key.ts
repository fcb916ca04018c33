import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { type Config, ConfigError } from './config.ts'
import { generateAppKey, parseAppKey, SecretBox } from './crypto.ts'

/**
 * The key for secrets at rest. With PostgreSQL it must come from APP_KEY (every process
 * needs the same key, and the database alone must not be enough to read secrets). On the
 * embedded cluster it is generated into DATA_DIR on first start, beside the data it protects.
 */
const generatedKeys = new WeakMap<SecretBox, string>()

/** The file a key was generated into by this process, if it was (verifyAppKey removes it again when the database holds another key's secrets). */
export const generatedKeyFile = (box: SecretBox) => generatedKeys.get(box)

export function loadSecretBox(config: Config): SecretBox {
  try {
    if (config.appKey) return new SecretBox(parseAppKey(config.appKey))
  } catch (error) {
    throw new ConfigError((error as Error).message)
  }
  if (config.databaseUrl) {
    throw new ConfigError(
      'APP_KEY is required with DATABASE_URL: generate one with `openssl rand -base64 32` and give every process the same key',
    )
  }
  const file = path.join(config.dataDir, 'app.key')
  const generated = !existsSync(file)
  if (generated) {
    mkdirSync(config.dataDir, { recursive: true })
    writeFileSync(file, generateAppKey() + '\n', { mode: 0o600, flag: 'wx' })
  }
  let box: SecretBox
  try {
    box = new SecretBox(parseAppKey(readFileSync(file, 'utf8')))
  } catch (error) {
    throw new ConfigError(`${file}: ${(error as Error).message}`)
  }
  if (generated) generatedKeys.set(box, file)
  return box
}
