import { createHash, timingSafeEqual } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { Transform, type Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import yauzl from 'yauzl'
import { z } from 'zod'
import { findPolicyType } from '../../graph/policy-types.ts'
import type { SecretBox } from '../../lib/crypto.ts'
import { AppError } from '../../lib/errors.ts'
import { jsonDepthExceeds } from '../../lib/json-depth.ts'
import { canonicalJson } from '../../lib/canonical.ts'
import type { BackupObject } from './store.ts'
import { MANIFEST_FILE, MANIFEST_MAC_PURPOSE, objectFileName } from './zip-export.ts'

/**
 * Reading a backup ZIP (issue 14, ADR 018). The upload is streamed to a file (never whole in
 * memory); the central directory is checked before anything is decompressed (entry count, each
 * name, declared sizes and compression ratio) in a first pass, which then reads the manifest; a
 * second pass reads the objects one at a time (no list of entries is kept, so memory does not
 * grow with their count), each checked against its schema and its SHA-256. Any problem is a 422
 * `invalid_backup_file` naming it; the caller stores the objects in one transaction, so a bad
 * file stores nothing.
 */

export type ImportLimits = {
  /** The uploaded file. */
  maxBytes: number
  maxEntries: number
  /** The sum of the entries' uncompressed sizes. */
  maxUncompressedBytes: number
  /** One entry's uncompressed size. */
  maxEntryBytes: number
  /** Uncompressed / compressed, for the whole archive and for any entry larger than 1 MiB. */
  maxRatio: number
}

export const DEFAULT_IMPORT_LIMITS: ImportLimits = {
  maxBytes: 1024 * 1024 * 1024,
  maxEntries: 250_001,
  maxUncompressedBytes: 4 * 1024 * 1024 * 1024,
  maxEntryBytes: 64 * 1024 * 1024,
  maxRatio: 200,
}

export const invalidBackupFile = (message: string) => new AppError(422, 'invalid_backup_file', message)

/** Streams an upload to `path`, refusing it (and stopping) past `maxBytes`; a broken upload is a 422 too. */
export async function receiveUpload(body: Readable, path: string, maxBytes: number): Promise<number> {
  let size = 0
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.length
      if (size > maxBytes) callback(invalidBackupFile(`The file is larger than the limit of ${maxBytes} bytes`))
      else callback(null, chunk)
    },
  })
  try {
    await pipeline(body, counter, createWriteStream(path))
  } catch (error) {
    if (error instanceof AppError) throw error
    throw invalidBackupFile(`The upload could not be read to its end: ${(error as Error).message}`)
  }
  return size
}

/** A manifest lists at most this many missing objects (as many as a file may have entries). */
export const MAX_MISSING = 250_000

/** Objects and arrays in an entry nest at most this deep (Graph payloads stay far below it). */
export const MAX_ENTRY_DEPTH = 200

const manifestSchema = z.object({
  format: z.literal('tenantatlas-backup', { error: 'format must be "tenantatlas-backup"' }),
  version: z.literal(1, { error: 'version must be 1' }),
  name: z.string().min(1).max(200),
  source_tenant: z.object({ id: z.string(), name: z.string(), entra_tenant_id: z.string() }),
  created_at: z.iso.datetime({ offset: true }),
  initiator: z.object({ user_id: z.string().nullable(), name: z.string() }),
  counts_by_type: z.record(z.string(), z.number().int().min(0)),
  item_count: z.number().int().min(0),
  missing: z
    .array(z.object({ type: z.string(), id: z.string(), name: z.string(), code: z.string(), message: z.string() }))
    .max(MAX_MISSING, { error: `at most ${MAX_MISSING} missing entries` })
    .default([]),
  objects: z.array(
    z.object({
      type: z.string(),
      id: z.string().min(1),
      display_name: z.string(),
      file: z.string(),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
    }),
  ),
})
export type ImportedManifest = z.infer<typeof manifestSchema>

const objectSchema = z.strictObject({
  type: z.string(),
  id: z.string().min(1),
  display_name: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, { error: 'sha256 must be 64 hex digits' }),
  payload: z.record(z.string(), z.unknown()),
  assignments: z.array(z.record(z.string(), z.unknown())),
})

const zodProblem = (error: z.ZodError) =>
  error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')

type Entry = yauzl.Entry

function open(path: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(
      path,
      { lazyEntries: true, autoClose: false, strictFileNames: true, validateEntrySizes: true },
      (error, zip) => {
        if (error) reject(invalidBackupFile(`Not a readable ZIP file: ${error.message}`))
        else resolve(zip)
      },
    )
  })
}

/**
 * Walks the central directory, checking it as it goes (count, names without traversal, declared
 * sizes and ratios), and hands each file entry to `visit`, one at a time (the next entry is read
 * once `visit` is done). Entries are not kept: memory does not grow with the entry count.
 */
function walkEntries(zip: yauzl.ZipFile, limits: ImportLimits, visit: (entry: Entry) => Promise<void>): Promise<void> {
  if (zip.entryCount > limits.maxEntries)
    return Promise.reject(
      invalidBackupFile(`The file has ${zip.entryCount} entries: at most ${limits.maxEntries} are accepted`),
    )
  return new Promise((resolve, reject) => {
    let total = 0
    let compressed = 0
    let failed = false
    const fail = (error: unknown) => {
      if (failed) return
      failed = true
      zip.close()
      reject(error instanceof Error ? error : new Error(String(error)))
    }
    zip.on('error', (error: Error) =>
      // yauzl refuses `..`, absolute and backslash paths itself (strictFileNames).
      fail(
        invalidBackupFile(
          /relative path|absolute path|invalid characters/.test(error.message)
            ? `An entry has a path outside the archive (${error.message})`
            : `The ZIP file is damaged: ${error.message}`,
        ),
      ),
    )
    zip.on('entry', (entry: Entry) => {
      const name = entry.fileName
      if (name.split('/').some((s) => s === '..' || s === '.') || name.startsWith('/') || name.includes('\\'))
        return fail(invalidBackupFile(`Entry "${name}" has a path outside the archive`))
      if (entry.uncompressedSize > limits.maxEntryBytes)
        return fail(
          invalidBackupFile(
            `Entry "${name}" is ${entry.uncompressedSize} bytes uncompressed: at most ${limits.maxEntryBytes} are accepted`,
          ),
        )
      if (
        entry.uncompressedSize > 1024 * 1024 &&
        entry.uncompressedSize > limits.maxRatio * Math.max(1, entry.compressedSize)
      ) {
        return fail(
          invalidBackupFile(
            `Entry "${name}" expands ${Math.round(entry.uncompressedSize / Math.max(1, entry.compressedSize))} times: at most ${limits.maxRatio} is accepted (a ZIP bomb?)`,
          ),
        )
      }
      total += entry.uncompressedSize
      compressed += entry.compressedSize
      if (total > limits.maxUncompressedBytes)
        return fail(invalidBackupFile(`The file expands to more than ${limits.maxUncompressedBytes} bytes`))
      if (total > 1024 * 1024 && total > limits.maxRatio * Math.max(1, compressed))
        return fail(invalidBackupFile(`The file expands more than ${limits.maxRatio} times: a ZIP bomb?`))
      if (name.endsWith('/')) return zip.readEntry()
      visit(entry).then(
        () => zip.readEntry(),
        (error: unknown) => fail(error),
      )
    })
    zip.on('end', () => {
      if (!failed) resolve()
    })
    zip.readEntry()
  })
}

/** An entry's bytes (sizes were checked, and yauzl verifies the actual size against the declared one). */
function read(zip: yauzl.ZipFile, entry: Entry): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (error, stream) => {
      if (error) return reject(invalidBackupFile(`Entry "${entry.fileName}" cannot be read: ${error.message}`))
      const chunks: Buffer[] = []
      stream.on('data', (chunk: Buffer) => chunks.push(chunk))
      stream.on('error', (e: Error) => reject(invalidBackupFile(`Entry "${entry.fileName}" is damaged: ${e.message}`)))
      stream.on('end', () => resolve(Buffer.concat(chunks)))
    })
  })
}

function parseJson(entry: Entry, data: Buffer): unknown {
  const text = data.toString('utf8')
  if (!text.isWellFormed() || text.includes('\\u0000'))
    throw invalidBackupFile(`Entry "${entry.fileName}" holds text the database cannot store`)
  if (jsonDepthExceeds(text, MAX_ENTRY_DEPTH)) {
    throw invalidBackupFile(
      `Entry "${entry.fileName}" nests objects and arrays more than ${MAX_ENTRY_DEPTH} levels deep`,
    )
  }
  try {
    return JSON.parse(text)
  } catch {
    throw invalidBackupFile(`Entry "${entry.fileName}" is not valid JSON`)
  }
}

export const contentHashOf = (payload: unknown, assignments: unknown) =>
  createHash('sha256').update(canonicalJson({ payload, assignments })).digest('hex')

const SIGNATURE = /,"signature":"([0-9a-f]{64})"\}\s*$/

/**
 * Whether the manifest's last key is a signature this workspace made (zip-export.ts): an HMAC
 * keyed from APP_KEY of every byte before it. Without it, what the manifest says of its source
 * is only a claim.
 */
export function manifestVerified(text: Buffer, secrets: SecretBox | undefined): boolean {
  if (!secrets) return false
  const tail = text.subarray(Math.max(0, text.length - 100)).toString('latin1')
  const match = SIGNATURE.exec(tail)
  if (!match) return false
  const signed = text.subarray(0, text.length - (tail.length - match.index))
  const expected = secrets.mac(MANIFEST_MAC_PURPOSE).update(signed).digest()
  return timingSafeEqual(expected, Buffer.from(match[1]!, 'hex'))
}

/**
 * Reads and verifies a backup ZIP at `path`: the manifest, then each object, handed to `store`
 * in batches as they are verified. Throws a 422 naming the first problem found. `verified`: the
 * manifest carries this workspace's signature (`secrets` given).
 */
export async function readBackupZip(
  path: string,
  limits: ImportLimits,
  store: (objects: BackupObject[]) => Promise<void>,
  secrets?: SecretBox,
): Promise<ImportedManifest & { verified: boolean }> {
  // First pass: the whole central directory is checked, the manifest read, names counted; nothing stored.
  let manifestEntry: Entry | null = null
  let manifestText: Buffer
  const names = new Set<string>()
  const first = await open(path)
  try {
    await walkEntries(first, limits, (entry) => {
      if (names.has(entry.fileName)) return Promise.reject(invalidBackupFile(`Entry "${entry.fileName}" appears twice`))
      names.add(entry.fileName)
      if (entry.fileName === MANIFEST_FILE) manifestEntry = entry
      return Promise.resolve()
    })
    if (manifestEntry === null) throw invalidBackupFile('The file has no manifest.json: it is not a TenantAtlas backup')
    manifestText = await read(first, manifestEntry)
  } finally {
    first.close()
  }
  const parsed = manifestSchema.safeParse(parseJson(manifestEntry, manifestText))
  if (!parsed.success) throw invalidBackupFile(`manifest.json is not a backup manifest: ${zodProblem(parsed.error)}`)
  const manifest = { ...parsed.data, verified: manifestVerified(manifestText, secrets) }
  const expected = new Map(manifest.objects.map((o) => [o.file, o]))
  if (expected.size !== manifest.objects.length) throw invalidBackupFile('manifest.json lists a file twice')
  for (const name of names)
    if (name !== MANIFEST_FILE && !expected.has(name))
      throw invalidBackupFile(`Entry "${name}" is not listed in manifest.json`)
  const absent = manifest.objects.find((o) => !names.has(o.file))
  if (absent) throw invalidBackupFile(`manifest.json lists "${absent.file}", which is not in the file (truncated?)`)
  names.clear()

  // Second pass: each object read, verified and stored in batches, one entry at a time.
  const counts: Record<string, number> = {}
  let batch: BackupObject[] = []
  const second = await open(path)
  try {
    await walkEntries(second, limits, async (entry) => {
      if (entry.fileName === MANIFEST_FILE) return
      const listed = expected.get(entry.fileName)!
      const object = objectSchema.safeParse(parseJson(entry, await read(second, entry)))
      if (!object.success)
        throw invalidBackupFile(`Entry "${entry.fileName}" is not a backup object: ${zodProblem(object.error)}`)
      const o = object.data
      if (!findPolicyType(o.type)) throw invalidBackupFile(`Entry "${entry.fileName}" has an unknown type "${o.type}"`)
      if (
        o.type !== listed.type ||
        o.id !== listed.id ||
        objectFileName(o.type, o.display_name, o.id) !== entry.fileName
      ) {
        throw invalidBackupFile(`Entry "${entry.fileName}" does not match its manifest entry (type, id or name)`)
      }
      const hash = contentHashOf(o.payload, o.assignments)
      if (hash !== o.sha256 || hash !== listed.sha256)
        throw invalidBackupFile(`Entry "${entry.fileName}" fails its SHA-256 check: its content was changed`)
      counts[o.type] = (counts[o.type] ?? 0) + 1
      batch.push({
        policyType: o.type,
        externalId: o.id,
        displayName: o.display_name,
        contentHash: hash,
        payload: o.payload,
        assignments: o.assignments,
      })
      if (batch.length >= 500) {
        const full = batch
        batch = []
        await store(full)
      }
    })
  } finally {
    second.close()
  }
  if (batch.length > 0) await store(batch)
  if (
    canonicalJson(counts) !==
    canonicalJson(Object.fromEntries(Object.entries(manifest.counts_by_type).filter(([, n]) => n > 0)))
  ) {
    throw invalidBackupFile('manifest.json counts_by_type does not match the objects in the file')
  }
  return manifest
}
