import { and, eq, isNotNull } from 'drizzle-orm'
import { backupSets, inventoryItems, restorePlans, type MappingKind, type RestorePlanItemRow } from '../../db/schema.ts'
import { GraphError } from '../../graph/errors.ts'
import { GraphClient } from '../../graph/graph-client.ts'
import { getPolicyType, type PolicyTypeEntry } from '../../graph/policy-types.ts'
import { createMsalTokenProvider, type TokenProvider } from '../../graph/token-provider.ts'
import {
  afterCreateRequests,
  assignmentBody,
  assignRequest,
  createRequest,
  updateRequests,
  type ObjectContent,
  type WriteOperation,
  type WriteRequest,
} from '../../graph/writes/index.ts'
import { canonicalJson, normaliseValue } from '../../lib/canonical.ts'
import type { SecretBox } from '../../lib/crypto.ts'
import type { RunHandler } from '../operations/handlers.ts'
import { RunCancelledError, RunFailureError, RunOwnershipLostError } from '../operations/run-errors.ts'
import type { ItemResult, RunExecution } from '../operations/run-execution.ts'
import { openSession, readObject, writeObject, type TenantSession } from '../tenant-objects/pipeline.ts'
import { journalKey, mapContent, orderOf, TYPE_KINDS, type Resolve } from './content.ts'
import { backupObjects, type PlanMappingEntry, type SourceObject } from './plan.ts'
import { findPlan, planItems } from './repository.ts'

/**
 * The `restore.execute` handler (issue 15): the plan's creates and updates, in plan order
 * (dependencies first), each write through the write journal (exactly once, reconciled after a
 * lost answer or a lost worker), then the object read back into the inventory as `restored`.
 * Cancelling stops between objects; the items not reached are reported as such.
 */

export type RestoreDeps = {
  secrets: SecretBox
  emulatorUrl: string | undefined
  tokens?: TokenProvider | undefined
  graph?: GraphClient | undefined
}
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
    const [backup] = await run.db
      .select({ name: backupSets.name })
      .from(backupSets)
      .where(eq(backupSets.id, plan.backupId))
    // The versions and changes it writes say so: "Restore from backup …" by whoever started it.
    const session = await openSession(run, graph, tokens, deps, {
      activity: backup ? `Restore from backup "${backup.name}"` : 'Restore',
    })
    const items = (await planItems(run.db, plan.id)).filter((i) => !i.excluded)
    const selection = items
      .filter((i) => i.action === 'create' || i.action === 'update')
      .map((i) => ({ policy_type: i.policyType, external_id: i.sourceExternalId }))
    const objects =
      selection.length > 0 ? await backupObjects(run.db, plan.sourceTenantId, plan.backupId, selection) : []
    const sources = new Map(objects.map((o) => [keyOf(o.policyType, o.externalId), o]))
    await new RestoreRun(execution, session, plan.mapping as PlanMappingEntry[], sources, plan.sourceTenantId).execute(
      items,
    )
    await run.transaction((tx) =>
      tx.update(restorePlans).set({ runId: run.run.id }).where(eq(restorePlans.id, plan.id)),
    )
  }
}

class RestoreRun {
  readonly #run: RunExecution<RestoreContext>
  readonly #session: TenantSession
  readonly #mapping: Map<string, PlanMappingEntry>
  readonly #sources: Map<string, SourceObject>
  /** Objects of mapping kinds this run created: source id → new id. */
  readonly #created = new Map<string, string>()

  readonly #sourceTenantId: string

  constructor(
    run: RunExecution<RestoreContext>,
    session: TenantSession,
    mapping: PlanMappingEntry[],
    sources: Map<string, SourceObject>,
    sourceTenantId: string,
  ) {
    this.#run = run
    this.#sourceTenantId = sourceTenantId
    this.#session = session
    this.#mapping = new Map(mapping.map((m) => [keyOf(m.kind, m.source_id), m]))
    this.#sources = sources
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
    await this.#run.recordItems(
      items
        .filter((i) => i.action === 'skip' || i.action === 'blocked')
        .map((i) =>
          this.#result(
            i,
            'skipped',
            i.action === 'blocked' ? 'blocked' : null,
            i.reason ?? (i.action === 'skip' ? 'Identical in the target: nothing to write' : null),
          ),
        ),
    )
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
        await this.#run.recordItems(
          work
            .filter((i) => notReached.has(i))
            .map((i) =>
              this.#result(i, 'skipped', 'cancelled', 'The restore was cancelled before this object was written'),
            ),
        )
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
      const message =
        error instanceof GraphError
          ? error.message
          : `An unexpected error (logged by the worker for run ${this.#run.run.id})`
      await this.#run.recordItems([this.#result(item, 'failed', code, message)])
    }
  }

  #result(
    item: RestorePlanItemRow,
    status: ItemResult['status'],
    code: string | null,
    message: string | null,
  ): ItemResult {
    return {
      target: { type: item.policyType, id: item.targetExternalId ?? item.sourceExternalId, name: item.displayName },
      action: item.action,
      status,
      code,
      message,
    }
  }

  /**
   * One write of an object through the pipeline; returns the id Graph names (a create's new id).
   * `last`: the object's last write, which mirrors it in the inventory as `restored`.
   */
  async #write(
    item: RestorePlanItemRow,
    step: string,
    entry: PolicyTypeEntry,
    operation: WriteOperation,
    request: WriteRequest,
    targetId: string | null,
    content: ObjectContent,
    last: boolean,
  ): Promise<string | null> {
    const key = `${journalKey(this.#sourceTenantId, item.policyType, item.sourceExternalId)}:${step}`
    // A deleted object of this tenant re-created: the new object continues the removed item's history.
    const continues = last && item.action === 'create' ? await this.#removedItem(item) : undefined
    // The plan item's step: a plan executed again finds this row and never sends it twice.
    const outcome = await writeObject(this.#session, {
      key,
      intent: `restore:${item.id}:${step}`,
      entry,
      operation,
      request,
      targetId,
      content,
      mirror: last,
      history: 'restored',
      continues,
    })
    return outcome.targetId
  }

  /** The removed inventory item of this tenant a create re-creates (same tenant, same object id), if any. */
  async #removedItem(item: RestorePlanItemRow): Promise<string | undefined> {
    const tenantId = this.#run.run.tenantId
    if (this.#sourceTenantId !== tenantId) return undefined
    const [row] = await this.#run.db
      .select({ id: inventoryItems.id })
      .from(inventoryItems)
      .where(
        and(
          eq(inventoryItems.tenantId, tenantId),
          eq(inventoryItems.policyType, item.policyType),
          eq(inventoryItems.externalId, item.sourceExternalId),
          isNotNull(inventoryItems.removedAt),
        ),
      )
    return row?.id
  }

  /** Writes one object; returns the warnings to report with its result (or null). */
  async #restore(item: RestorePlanItemRow): Promise<string | null> {
    const entry = getPolicyType(item.policyType)
    const source = this.#sources.get(keyOf(item.policyType, item.sourceExternalId))
    if (!source) throw new GraphError('not_found', `${entry.label} "${item.displayName}" is no longer in the backup`)
    const mapped = mapContent(
      { payload: source.payload, assignments: source.assignments },
      this.#resolve,
      this.#nameOf,
      (kind, id) => this.#mapping.get(keyOf(kind, id))?.gone === true,
    )
    const content = mapped.content
    const { graph, ctx } = this.#session
    const assignments = (list: readonly Record<string, unknown>[]) =>
      canonicalJson(normaliseValue(list.map(assignmentBody)))
    if (item.action === 'create') {
      const after = afterCreateRequests(entry, 'new', content)
      const assigns = content.assignments.length > 0 && entry.assignments !== null
      const id = await this.#write(
        item,
        'create',
        entry,
        'create',
        createRequest(entry, content),
        null,
        content,
        after.length === 0 && !assigns,
      )
      if (!id)
        throw new GraphError(
          'bad_request',
          `${entry.label} "${item.displayName}": Graph's answer to the create named no object`,
        )
      if (TYPE_KINDS[entry.key]) this.#created.set(keyOf(TYPE_KINDS[entry.key]!, item.sourceExternalId), id)
      const requests = afterCreateRequests(entry, id, content)
      for (const [i, request] of requests.entries())
        await this.#write(
          item,
          request.label,
          entry,
          'action',
          request,
          id,
          content,
          i === requests.length - 1 && !assigns,
        )
      const assign = assigns ? assignRequest(entry, id, content.payload, content.assignments) : null
      if (assign) await this.#write(item, 'assign', entry, 'assign', assign, id, content, true)
    } else {
      const id = item.targetExternalId!
      const current = await readObject(graph, ctx, entry, { id, odataType: source.payload['@odata.type'] })
      if (!current)
        throw new GraphError(
          'not_found',
          `${entry.label} "${item.displayName}" was deleted from the tenant after the plan was built: refresh the plan`,
        )
      const currentContent: ObjectContent = { payload: current.payload, assignments: current.assignments }
      const assign =
        entry.assignments !== null && assignments(content.assignments) !== assignments(current.assignments)
          ? assignRequest(entry, id, content.payload, content.assignments)
          : null
      const requests = updateRequests(entry, id, content, currentContent)
      for (const [i, request] of requests.entries()) {
        const operation = request.label === 'update' || request.label === 'replace settings' ? 'update' : 'action'
        await this.#write(
          item,
          request.label,
          entry,
          operation,
          request,
          id,
          content,
          i === requests.length - 1 && !assign,
        )
      }
      if (assign) await this.#write(item, 'assign', entry, 'assign', assign, id, content, true)
    }
    return mapped.warnings.length > 0 ? [...new Set(mapped.warnings)].join('; ') : null
  }
}
