import { randomBytes, randomUUID } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { settings } from '../src/db/schema.ts'
import { loadSecretBox } from '../src/lib/app-key.ts'
import { loadConfig } from '../src/lib/config.ts'
import { SecretBox } from '../src/lib/crypto.ts'
import { addTenant } from '../src/modules/tenants/add-tenant.ts'
import { verifyAppKey } from '../src/modules/tenants/verify-app-key.ts'
import type { DatabaseHandle } from '../src/db/engine.ts'
import { cli, withScratchDatabase } from './processes.ts'
import { openTestDatabase } from './database.ts'

/** Item 2 of issue 12: a process whose APP_KEY does not match the database refuses to start. */
let handle: DatabaseHandle
beforeAll(async () => {
  handle = await openTestDatabase()
})
afterAll(() => handle.close())

const box = () => new SecretBox(randomBytes(32))

describe('the APP_KEY check', () => {
  it('is written on first start, passes with the same key and refuses another, naming APP_KEY', async () => {
    const key = randomBytes(32)
    await verifyAppKey(handle.db, new SecretBox(key))
    expect(await handle.db.select().from(settings)).toHaveLength(1)
    await verifyAppKey(handle.db, new SecretBox(key))
    await expect(verifyAppKey(handle.db, box())).rejects.toThrow(/^APP_KEY does not match/)
  })

  it('judges a database from before the check by a stored client secret', async () => {
    const legacy = await openTestDatabase()
    try {
      const original = box()
      await addTenant(
        legacy.db,
        original,
        { kind: 'system' },
        { name: 'Old', entra_tenant_id: randomUUID(), client_id: randomUUID(), client_secret: 's', cloud: 'global' },
      )
      await expect(verifyAppKey(legacy.db, box())).rejects.toThrow(/APP_KEY/)
      expect(await legacy.db.select().from(settings)).toHaveLength(0) // nothing written for the wrong key
      await verifyAppKey(legacy.db, original)
      await verifyAppKey(legacy.db, original)
    } finally {
      await legacy.close()
    }
  })

  it('on the embedded engine, removes a key generated over a database that holds another key’s secrets', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'ta-key-'))
    const generated = loadSecretBox(loadConfig({ DATA_DIR: dataDir }))
    const file = path.join(dataDir, 'app.key')
    expect(existsSync(file)).toBe(true)
    await expect(verifyAppKey(handle.db, generated)).rejects.toThrow(
      /APP_KEY: .*app\.key was missing.*put the original app\.key back/,
    )
    expect(existsSync(file)).toBe(false)
    // A key generated for a database with no secrets yet is kept.
    const fresh = await openTestDatabase()
    try {
      const kept = loadSecretBox(loadConfig({ DATA_DIR: dataDir }))
      await verifyAppKey(fresh.db, kept)
      expect(readFileSync(file, 'utf8').trim()).toHaveLength(44)
    } finally {
      await fresh.close()
    }
  })
})

describe('serve, worker and the CLI with the wrong APP_KEY', () => {
  it('refuse to start with a one-line message naming APP_KEY', async () => {
    await withScratchDatabase(async (url) => {
      const right = {
        DATABASE_URL: url,
        APP_KEY: randomBytes(32).toString('base64'),
        HOST: '127.0.0.1',
        TENANTATLAS_CLIENT_SECRET: 'secret',
      }
      const wrong = { ...right, APP_KEY: randomBytes(32).toString('base64') }
      const added = await cli(
        ['tenant', 'add', '--name', 'K', '--entra-tenant-id', randomUUID(), '--client-id', randomUUID()],
        { env: right },
      )
      expect(added, added.stderr).toMatchObject({ code: 0 })
      for (const args of [
        ['tenant', 'add', '--name', 'K2', '--entra-tenant-id', randomUUID(), '--client-id', randomUUID()],
        ['serve', '--port', '0'],
        ['worker'],
      ]) {
        const refused = await cli(args, { env: wrong })
        expect(refused.code, args.join(' ')).not.toBe(0)
        expect(refused.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1)
        expect(refused.stderr).toMatch(/APP_KEY does not match/)
      }
    })
  }, 300_000) // four processes started one after another: minutes on a machine busy with other work
})
