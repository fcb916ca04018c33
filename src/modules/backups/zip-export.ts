import { PassThrough, Readable } from 'node:stream'
import { finished } from 'node:stream/promises'
import { asc, eq, sql } from 'drizzle-orm'
import yazl from 'yazl'
import type { Executor } from '../../db/engine.ts'
import { backupSetItems, type BackupSetRow } from '../../db/schema.ts'
import { objectsOf } from './store.ts'

/**
 * A set as a ZIP (issue 14, ADR 018): `manifest.json` first (the set's manifest plus every
 * object's file and SHA-256), then a folder per type with one JSON file per object, named by
 * display name plus id so duplicate names never overwrite each other. Streamed: the manifest and
 * the objects are read page by page, and the next page is read only once the previous one has
 * left through the output, so memory stays flat in the object count.
 */

export const MANIFEST_FILE = 'manifest.json'

/** A name any file system and ZIP tool accepts: no separators, control or reserved characters, no dot segments. */
const safeSegment = (text: string, max: number) => {
  const cleaned = text
    // eslint-disable-next-line no-control-regex -- control characters are exactly what is replaced
    .replace(/[\u0000-\u001f\u007f/\\:*?"<>|]/g, '_')
    .replace(/^\.+/, '_')
    .trim()
    .slice(0, max)
  return cleaned === '' ? '_' : cleaned
}

export const objectFileName = (type: string, displayName: string, id: string) => `${safeSegment(type, 100)}/${safeSegment(displayName, 100)} (${safeSegment(id, 150)}).json`

/** One object's file: what it is, its content hash, its normalised payload and assignments. */
export const objectFile = (o: { policyType: string; externalId: string; displayName: string; contentHash: string; payload: unknown; assignments: unknown }) =>
  JSON.stringify({ type: o.policyType, id: o.externalId, display_name: o.displayName, sha256: o.contentHash, payload: o.payload, assignments: o.assignments }, null, 2)

/** The manifest as text, streamed: the stored manifest's fields, then the objects (from the light item rows, paged). */
async function* manifestText(db: Executor, set: BackupSetRow): AsyncGenerator<string> {
  const head = { ...(set.manifest ?? {}), backup_id: set.id, name: set.name, labels: set.labels }
  const text = JSON.stringify(head)
  yield `${text.slice(0, -1)},"objects":[`
  let after: { type: string; name: string; id: string } | null = null
  let first = true
  for (;;) {
    const cursor: typeof after = after
    const rows: { type: string; name: string; id: string; hash: string }[] = await db
      .select({ type: backupSetItems.policyType, name: backupSetItems.displayName, id: backupSetItems.externalId, hash: backupSetItems.contentHash })
      .from(backupSetItems)
      .where(
        cursor
          ? sql`${backupSetItems.backupId} = ${set.id} AND (${backupSetItems.policyType}, ${backupSetItems.displayName}, ${backupSetItems.externalId}) > (${cursor.type}, ${cursor.name}, ${cursor.id})`
          : eq(backupSetItems.backupId, set.id),
      )
      .orderBy(asc(backupSetItems.policyType), asc(backupSetItems.displayName), asc(backupSetItems.externalId))
      .limit(2000)
    if (rows.length === 0) break
    yield rows.map((r, i) => `${first && i === 0 ? '' : ','}\n${JSON.stringify({ type: r.type, id: r.id, display_name: r.name, file: objectFileName(r.type, r.name, r.id), sha256: r.hash })}`).join('')
    first = false
    const last: { type: string; name: string; id: string } = rows.at(-1)!
    after = last
    if (rows.length < 2000) break
  }
  yield '\n]}\n'
}

/** The set's ZIP as a stream (errors destroy it). */
export function exportBackupZip(db: Executor, set: BackupSetRow): Readable {
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
