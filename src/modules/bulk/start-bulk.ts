import { createHash } from 'node:crypto'
import type { Database, Executor } from '../../db/engine.ts'
import { findPolicyType } from '../../graph/policy-types.ts'
import { validationError } from '../../lib/errors.ts'
import { parseInput } from '../../lib/validation.ts'
import type { Actor } from '../audit/record-audit-event.ts'
import type { OperationsEngine } from '../operations/engine.ts'
import { actionsFor, type BulkAction, type BulkParams, canonicalParams, runTypeOf } from './actions.ts'
import { type BulkFilter, type BulkRunContext, canonicalFilter } from './operation-types.ts'
import { bulkRequest, selectionRequest } from './schemas.ts'
import { type PlanItem, planItem, skipKeySql, skipReasonOf } from './plan.ts'
import {
  type BulkSelection,
  countsByType,
  existingIds,
  type FrozenItem,
  insertFrozenItems,
  planCounts,
  plannedFirst,
  plannedPages,
} from './repository.ts'

/** What a selection holds, by type, and the actions those types can take (none without bulk.execute). */
export async function describeSelection(db: Database, tenantId: string, body: unknown, mayAct: boolean) {
  const input = parseInput(selectionRequest, body)
  if ((input.item_ids === undefined) === (input.filter === undefined))
    throw validationError([{ field: 'item_ids', message: 'send either item_ids or filter (exactly one)' }])
  const selection: BulkSelection = input.filter
    ? { filter: canonicalFilter(input.filter) }
    : { itemIds: [...new Set(input.item_ids)] }
  const counts = await countsByType(db, tenantId, selection)
  const entries = counts.flatMap((c) => (findPolicyType(c.type) ? [findPolicyType(c.type)!] : []))
  return {
    item_count: counts.reduce((n, c) => n + c.count, 0),
    types: counts.map((c) => ({ policy_type: c.type, label: findPolicyType(c.type)?.label ?? c.type, count: c.count })),
    actions: mayAct ? actionsFor(entries) : [],
  }
}

export type BulkPlan = {
  action: BulkAction
  run_type: string
  item_count: number
  counts: { change: number; skip: number }
  skipped_by_reason: { code: string; reason: string; count: number }[]
  items: PlanItem[]
  items_truncated: boolean
}

const PLAN_PAGE = 10_000
const FREEZE_CHUNK = 2_000
const MERGED_ON_GRAPH: ReadonlySet<BulkAction> = new Set(['assign', 'unassign', 'add_scope_tag', 'remove_scope_tag'])
const DEFAULT_PREVIEW = 1_000

type Parsed = {
  action: BulkAction
  params: Record<string, unknown>
  selection: BulkSelection
  filter: BulkFilter | null
  dryRun: boolean
  previewLimit: number
}

function parseRequest(body: unknown): Parsed {
  const input = parseInput(bulkRequest, body)
  const parsed = canonicalParams(input.action, input.params)
  if ('issues' in parsed) throw validationError(parsed.issues)
  if ((input.item_ids === undefined) === (input.filter === undefined)) {
    throw validationError([{ field: 'item_ids', message: 'send either item_ids or filter (exactly one)' }])
  }
  const filter = input.filter ? canonicalFilter(input.filter) : null
  return {
    action: input.action,
    params: parsed.params,
    selection: filter ? { filter } : { itemIds: [...new Set(input.item_ids)] },
    filter,
    dryRun: input.dry_run,
    previewLimit: input.preview_limit ?? DEFAULT_PREVIEW,
  }
}

/** Plans the selection page by page, in the inventory list's order: each page's plan goes to `visit`. */
async function planPages(db: Executor, tenantId: string, request: Parsed, visit: (items: PlanItem[]) => void) {
  for await (const sources of plannedPages(db, tenantId, request.selection, PLAN_PAGE))
    visit(sources.map((s) => planItem(request.action, request.params as never, s)))
}

function checkSelection(request: Parsed, count: number, unknown: readonly string[]) {
  if (unknown.length > 0)
    throw validationError([
      {
        field: 'item_ids',
        message: `not in this tenant's inventory: ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ` and ${unknown.length - 5} more` : ''}`,
      },
    ])
  if (count === 0)
    throw validationError([{ field: request.filter ? 'filter' : 'item_ids', message: 'selects no items' }])
  // A preview shows the count to type; the run needs it typed.
  if (request.action === 'delete' && !request.dryRun && request.params.confirm_count !== count) {
    throw validationError([
      { field: 'params.confirm_count', message: `must equal the number of items to delete (${count})` },
    ])
  }
}

const digestOf = (ids: readonly string[]) => createHash('sha256').update(ids.join('\n')).digest('hex')

/**
 * A dry run: the per-item plan of a selection. The counts over every item are computed in SQL
 * (`skipKeySql` decides as `planItem` does); only the first `preview_limit` items are read and
 * planned, so a 100,000-item selection costs one aggregate and one page.
 */
export async function planBulk(db: Database, tenantId: string, body: unknown): Promise<BulkPlan> {
  const request = parseRequest(body)
  if (!request.dryRun) throw new Error('planBulk is for dry runs')
  const params = request.params as BulkParams[BulkAction]
  // One snapshot: the counts and the listed rows see the same inventory.
  return db.transaction(
    async (tx) => {
      const groups = await planCounts(tx, tenantId, request.selection, skipKeySql(request.action, params))
      const itemCount = groups.reduce((n, g) => n + g.count, 0)
      let unknown: string[] = []
      if ('itemIds' in request.selection && itemCount < request.selection.itemIds.length) {
        const found = await existingIds(tx, tenantId, request.selection.itemIds)
        unknown = request.selection.itemIds.filter((id) => !found.has(id))
      }
      checkSelection(request, itemCount, unknown)
      const reasons = new Map<string, { code: string; reason: string; count: number }>()
      let skip = 0
      for (const group of groups) {
        if (group.key === null) continue
        skip += group.count
        const { code, reason } = skipReasonOf(request.action, params, group.key)
        const key = `${code}\n${reason}`
        const entry = reasons.get(key) ?? { code, reason, count: 0 }
        entry.count += group.count
        reasons.set(key, entry)
      }
      const listed = await plannedFirst(tx, tenantId, request.selection, request.previewLimit)
      return {
        action: request.action,
        run_type: runTypeOf(request.action),
        item_count: itemCount,
        counts: { change: itemCount - skip, skip },
        skipped_by_reason: [...reasons.values()].sort(
          (a, b) => b.count - a.count || a.code.localeCompare(b.code) || a.reason.localeCompare(b.reason),
        ),
        items: listed.map((source) => planItem(request.action, params as never, source)),
        items_truncated: itemCount > request.previewLimit,
      }
    },
    { isolationLevel: 'repeatable read', accessMode: 'read only' },
  )
}

/** `dry_run: false`: freezes the selection and starts `bulk.<action>` in one transaction (run, job, audit, frozen items). */
export async function startBulk(
  engine: OperationsEngine,
  db: Database,
  request: { tenantId: string; body: unknown; initiatorUserId: string | null; actor: Actor },
) {
  const parsed = parseRequest(request.body)
  if (parsed.dryRun) throw new Error('startBulk is for real runs')
  // One snapshot: what the selection holds is what the plan saw and what the run acts on.
  return engine.startRunWith(
    async (tx, start) => {
      const planned: PlanItem[] = []
      await planPages(tx, request.tenantId, parsed, (items) => void planned.push(...items))
      const ids = planned.map((p) => p.id)
      const found = new Set(ids)
      checkSelection(
        parsed,
        ids.length,
        'itemIds' in parsed.selection ? parsed.selection.itemIds.filter((id) => !found.has(id)) : [],
      )
      const context: BulkRunContext = {
        params: parsed.params,
        filter: parsed.filter,
        item_count: ids.length,
        selection_digest: digestOf(ids),
      }
      const started = await start({
        tenantId: request.tenantId,
        type: runTypeOf(parsed.action),
        context,
        initiatorUserId: request.initiatorUserId,
        actor: request.actor,
      })
      if (started.deduplicated) return started
      // "Unchanged" assignments and scope tags are what the last sync saw: the run decides them on Graph's state.
      const final = (item: PlanItem) =>
        item.action === 'skip' && !(item.code === 'unchanged' && MERGED_ON_GRAPH.has(parsed.action))
      for (let offset = 0; offset < planned.length; offset += FREEZE_CHUNK) {
        const frozen: FrozenItem[] = planned.slice(offset, offset + FREEZE_CHUNK).map((item, i) => ({
          position: offset + i,
          itemId: item.id,
          policyType: item.policy_type,
          externalId: item.external_id,
          displayName: item.display_name,
          state: final(item) ? 'skipped' : 'pending',
          result: final(item)
            ? { code: item.code, reason: item.reason }
            : item.new_name
              ? { planned_name: item.new_name }
              : null,
        }))
        await insertFrozenItems(tx, started.run.id, request.tenantId, frozen)
      }
      return started
    },
    { isolationLevel: 'repeatable read' },
  )
}

export const isDryRun = (body: unknown) =>
  typeof body === 'object' && body !== null && (body as { dry_run?: unknown }).dry_run === true
