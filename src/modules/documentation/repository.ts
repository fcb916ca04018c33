import { and, asc, eq, gt } from 'drizzle-orm'
import type { Executor } from '../../db/engine.ts'
import { documentationChunks, documentationExports } from '../../db/schema.ts'
import { UUID_PATTERN } from '../../lib/ids.ts'

export async function findDocumentation(db: Executor, tenantId: string, runId: string) {
  if (!UUID_PATTERN.test(runId)) return undefined
  const [row] = await db
    .select()
    .from(documentationExports)
    .where(and(eq(documentationExports.tenantId, tenantId), eq(documentationExports.runId, runId)))
  return row
}

/** The file's bytes, chunk by chunk (one chunk in memory at a time). */
export async function* documentationBytes(db: Executor, runId: string): AsyncGenerator<Buffer> {
  let after = -1
  for (;;) {
    const [chunk] = await db
      .select({ seq: documentationChunks.seq, data: documentationChunks.data })
      .from(documentationChunks)
      .where(and(eq(documentationChunks.runId, runId), gt(documentationChunks.seq, after)))
      .orderBy(asc(documentationChunks.seq))
      .limit(1)
    if (!chunk) return
    yield chunk.data
    after = chunk.seq
  }
}
