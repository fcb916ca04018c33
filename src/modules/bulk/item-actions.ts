import type { GraphClient, ItemRead } from '../../graph/graph-client.ts'
import type { PolicyTypeEntry } from '../../graph/policy-types.ts'
import type { GraphTenantContext } from '../../graph/tenant-context.ts'
import type { BulkOperationItemRow } from '../../db/schema.ts'
import type { BulkAction } from './actions.ts'

export type WriteDeps = { graph: GraphClient; ctx: GraphTenantContext }
export type ItemOutcome = { status: 'succeeded' | 'failed' | 'skipped'; code?: string; message?: string; [key: string]: unknown }
export type ItemWork = { runId: string; position: number; action: BulkAction; params: Record<string, unknown>; entry: PolicyTypeEntry; read: ItemRead; item: BulkOperationItemRow }

/** Acting on one item needs the Graph write layer (issue 15's journal): not wired yet. */
export function actOn(_deps: WriteDeps, work: ItemWork): Promise<ItemOutcome> {
  return Promise.resolve({ status: 'failed', code: 'write_refused', message: `Writes are not available yet (${work.action})` })
}
