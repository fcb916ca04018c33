import { createWriteStream } from 'node:fs'
import { pipeline } from 'node:stream/promises'
import { eq } from 'drizzle-orm'
import { openDatabase } from '../src/db/engine.ts'
import { backupSets } from '../src/db/schema.ts'
import { importBackup } from '../src/modules/backups/commands.ts'
import { exportBackupZip } from '../src/modules/backups/zip-export.ts'
import { exportBackupZipWithYazl } from './backups-yazl-export.ts'

/**
 * One measured ZIP export or import in its own process, so its peak RSS is its own:
 * `node bench/backups-child.ts export|export-yazl|import <database url> <backup id|tenant id> <file>`.
 * `export-yazl` is the writer issue 14 first shipped (bench/backups-yazl-export.ts), for the
 * before/after figures. Prints `{ms, peak_rss_mib, baseline_rss_mib}` as JSON on the last line.
 */
const [mode, url, id, file] = process.argv.slice(2) as [string, string, string, string]
const handle = await openDatabase({ databaseUrl: url, dataDir: '/nonexistent', role: 'cli' })
const baseline = process.memoryUsage().rss
const started = performance.now()
if (mode === 'export' || mode === 'export-yazl') {
  const [set] = await handle.db.select().from(backupSets).where(eq(backupSets.id, id))
  await pipeline(
    (mode === 'export' ? exportBackupZip : exportBackupZipWithYazl)(handle.db, set!),
    createWriteStream(file),
  )
} else {
  await importBackup(handle.db, { tenantId: id, userId: null }, { kind: 'system' }, file)
}
const ms = Math.round(performance.now() - started)
await handle.close()
console.log(
  JSON.stringify({
    ms,
    peak_rss_mib: Math.round(process.resourceUsage().maxRSS / 102.4) / 10,
    baseline_rss_mib: Math.round(baseline / 104857.6) / 10,
  }),
)
