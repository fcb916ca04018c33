import { createHash } from 'node:crypto'
import { z } from 'zod'
import type { Database, Executor } from '../../db/engine.ts'
import { findPolicyType, POLICY_TYPES, usedCategories } from '../../graph/policy-types.ts'
import { validationError } from '../../lib/errors.ts'
import { parseInput } from '../../lib/validation.ts'
import type { Actor } from '../audit/record-audit-event.ts'
import type { OperationsEngine } from '../operations/engine.ts'
import { actionsFor, BULK_ACTIONS, type BulkAction, canonicalParams, runTypeOf } from './actions.ts'
import { type BulkFilter, bulkFilter, type BulkRunContext, canonicalFilter } from './operation-types.ts'
import { type PlanItem, planItem } from './plan.ts'
import { type BulkSelection, countsByType, type FrozenItem, insertFrozenItems, plannedSources, selectedIds } from './repository.ts'

const TYPE_KEYS = POLICY_TYPES.map((e) => e.key)
const CATEGORY_KEYS: readonly string[] = usedCategories()

export const bulkRequest = z
  .strictObject({
    action: z.enum(BULK_ACTIONS, { error: `must be one of ${BULK_ACTIONS.join(', ')}` }),
    params: z.record(z.string(), z.unknown(), { error: 'must be an object' }).optional(),
    item_ids: z
      .array(z.uuid({ error: 'each item id must be an inventory item id (a UUID)' }), { error: 'must be a list of inventory item ids' })
      .max(10_000, { error: 'at most 10000 item ids: select by filter for more' })
      .optional(),
    filter: bulkFilter
      .extend({
        type: z.string().refine((v) => TYPE_KEYS.includes(v), { error: 'unknown policy type' }).nullish(),
        category: z.string().refine((v) => CATEGORY_KEYS.includes(v), { error: 'unknown category' }).nullish(),
      })
      .optional()
      .describe("The inventory list's filter: every present item it matches when the run starts"),
    dry_run: z.boolean({ error: 'must be true (preview the plan) or false (start the run)' }),
    preview_limit: z.number().int().min(0).max(100_000).optional().describe('How many plan items a dry run lists (default 1000); the counts always cover every item'),
  })
  .meta({ id: 'BulkOperationRequest' })

export const selectionRequest = bulkRequest.pick({ item_ids: true, filter: true }).meta({ id: 'BulkSelection' })

/** What a selection holds, by type, and the actions those types can take (none without bulk.execute). */
export async function describeSelection(db: Database, tenantId: string, body: unknown, mayAct: boolean) {
  const input = parseInput(selectionRequest, body)
  if ((input.item_ids === undefined) === (input.filter === undefined)) throw validationError([{ field: 'item_ids', message: 'send either item_ids or filter (exactly one)' }])
  const selection: BulkSelection = input.filter ? { filter: canonicalFilter(input.filter) } : { itemIds: [...new Set(input.item_ids)] }
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

const PLAN_CHUNK = 2_000
const DEFAULT_PREVIEW = 1_000

type Parsed = { action: BulkAction; params: Record<string, unknown>; selection: BulkSelection; filter: BulkFilter | null; dryRun: boolean; previewLimit: number }

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

/** Plans the frozen ids chunk by chunk (flat memory): each chunk's plan goes to `visit`. */
async function planChunks(db: Executor, tenantId: string, request: Parsed, ids: readonly string[], visit: (items: PlanItem[], offset: number) => Promise<void> | void) {
  for (let i = 0; i < ids.length; i += PLAN_CHUNK) {
    const sources = await plannedSources(db, tenantId, ids.slice(i, i + PLAN_CHUNK))
    await visit(
      sources.map((s) => planItem(request.action, request.params as never, s)),
      i,
    )
  }
}

function checkSelection(request: Parsed, ids: readonly string[]) {
  if ('itemIds' in request.selection) {
    const found = new Set(ids)
    const unknown = request.selection.itemIds.filter((id) => !found.has(id))
    if (unknown.length > 0) throw validationError([{ field: 'item_ids', message: `not in this tenant's inventory: ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ` and ${unknown.length - 5} more` : ''}` }])
  }
  if (ids.length === 0) throw validationError([{ field: request.filter ? 'filter' : 'item_ids', message: 'selects no items' }])
  // A preview shows the count to type; the run needs it typed.
  if (request.action === 'delete' && !request.dryRun && request.params.confirm_count !== ids.length) {
    throw validationError([{ field: 'params.confirm_count', message: `must equal the number of items to delete (${ids.length})` }])
  }
}

const digestOf = (ids: readonly string[]) => createHash('sha256').update(ids.join('\n')).digest('hex')

/** A dry run: the per-item plan of a selection (counts over every item, the first `preview_limit` items listed). */
export async function planBulk(db: Database, tenantId: string, body: unknown): Promise<BulkPlan> {
  const request = parseRequest(body)
  if (!request.dryRun) throw new Error('planBulk is for dry runs')
  const ids = await selectedIds(db, tenantId, request.selection)
  checkSelection(request, ids)
  const plan: BulkPlan = { action: request.action, run_type: runTypeOf(request.action), item_count: ids.length, counts: { change: 0, skip: 0 }, skipped_by_reason: [], items: [], items_truncated: false }
  const reasons = new Map<string, { code: string; reason: string; count: number }>()
  await planChunks(db, tenantId, request, ids, (items) => {
    for (const item of items) {
      plan.counts[item.action]++
      if (item.action === 'skip') {
        const key = `${item.code}\n${item.reason}`
        const entry = reasons.get(key) ?? { code: item.code!, reason: item.reason!, count: 0 }
        entry.count++
        reasons.set(key, entry)
      }
      if (plan.items.length < request.previewLimit) plan.items.push(item)
      else plan.items_truncated = true
    }
  })
  plan.skipped_by_reason = [...reasons.values()].sort((a, b) => b.count - a.count)
  return plan
}

/** `dry_run: false`: freezes the selection and starts `bulk.<action>` in one transaction (run, job, audit, frozen items). */
export async function startBulk(engine: OperationsEngine, db: Database, request: { tenantId: string; body: unknown; initiatorUserId: string | null; actor: Actor }) {
  const parsed = parseRequest(request.body)
  if (parsed.dryRun) throw new Error('startBulk is for real runs')
  for (let attempt = 0; attempt < 5; attempt++) {
    const result = await db.transaction(async (tx) => {
      const ids = await selectedIds(tx, request.tenantId, parsed.selection)
      checkSelection(parsed, ids)
      const context: BulkRunContext = { params: parsed.params, filter: parsed.filter, item_count: ids.length, selection_digest: digestOf(ids) }
      const started = await engine.startRunIn(tx, { tenantId: request.tenantId, type: runTypeOf(parsed.action), context, initiatorUserId: request.initiatorUserId, actor: request.actor })
      if (!started || started.deduplicated) return started
      await planChunks(tx, request.tenantId, parsed, ids, async (items, offset) => {
        const frozen: FrozenItem[] = items.map((item, i) => ({
          position: offset + i,
          itemId: item.id,
          policyType: item.policy_type,
          externalId: item.external_id,
          displayName: item.display_name,
          // "Unchanged" is what the last sync saw: the run decides on Graph's state when it gets to the item.
          state: item.action === 'skip' && item.code !== 'unchanged' ? 'skipped' : 'pending',
          result: item.action === 'skip' && item.code !== 'unchanged' ? { code: item.code, reason: item.reason } : item.new_name ? { planned_name: item.new_name } : null,
        }))
        await insertFrozenItems(tx, started.run.id, request.tenantId, frozen)
      })
      return started
    })
    if (result) return result
  }
  throw new Error('Could not start the bulk run: its active twin kept changing')
}

export const isDryRun = (body: unknown) => typeof body === 'object' && body !== null && (body as { dry_run?: unknown }).dry_run === true
