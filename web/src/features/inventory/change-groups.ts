import type { InventoryChange } from '../../lib/types.ts'

/** A feed row: one change, or a sync's discovery of objects that were already in the tenant, as one row. */
export type FeedRow =
  | { kind: 'change'; id: string; change: InventoryChange }
  | { kind: 'found'; id: string; runId: string; changes: InventoryChange[] }

/** Fewer consecutive discoveries than this stay single rows. */
export const GROUP_FROM = 10

/**
 * The first sync (or a newly synced type) reports every object it finds as "created" with nobody
 * known to have created it: hundreds of rows that say nothing each. Consecutive such rows of one
 * sync run become one row ("Inventory sync found 292 objects already in the tenant"), opened on demand.
 */
export function feedRows(changes: readonly InventoryChange[], expanded: ReadonlySet<string> = new Set()): FeedRow[] {
  const out: FeedRow[] = []
  let run: InventoryChange[] = []
  const flush = () => {
    const id = `found-${run[0]?.id ?? ''}`
    if (run.length >= GROUP_FROM && !expanded.has(id))
      out.push({ kind: 'found', id, runId: run[0]!.run_id, changes: run })
    else out.push(...run.map((change) => ({ kind: 'change' as const, id: change.id, change })))
    run = []
  }
  for (const change of changes) {
    const found = change.kind === 'created' && change.changed_by === null
    if (!found || (run.length > 0 && run[0]!.run_id !== change.run_id)) flush()
    if (found) run.push(change)
    else out.push({ kind: 'change', id: change.id, change })
  }
  flush()
  return out
}
