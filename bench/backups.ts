import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { sql } from 'drizzle-orm'
import { openDatabase } from '../src/db/engine.ts'
import { runMigrations } from '../src/db/migrate.ts'
import { backupSets } from '../src/db/schema.ts'
import { SecretBox } from '../src/lib/crypto.ts'
import { uuidv7 } from '../src/lib/ids.ts'
import { finishSet, pinObjects, type BackupObject } from '../src/modules/backups/store.ts'
import { contentHashOf } from '../src/modules/backups/zip-import.ts'
import { addTenant } from '../src/modules/tenants/add-tenant.ts'
import { APP_KEY, withFreshPostgres } from './lib.ts'

/**
 * Backup ZIPs (issue 14's figures): a set of N objects (payloads shaped like device configurations,
 * about 1.5 KB of JSON each) exported to a ZIP and imported again, each in its own process:
 * wall time, ZIP size and peak RSS, at 10,000 and 100,000 objects (BENCH_BACKUP_SIZES).
 * The target is memory flat in the object count.
 */
const SIZES = (process.env.BENCH_BACKUP_SIZES ?? '10000,100000').split(',').map(Number)

const objectOf = (i: number): BackupObject => {
  const payload = {
    '@odata.type': '#microsoft.graph.windows10GeneralConfiguration',
    id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    displayName: `Policy ${i % 500}`,
    description: 'Bench object '.repeat(8),
    passwordRequired: i % 2 === 0,
    passwordMinimumLength: 8 + (i % 8),
    settings: Array.from({ length: 12 }, (_, k) => ({ name: `setting${k}`, value: `value-${(i + k) % 97}`, enabled: k % 3 === 0 })),
    roleScopeTagIds: ['0'],
  }
  const assignments = [{ target: { '@odata.type': '#microsoft.graph.groupAssignmentTarget', groupId: `group-${i % 50}` } }]
  return { policyType: 'deviceConfiguration', externalId: payload.id, displayName: payload.displayName, contentHash: contentHashOf(payload, assignments), payload, assignments }
}

const child = (args: string[]) => JSON.parse(execFileSync(process.execPath, [path.resolve('bench/backups-child.ts'), ...args], { encoding: 'utf8' }).trim().split('\n').at(-1)!) as { ms: number; peak_rss_mib: number; baseline_rss_mib: number }

export async function runBackupsBench() {
  const results: Record<string, unknown>[] = []
  for (const size of SIZES) {
    await withFreshPostgres(async (url) => {
      const handle = await openDatabase({ databaseUrl: url, dataDir: '/nonexistent', role: 'cli' })
      const dir = mkdtempSync(path.join(tmpdir(), 'ta-bench-backups-'))
      try {
        await runMigrations(handle)
        const source = await addTenant(handle.db, new SecretBox(Buffer.from(APP_KEY, 'base64')), { kind: 'system' }, { name: 'Source', entra_tenant_id: crypto.randomUUID(), client_id: crypto.randomUUID(), client_secret: 's', cloud: 'emulator' })
        const target = await addTenant(handle.db, new SecretBox(Buffer.from(APP_KEY, 'base64')), { kind: 'system' }, { name: 'Target', entra_tenant_id: crypto.randomUUID(), client_id: crypto.randomUUID(), client_secret: 's', cloud: 'emulator' })
        const id = uuidv7()
        await handle.db.insert(backupSets).values({ id, tenantId: source.id, name: `Bench ${size}`, status: 'running', origin: 'created' })
        for (let i = 0; i < size; i += 2000) await pinObjects(handle.db, source.id, id, Array.from({ length: Math.min(2000, size - i) }, (_, k) => objectOf(i + k)))
        await finishSet(handle.db, id, 'complete', {
          format: 'tenantatlas-backup', version: 1, name: `Bench ${size}`, source_tenant: { id: source.id, name: 'Source', entra_tenant_id: source.entraTenantId },
          created_at: new Date().toISOString(), initiator: { user_id: null, name: 'System' }, origin: 'created', item_count: size, counts_by_type: { deviceConfiguration: size }, missing: [],
        })
        const file = path.join(dir, 'backup.zip')
        const exported = child(['export', url, id, file])
        const zipBytes = statSync(file).size
        const imported = child(['import', url, target.id, file])
        const { rows } = await handle.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM backup_set_items i JOIN backup_sets s ON s.id = i.backup_id WHERE s.tenant_id = ${target.id}`)
        if (rows[0]!.n !== size) throw new Error(`imported ${rows[0]!.n} of ${size} objects`)
        results.push({ objects: size, zip_mib: Math.round(zipBytes / 104857.6) / 10, export: exported, import: imported })
        console.log(`backup ZIP, ${size.toLocaleString('en')} objects: ${(zipBytes / 1048576).toFixed(1)} MiB; export ${exported.ms} ms, peak RSS ${exported.peak_rss_mib} MiB; import ${imported.ms} ms, peak RSS ${imported.peak_rss_mib} MiB`)
      } finally {
        await handle.close()
        rmSync(dir, { recursive: true, force: true })
      }
    })
  }
  return { results }
}
