import { PassThrough, Readable } from 'node:stream'
import { finished } from 'node:stream/promises'
import yazl from 'yazl'
import type { Executor } from '../src/db/engine.ts'
import type { BackupSetRow } from '../src/db/schema.ts'
import { objectsOf } from '../src/modules/backups/store.ts'
import { MANIFEST_FILE, manifestText, objectFile, objectFileName } from '../src/modules/backups/zip-export.ts'

/**
 * The export as issue 14 first shipped it, with yazl: kept in the bench only, so one bench run
 * measures the writer before and after (docs/benchmarks.md, ADR 018). yazl keeps every entry and
 * looks for the first unfinished one from the start of its list at each step (`pumpEntries` →
 * `getFirstNotDoneEntry`): quadratic in the entry count.
 */
export function exportBackupZipWithYazl(db: Executor, set: BackupSetRow): Readable {
  const zip = new yazl.ZipFile()
  const mtime = set.createdAt
  zip.addReadStream(Readable.from(manifestText(db, set)), MANIFEST_FILE, { mtime })
  const fill = async () => {
    for await (const page of objectsOf(db, set.tenantId, set.id, 500)) {
      let gate: PassThrough | undefined
      page.forEach((o, index) => {
        const data = Buffer.from(objectFile(o))
        const name = objectFileName(o.policyType, o.displayName, o.externalId)
        if (index < page.length - 1) {
          zip.addBuffer(data, name, { mtime })
          return
        }
        // The page's last entry is a stream: it ends once the ZIP has consumed the whole page.
        gate = new PassThrough()
        zip.addReadStream(gate, name, { mtime })
        gate.end(data)
      })
      if (gate) await finished(gate)
    }
    zip.end()
  }
  const output = zip.outputStream as unknown as Readable
  fill().catch((error: unknown) => output.destroy(error as Error))
  return output
}
