import { Readable } from 'node:stream'
import { asc, eq, sql } from 'drizzle-orm'
import ZipStream from 'zip-stream'
import type { Executor } from '../../db/engine.ts'
import { backupSetItems, type BackupSetRow } from '../../db/schema.ts'
import type { SecretBox } from '../../lib/crypto.ts'
import { objectsOf } from './store.ts'

/**
 * A set as a ZIP (issue 14, ADR 018): `manifest.json` first (the set's manifest plus every
 * object's file and SHA-256), then a folder per type with one JSON file per object, named by
 * display name plus id so duplicate names never overwrite each other. Streamed: the manifest and
 * the objects are read page by page, each entry is added once the previous one has gone through
 * the output, so memory holds one page and the central directory's records (about 0.4 KB an
 * entry), whatever the set's size. The writer is zip-stream (ADR 018: yazl's entry queue was
 * quadratic in the entry count).
 */

export const MANIFEST_FILE = 'manifest.json'

/** A name any file system and ZIP tool accepts: no separators, control or reserved characters, no dot segments. */
export const safeSegment = (text: string, max: number) => {
  const cleaned = text
    // eslint-disable-next-line no-control-regex -- control characters are exactly what is replaced
    .replace(/[\u0000-\u001f\u007f/\\:*?"<>|]/g, '_')
    .replace(/^\.+/, '_')
    .trim()
    .slice(0, max)
  return cleaned === '' ? '_' : cleaned
}

export const objectFileName = (type: string, displayName: string, id: string) =>
  `${safeSegment(type, 100)}/${safeSegment(displayName, 100)} (${safeSegment(id, 150)}).json`

/** One object's file: what it is, its content hash, its normalised payload and assignments. */
export const objectFile = (o: {
  policyType: string
  externalId: string
  displayName: string
  contentHash: string
  payload: unknown
  assignments: unknown
}) =>
  JSON.stringify(
    {
      type: o.policyType,
      id: o.externalId,
      display_name: o.displayName,
      sha256: o.contentHash,
      payload: o.payload,
      assignments: o.assignments,
    },
    null,
    2,
  )

/** The manifest as text, streamed: the stored manifest's fields, then the objects (from the light item rows, paged). */
export async function* manifestText(db: Executor, set: BackupSetRow): AsyncGenerator<string> {
  // The whole missing list is kept apart from the stored manifest (which has its first entries).
  const missing = set.missing ? { missing: set.missing } : {}
  const head = { ...(set.manifest ?? {}), ...missing, backup_id: set.id, name: set.name, labels: set.labels }
  const text = JSON.stringify(head)
  yield `${text.slice(0, -1)},"objects":[`
  let after: { type: string; name: string; id: string } | null = null
  let first = true
  for (;;) {
    const cursor: typeof after = after
    const rows: { type: string; name: string; id: string; hash: string }[] = await db
      .select({
        type: backupSetItems.policyType,
        name: backupSetItems.displayName,
        id: backupSetItems.externalId,
        hash: backupSetItems.contentHash,
      })
      .from(backupSetItems)
      .where(
        cursor
          ? sql`${backupSetItems.backupId} = ${set.id} AND (${backupSetItems.policyType}, ${backupSetItems.displayName}, ${backupSetItems.externalId}) > (${cursor.type}, ${cursor.name}, ${cursor.id})`
          : eq(backupSetItems.backupId, set.id),
      )
      .orderBy(asc(backupSetItems.policyType), asc(backupSetItems.displayName), asc(backupSetItems.externalId))
      .limit(2000)
    if (rows.length === 0) break
    yield rows
      .map(
        (r, i) =>
          `${first && i === 0 ? '' : ','}\n${JSON.stringify({ type: r.type, id: r.id, display_name: r.name, file: objectFileName(r.type, r.name, r.id), sha256: r.hash })}`,
      )
      .join('')
    first = false
    const last: { type: string; name: string; id: string } = rows.at(-1)!
    after = last
    if (rows.length < 2000) break
  }
  yield '\n]}\n'
}

/** What manifest signatures are keyed for (SecretBox.mac). */
export const MANIFEST_MAC_PURPOSE = 'backup-manifest'

/**
 * The manifest text with a last key `signature`: an HMAC (keyed from APP_KEY) of every byte before
 * it, so an import into this workspace can tell a file it exported from one that only claims to be
 * (ADR 022). Streamed like the text: the last chunk is held back until the end is known.
 */
export async function* signedManifestText(chunks: AsyncIterable<string>, secrets: SecretBox): AsyncGenerator<string> {
  const mac = secrets.mac(MANIFEST_MAC_PURPOSE)
  let pending: string | undefined
  for await (const chunk of chunks) {
    if (pending !== undefined) {
      mac.update(pending)
      yield pending
    }
    pending = chunk
  }
  const last = pending ?? '{}'
  const body = last.slice(0, last.lastIndexOf('}'))
  mac.update(body)
  yield `${body},"signature":"${mac.digest('hex')}"}\n`
}

/**
 * zip-stream with its end gathered. `finalize()` writes the central directory synchronously, about
 * 19 small writes an entry, and the stream queues each one with its own bookkeeping: 100,000
 * entries queued 1.9 million buffers at once and took the export's peak RSS from 116 MiB to over
 * 600 MiB (docs/benchmarks.md). Here those writes are gathered into chunks of 64 KiB. The counter
 * of bytes written (`offset`, which the central directory's records are computed from) advances
 * exactly as zip-stream's own `write` advances it.
 */
export class GatheredZipStream extends ZipStream {
  #finishing = false
  #pending: Buffer[] = []
  #pendingBytes = 0

  override finalize(): void {
    this.#finishing = true
    super.finalize()
  }

  override write(chunk: unknown, ...rest: unknown[]): boolean {
    const write = super.write.bind(this) as (...args: unknown[]) => boolean
    // Its records write buffers and strings (names and comments, as UTF-8).
    const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    if (!this.#finishing || !Buffer.isBuffer(data)) return write(chunk, ...rest)
    this.#pending.push(data)
    this.#pendingBytes += data.length
    ;(this as unknown as { offset: number }).offset += data.length
    if (this.#pendingBytes >= 64 * 1024) this.#flush()
    return true
  }

  override end(...args: unknown[]): this {
    this.#flush()
    return (super.end.bind(this) as (...a: unknown[]) => this)(...args)
  }

  #flush() {
    if (this.#pendingBytes === 0) return
    const data = Buffer.concat(this.#pending)
    this.#pending = []
    this.#pendingBytes = 0
    // zip-stream's write counts these bytes again.
    ;(this as unknown as { offset: number }).offset -= data.length
    ;(super.write.bind(this) as (chunk: Buffer) => boolean)(data)
  }
}

/** The set's ZIP as a stream (errors destroy it; so does the reader going away); its manifest signed when `secrets` is given. */
export function exportBackupZip(db: Executor, set: BackupSetRow, secrets?: SecretBox): Readable {
  // zip-stream (archiver's ZIP writer): constant work per entry, only the small central directory
  // records kept until the end, ZIP64 records once the archive needs them (over 65,535 entries or 4 GiB).
  const zip = new GatheredZipStream({ zlib: { level: 6 } })
  const date = set.createdAt
  /** Adds one entry; resolves once it has been written through (the output's back-pressure holds it back). */
  const add = (source: Buffer | Readable, name: string) =>
    new Promise<void>((resolve, reject) => {
      if (zip.destroyed) return reject(new Error('The ZIP output was closed'))
      const closed = () => reject(new Error('The ZIP output was closed'))
      zip.once('close', closed)
      zip.entry(source, { name, date }, (error) => {
        zip.off('close', closed)
        if (error) reject(error)
        else resolve()
      })
    })
  const fill = async () => {
    const text = secrets ? signedManifestText(manifestText(db, set), secrets) : manifestText(db, set)
    await add(Readable.from(text, { objectMode: false }), MANIFEST_FILE)
    for await (const page of objectsOf(db, set.tenantId, set.id, 500)) {
      for (const o of page)
        await add(Buffer.from(objectFile(o)), objectFileName(o.policyType, o.displayName, o.externalId))
    }
    zip.finalize()
  }
  fill().catch((error: unknown) => zip.destroy(error as Error))
  return zip
}
