import type { GraphClient } from '../graph-client.ts'
import { GRAPH_WRITE_PERMISSIONS, type PolicyTypeEntry } from '../policy-types.ts'
import type { GraphTenantContext } from '../tenant-context.ts'
import type { WriteRequest } from './strategies.ts'

/**
 * The Graph write layer (ADR 019), independent of what uses it (restore, bulk operations):
 * - strategies.ts: the requests each catalog type is written with;
 * - write-limiter.ts: Intune's write limit (the client's TenantBudget.writes);
 * - journal.ts: exactly-once writes (intend → write → confirm, reconcile before a retry).
 */
export * from './journal.ts'
export * from './reconcile.ts'
export * from './strategies.ts'
export { SlidingWindowLimiter } from './write-limiter.ts'

/**
 * Sends one request of a strategy through the client (write limit, 429s, `write_unknown` when the
 * outcome is unknown), with `marker` as its client-request-id. Returns the id of the object
 * written: a create's new id from Graph's answer, else `targetId`.
 */
export async function sendWrite(
  graph: GraphClient,
  ctx: GraphTenantContext,
  entry: PolicyTypeEntry,
  request: WriteRequest,
  marker: string,
  targetId: string | null = null,
): Promise<string | null> {
  const reply = await graph.write(ctx, request.method, request.url, request.body, {
    permission: GRAPH_WRITE_PERMISSIONS[entry.permission],
    subject: entry.label,
    clientRequestId: marker,
  })
  const id = (reply.body as { id?: unknown } | null)?.id
  if (entry.singleton) return entry.singleton.id
  return request.method === 'POST' && request.label === 'create' && typeof id === 'string' ? id : targetId
}
