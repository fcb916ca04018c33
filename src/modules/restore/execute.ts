import { eq } from 'drizzle-orm'
import { restorePlans, type MappingKind, type RestorePlanItemRow } from '../../db/schema.ts'
import { GraphError } from '../../graph/errors.ts'
import { GraphClient, type GraphObject } from '../../graph/graph-client.ts'
import { getPolicyType, singletonItem, type PolicyTypeEntry } from '../../graph/policy-types.ts'
import { objectUrl } from '../../graph/read-plan.ts'
import type { GraphTenantContext } from '../../graph/tenant-context.ts'
import { createMsalTokenProvider, type TokenProvider } from '../../graph/token-provider.ts'
import { afterCreateRequests, assignmentBody, assignRequest, createRequest, sendWrite, updateRequests, WriteJournal, type ObjectContent, type WriteRequest } from '../../graph/writes/index.ts'
import type { SecretBox } from '../../lib/crypto.ts'
import { normaliseRead, normaliseValue, type NormalisedItem } from '../inventory/normalise.ts'
import { writePage } from '../inventory/store.ts'
import { tenantContext } from '../inventory/sync.ts'
import type { RunHandler } from '../operations/handlers.ts'
import { RunCancelledError, RunFailureError, RunOwnershipLostError } from '../operations/run-errors.ts'
import type { ItemResult, RunExecution } from '../operations/run-execution.ts'
import { canonicalJson } from '../operations/start-run.ts'
import { journalKey, mapContent, orderOf, TYPE_KINDS, type Resolve } from './content.ts'
import { backupObjects, findPlan, planItems, type PlanMappingEntry, type SourceObject } from './plan.ts'

/**
 * The `restore.execute` handler (issue 15): the plan's creates and updates, in plan order
 * (dependencies first), each write through the write journal (exactly once, reconciled after a
 * lost answer or a lost worker), then the object read back into the inventory as `restored`.
 * Cancelling stops between objects; the items not reached are reported as such.
 */

export type RestoreDeps = { secrets: SecretBox; emulatorUrl: string | undefined; tokens?: TokenProvider | undefined; graph?: GraphClient | undefined }
export type RestoreContext = { plan_id: string }

/** Objects of one dependency tier written at once (each object's own writes stay in order). */
const OBJECT_CONCURRENCY = 16

const keyOf = (a: string, b: string) => `${a}\n${b}`


export function createRestoreHandler(deps: RestoreDeps): RunHandler {
  const tokens = deps.tokens ?? createMsalTokenProvider()
  const graph = deps.graph ?? new GraphClient({ tokens })
  return async (run) => {
    const execution = run as RunExecution<RestoreContext>
    const plan = await findPlan(run.db, run.run.tenantId, execution.context.plan_id)
    if (!plan) throw new RunFailureError('plan_not_found', 'The restore plan was deleted before it ran')
    const ctx = await tenantContext(run, deps)
    try {
      await tokens.getToken(ctx)
    } catch (error) {
      throw error instanceof GraphError ? new RunFailureError(error.code, error.message) : error
    }
    const items = (await planItems(run.db, plan.id)).filter((i) => !i.excluded)
    const selection = items.filter((i) => i.action === 'create' || i.action === 'update').map((i) => ({ policy_type: i.policyType, external_id: i.sourceExternalId }))
    const objects = selection.length > 0 ? await backupObjects(run.db, plan.sourceTenantId, plan.backupId, selection) : []
    const sources = new Map(objects.map((o) => [keyOf(o.policyType, o.externalId), o]))
    await new RestoreRun(execution, graph, ctx, plan.mapping as PlanMappingEntry[], sources, plan.sourceTenantId).execute(items)
    await run.transaction((tx) => tx.update(restorePlans).set({ runId: run.run.id }).where(eq(restorePlans.id, plan.id)))
  }
}

/** The object as a full read returns it (the list's `$expand`s on the object read, then its per-object reads), normalised. */
async function readBack(graph: GraphClient, ctx: GraphTenantContext, entry: PolicyTypeEntry, id: string, payload: Record<string, unknown>): Promise<NormalisedItem | null> {
  let object: GraphObject
  try {
    const { '@odata.context': _context, ...body } = await graph.get<GraphObject>(ctx, objectUrl(entry, { id, '@odata.type': payload['@odata.type'] }), { permission: entry.permission, subject: entry.label })
    // A singleton answers without the inventory's id (or none at all): named as a full read names it.
    const item = entry.singleton ? singletonItem(entry, body) : body
    if (!item) return null
    object = item
  } catch (error) {
    if (error instanceof GraphError && error.code === 'not_found') return null
    throw error
  }
  const [read] = await graph.readItems(ctx, entry, [object])
  if (read!.errors.length > 0) throw read!.errors[0]!
  return normaliseRead(entry, read!)
}

class RestoreRun {
  readonly #run: RunExecution<RestoreContext>
  readonly #graph: GraphClient
  readonly #ctx: GraphTenantContext
  readonly #mapping: Map<string, PlanMappingEntry>
  readonly #sources: Map<string, SourceObject>
  readonly #journal: WriteJournal
  /** Objects of mapping kinds this run created: source id → new id. */
  readonly #created = new Map<string, string>()

  readonly #sourceTenantId: string

  constructor(run: RunExecution<RestoreContext>, graph: GraphClient, ctx: GraphTenantContext, mapping: PlanMappingEntry[], sources: Map<string, SourceObject>, sourceTenantId: string) {
    this.#run = run
    this.#sourceTenantId = sourceTenantId
    this.#graph = graph
    this.#ctx = ctx
    this.#mapping = new Map(mapping.map((m) => [keyOf(m.kind, m.source_id), m]))
    this.#sources = sources
    this.#journal = new WriteJournal({ tenantId: run.run.tenantId, runId: run.run.id, transact: (work) => run.transaction(work), graph, ctx })
  }

  #resolve: Resolve = (kind, sourceId) => {
    const m = this.#mapping.get(keyOf(kind, sourceId))
    if (!m) return null
    if (m.proposed_by === 'restore') return this.#created.get(keyOf(kind, sourceId)) ?? m.target_id
    if (m.proposed_by === 'same') return undefined
    return m.target_id
  }

  #nameOf = (kind: MappingKind, id: string) => this.#mapping.get(keyOf(kind, id))?.source_name ?? id

  async execute(items: RestorePlanItemRow[]) {
    await this.#run.progress({ total: items.length, processed: 0 })
    // Nothing to write is reported at once.
    await this.#run.recordItems(items.filter((i) => i.action === 'skip' || i.action === 'blocked').map((i) => this.#result(i, 'skipped', i.action === 'blocked' ? 'blocked' : null, i.reason ?? (i.action === 'skip' ? 'Identical in the target: nothing to write' : null))))
    const work = items.filter((i) => i.action === 'create' || i.action === 'update')
    // Tier by tier (scope tags, filters, templates, other foundations, policies): a tier's objects
    // are independent of each other, so several are written at once, each object's writes in order.
    const tiers = new Map<number, RestorePlanItemRow[]>()
    for (const item of work) tiers.set(orderOf(item.policyType), [...(tiers.get(orderOf(item.policyType)) ?? []), item])
    const notReached = new Set(work)
    for (const tier of [...tiers.keys()].sort((a, b) => a - b)) {
      const queue = [...tiers.get(tier)!]
      const worker = async () => {
        for (let item = queue.shift(); item; item = queue.shift()) {
          if (this.#run.cancelled || this.#run.lost) return
          notReached.delete(item)
          await this.#one(item)
        }
      }
      await Promise.all(Array.from({ length: Math.min(OBJECT_CONCURRENCY, queue.length) }, worker))
      if (this.#run.cancelled) {
        await this.#run.recordItems(work.filter((i) => notReached.has(i)).map((i) => this.#result(i, 'skipped', 'cancelled', 'The restore was cancelled before this object was written')))
        throw new RunCancelledError()
      }
      this.#run.throwIfCancelled()
    }
  }

  async #one(item: RestorePlanItemRow) {
    try {
      const message = await this.#restore(item)
      await this.#run.recordItems([this.#result(item, 'succeeded', null, message)])
    } catch (error) {
      if (error instanceof RunCancelledError || error instanceof RunOwnershipLostError || this.#run.lost) throw error
      if (!(error instanceof GraphError)) this.#run.log.error({ err: error, item: item.id }, 'restore item failed')
      const code = error instanceof GraphError ? error.code : 'unexpected_error'
      const message = error instanceof GraphError ? error.message : `An unexpected error (logged by the worker for run ${this.#run.run.id})`
      await this.#run.recordItems([this.#result(item, 'failed', code, message)])
    }
  }

  #result(item: RestorePlanItemRow, status: ItemResult['status'], code: string | null, message: string | null): ItemResult {
    return { target: { type: item.policyType, id: item.targetExternalId ?? item.sourceExternalId, name: item.displayName }, action: item.action, status, code, message }
  }

  /** One write of an object through the journal; returns the id Graph names (a create's new id). */
  async #write(key: string, entry: PolicyTypeEntry, operation: 'create' | 'update' | 'assign' | 'action', request: WriteRequest, targetId: string | null, content: ObjectContent): Promise<string | null> {
    // Reconciling a lost answer whose audit event has not arrived yet: Graph's objects say whether it was applied.
    const read = async (id: string): Promise<ObjectContent | null> => {
      const current = await readBack(this.#graph, this.#ctx, entry, id, content.payload)
      return current ? { payload: current.payload, assignments: current.assignments } : null
    }
    const outcome = await this.#journal.writeOnce(key, {
      expect: { entry, request, content, read },
      operation,
      policyType: entry.key,
      targetId,
      method: request.method,
      path: request.url,
      send: (marker) => sendWrite(this.#graph, this.#ctx, entry, request, marker, targetId),
    })
    return outcome.targetId
  }

  /** Writes one object; returns the warnings to report with its result (or null). */
  async #restore(item: RestorePlanItemRow): Promise<string | null> {
    const entry = getPolicyType(item.policyType)
    const source = this.#sources.get(keyOf(item.policyType, item.sourceExternalId))
    if (!source) throw new GraphError('not_found', `${entry.label} "${item.displayName}" is no longer in the backup`)
    const mapped = mapContent({ payload: source.payload, assignments: source.assignments }, this.#resolve, this.#nameOf)
    const content = mapped.content
    const key = journalKey(this.#sourceTenantId, item.policyType, item.sourceExternalId)
    let id: string
    if (item.action === 'create') {
      const created = await this.#write(`${key}:create`, entry, 'create', createRequest(entry, content), null, content)
      if (!created) throw new GraphError('bad_request', `${entry.label} "${item.displayName}": Graph's answer to the create named no object`)
      id = created
      if (TYPE_KINDS[entry.key]) this.#created.set(keyOf(TYPE_KINDS[entry.key]!, item.sourceExternalId), id)
      for (const request of afterCreateRequests(entry, id, content)) await this.#write(`${key}:${request.label}`, entry, 'action', request, id, content)
      const assign = content.assignments.length > 0 ? assignRequest(entry, id, content.payload, content.assignments) : null
      if (assign) await this.#write(`${key}:assign`, entry, 'assign', assign, id, content)
    } else {
      id = item.targetExternalId!
      const current = await readBack(this.#graph, this.#ctx, entry, id, source.payload)
      if (!current) throw new GraphError('not_found', `${entry.label} "${item.displayName}" was deleted from the tenant after the plan was built: refresh the plan`)
      const currentContent: ObjectContent = { payload: current.payload, assignments: current.assignments }
      for (const request of updateRequests(entry, id, content, currentContent)) await this.#write(`${key}:${request.label}`, entry, request.label === 'update' || request.label === 'replace settings' ? 'update' : 'action', request, id, content)
      const assignments = (list: readonly Record<string, unknown>[]) => canonicalJson(normaliseValue(list.map(assignmentBody)))
      const assign = entry.assignments !== null && assignments(content.assignments) !== assignments(current.assignments) ? assignRequest(entry, id, content.payload, content.assignments) : null
      if (assign) await this.#write(`${key}:assign`, entry, 'assign', assign, id, content)
    }
    // Read back into the inventory: its versions show the result, "restored" in the change history.
    const after = await readBack(this.#graph, this.#ctx, entry, id, source.payload)
    if (after) await writePage(this.#run.db, { tenantId: this.#run.run.tenantId, runId: this.#run.run.id, attempt: this.#run.attempt, entry }, [after], { history: 'restored' })
    return mapped.warnings.length > 0 ? [...new Set(mapped.warnings)].join('; ') : null
  }
}

