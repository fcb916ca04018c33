import { createHash } from 'node:crypto'
import type { Readable } from 'node:stream'
import { eq, sql } from 'drizzle-orm'
import type { Executor } from '../../db/engine.ts'
import { documentationChunks, documentationExports } from '../../db/schema.ts'
import { AppError, notFound } from '../../lib/errors.ts'
import { resolveSide, type Side } from '../compare/sides.ts'
import type { RunHandler } from '../operations/handlers.ts'
import { RunFailureError } from '../operations/run-errors.ts'
import { changesSince, documentKeys, documentObjects } from './document.ts'
import { htmlStream, markdownZip, type DocumentInput } from './formats.ts'
import type { DocsExportContext } from './operation-types.ts'

/** Chunks of the stored file: what the run and a download hold in memory at a time. */
const CHUNK_BYTES = 1024 * 1024

/** The side a documentation source reads, of the tenant in the URL only (a backup of another tenant is a 404). */
export async function sideOfSource(db: Executor, tenantId: string, source: DocsExportContext['source']): Promise<Side> {
  const input =
    source.backup_id !== undefined
      ? { backup_id: source.backup_id }
      : source.baseline_id !== undefined
        ? { baseline_id: source.baseline_id }
        : { tenant_id: tenantId, ...(source.at ? { at: source.at } : {}) }
  const side = await resolveSide(db, input, 'source', notFound)
  if (side.tenantId !== tenantId) throw notFound('Backup set')
  return side
}

/** The file name of a document: the source's label made safe, and the format's extension. */
export const documentFileName = (side: Side, format: 'markdown' | 'html') =>
  `${
    side.label
      .replace(/[^A-Za-z0-9 ._-]/g, '_')
      .replace(/\s+/g, ' ')
      .trim()
      .slice(0, 100) || 'documentation'
  }.${format === 'markdown' ? 'zip' : 'html'}`

/** The time the source stands for: the appendix lists changes up to it. */
const untilOf = (side: Side) => (side.kind === 'tenant_at' ? side.at : null)

/** `docs.export`: renders the document as a stream and stores it in chunks, with progress per object. */
export function createDocsExportHandler(): RunHandler {
  return async (run) => {
    const context = run.context as DocsExportContext
    const tenantId = run.run.tenantId
    const side = await sideOfSource(run.db, tenantId, context.source).catch((error: unknown) => {
      if (error instanceof AppError) throw new RunFailureError('source_missing', error.message)
      throw error
    })
    const keys = await documentKeys(run.db, side)
    await run.progress({ total: keys.length, processed: 0 })
    await run.transaction(async (tx) => {
      await tx.delete(documentationExports).where(eq(documentationExports.runId, run.run.id))
      await tx.insert(documentationExports).values({
        runId: run.run.id,
        tenantId,
        format: context.format,
        filename: documentFileName(side, context.format),
      })
    })
    const includeAssignments = context.include_assignments
    async function* objects() {
      for await (const batch of documentObjects(run.db, side, keys, { includeAssignments })) {
        run.throwIfCancelled()
        yield batch
        await run.increment({ processed: batch.length })
      }
    }
    const input: DocumentInput = {
      title: `Documentation: ${side.label}`,
      keys,
      objects: objects(),
      includeAssignments,
      changes: context.changed_since
        ? {
            since: context.changed_since,
            entries: await changesSince(run.db, side, new Date(context.changed_since), untilOf(side)),
          }
        : null,
    }
    const stream: Readable = context.format === 'markdown' ? markdownZip(input) : htmlStream(input)
    const hash = createHash('sha256')
    let pending: Buffer[] = []
    let pendingBytes = 0
    let seq = 0
    let total = 0
    const flush = async () => {
      if (pendingBytes === 0) return
      const data = Buffer.concat(pending)
      pending = []
      pendingBytes = 0
      const n = seq++
      await run.transaction(async (tx) => {
        await tx.insert(documentationChunks).values({ runId: run.run.id, seq: n, data })
      })
    }
    for await (const chunk of stream) {
      const data = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer)
      hash.update(data)
      total += data.length
      pending.push(data)
      pendingBytes += data.length
      if (pendingBytes >= CHUNK_BYTES) await flush()
    }
    await flush()
    await run.transaction(async (tx) => {
      await tx
        .update(documentationExports)
        .set({ byteCount: total, sha256: hash.digest('hex'), completedAt: sql`now()` })
        .where(eq(documentationExports.runId, run.run.id))
    })
  }
}
