import { and, eq, inArray, sql } from 'drizzle-orm'
import { inventoryItems, operationRunItems, type BulkOperationItemRow } from '../../db/schema.ts'
import { GraphError } from '../../graph/errors.ts'
import { GraphClient } from '../../graph/graph-client.ts'
import { getPolicyType } from '../../graph/policy-types.ts'
import { createMsalTokenProvider, type TokenProvider } from '../../graph/token-provider.ts'
import type { SecretBox } from '../../lib/crypto.ts'
import type { RunHandler } from '../operations/handlers.ts'
import { RunCancelledError, RunFailureError, RunOwnershipLostError } from '../operations/run-errors.ts'
import { openSession, readObjects, type TenantSession } from '../tenant-objects/pipeline.ts'
import type { ItemResult, RunExecution } from '../operations/run-execution.ts'
import { backupObjectOf, closeRunSet, openRunSet, snapshotInto } from '../backups/snapshot.ts'
import type { BackupObject, MissingObject } from '../backups/store.ts'
import type { BulkAction } from './actions.ts'
import { actOn, type ItemOutcome } from './item-actions.ts'
import { bulkOperationTypes, type BulkRunContext } from './operation-types.ts'
import { frozenItems, setItemState } from './repository.ts'

/**
 * The `bulk.<action>` handler (issue 16). In order:
 * 1. the items the plan skipped are recorded as skipped, with their reason;
 * 2. a backup set of every item to change is taken (read fresh from Graph, labelled with the
 *    run, protected): nothing is written before it is complete;
 * 3. item by item, in the frozen order: the object is read fresh, the change merged into what
 *    Graph has now, and written through the write journal (exactly once, even across a lost
 *    worker); cancel stops between items.
 * A re-queued attempt resumes: skipped items already recorded, a complete backup and finished
 * items are not redone.
 */

export type BulkDeps = {
  secrets: SecretBox
  emulatorUrl: string | undefined
  tokens?: TokenProvider | undefined
  graph?: GraphClient | undefined
}

const CHUNK = 100
const READ_CHUNK = 20
/** Items backed up per page: their reads go out together. */
const BACKUP_PAGE = 500
/** Items acted on at once. */
const ITEM_CONCURRENCY = 12

const actionOf = (type: string) => type.slice('bulk.'.length) as BulkAction

export function createBulkHandler(deps: BulkDeps): RunHandler {
  const tokens = deps.tokens ?? createMsalTokenProvider()
  const graph = deps.graph ?? new GraphClient({ tokens })
  return async (run) => {
    const execution = run as RunExecution<BulkRunContext>
    const label = bulkOperationTypes[run.run.type as keyof typeof bulkOperationTypes]?.label ?? run.run.type
    await new BulkRun(execution, await openSession(run, graph, tokens, deps, { activity: label })).execute()
  }
}

class BulkRun {
  readonly #run: RunExecution<BulkRunContext>
  readonly #session: TenantSession
  readonly #action: BulkAction

  constructor(run: RunExecution<BulkRunContext>, session: TenantSession) {
    this.#run = run
    this.#session = session
    this.#action = actionOf(run.run.type)
  }

  get #runId() {
    return this.#run.run.id
  }

  async execute() {
    await this.#run.progress({ total: this.#run.context.item_count })
    await this.#recordFinished()
    const failedBackup = await this.#backUp()
    if (failedBackup > 0)
      throw new RunFailureError(
        'backup_failed',
        `${failedBackup} object${failedBackup === 1 ? '' : 's'} could not be backed up before the change: nothing was changed`,
      )
    let after = -1
    for (;;) {
      const items = await frozenItems(this.#run.db, this.#runId, { states: ['pending'], after, limit: CHUNK })
      if (items.length === 0) break
      // A few items in flight: the write limiter, not the round trips, sets the pace. Each worker
      // checks for cancellation before its next item; all settle before the run may end.
      let next = 0
      const workers = Array.from({ length: Math.min(ITEM_CONCURRENCY, items.length) }, async () => {
        while (next < items.length) {
          const item = items[next++]!
          this.#run.throwIfCancelled()
          await this.#act(item)
        }
      })
      const settled = await Promise.allSettled(workers)
      const failed = settled.find((r) => r.status === 'rejected')
      if (failed) throw failed.reason
      after = items.at(-1)!.position
    }
  }

  /**
   * The per-item results of items already in a final state: the plan's skips at the first
   * attempt; at a later one, everything its predecessors finished (a re-queued attempt starts
   * with no per-item results and no counts). A result already recorded is not recorded twice.
   */
  async #recordFinished() {
    let after = -1
    for (;;) {
      const items = await frozenItems(this.#run.db, this.#runId, {
        states: ['skipped', 'succeeded', 'failed'],
        after,
        limit: 1000,
      })
      if (items.length === 0) return
      after = items.at(-1)!.position
      const already = new Set(
        (
          await this.#run.db
            .select({ id: operationRunItems.targetId })
            .from(operationRunItems)
            .where(
              and(
                eq(operationRunItems.runId, this.#runId),
                inArray(
                  operationRunItems.targetId,
                  items.map((i) => i.externalId),
                ),
              ),
            )
        ).map((r) => r.id),
      )
      await this.#run.recordItems(items.filter((i) => !already.has(i.externalId)).map((i) => this.#resultOf(i)))
    }
  }

  #resultOf(item: BulkOperationItemRow): ItemResult {
    const result = item.result ?? {}
    const status = item.state === 'pending' ? 'failed' : item.state
    return {
      target: { type: item.policyType, id: item.externalId, name: item.displayName },
      action: this.#action,
      status,
      code: typeof result.code === 'string' ? result.code : null,
      message:
        typeof result.reason === 'string' ? result.reason : typeof result.message === 'string' ? result.message : null,
    }
  }

  /**
   * The backup before the change: every item still to act on, read fresh and pinned in the run's
   * set. Returns how many could not be read (then nothing is changed). A set completed by an
   * earlier attempt is kept: it shows the state before any write.
   */
  async #backUp(): Promise<number> {
    const label = this.#run.run.type.replace('bulk.', '').replace(/_/g, ' ')
    const set = await openRunSet(this.#run, {
      name: `Before bulk ${label} (${this.#run.context.item_count} items)`,
      labels: ['bulk', this.#runId],
      protected: true,
    })
    if (set.status === 'complete') return 0
    const missing: MissingObject[] = []
    let after = -1
    for (;;) {
      this.#run.throwIfCancelled()
      const items = await frozenItems(this.#run.db, this.#runId, { states: ['pending'], after, limit: BACKUP_PAGE })
      if (items.length === 0) break
      after = items.at(-1)!.position
      const types = await this.#odataTypes(items)
      const objects: BackupObject[] = []
      // Every type's `$batch` reads of the page at once (the read budget paces them).
      const chunks = [...groupBy(items, (i) => i.policyType)].flatMap(([type, group]) =>
        Array.from({ length: Math.ceil(group.length / READ_CHUNK) }, (_, k) => ({
          type,
          chunk: group.slice(k * READ_CHUNK, (k + 1) * READ_CHUNK),
        })),
      )
      await Promise.all(
        chunks.map(async ({ type, chunk }) => {
          const entry = getPolicyType(type)
          const reads = await readObjects(
            this.#session.graph,
            this.#session.ctx,
            entry,
            chunk.map((c) => ({ id: c.externalId, odataType: types.get(c.itemId) })),
          )
          for (const item of chunk) {
            const read = reads.get(item.externalId)
            if (!read || read instanceof GraphError) {
              const code = read?.code ?? 'not_found'
              const message = read?.message ?? `${entry.label} ${item.externalId} no longer exists in the tenant`
              missing.push({ type, id: item.externalId, name: item.displayName, code, message })
              continue
            }
            objects.push(backupObjectOf(entry, read))
          }
        }),
      )
      await snapshotInto(this.#run, set.id, objects)
    }
    // An object deleted since the sync is not an error of the backup: it cannot be changed either.
    const gone = missing.filter((m) => m.code === 'not_found')
    const unreadable = missing.filter((m) => m.code !== 'not_found')
    await closeRunSet(this.#run, set, unreadable.length > 0 ? 'failed' : 'complete', missing)
    // A delete's object already gone may be an earlier send of this deletion (a lost worker's, an
    // earlier run's): the item decides (actOn settles that send, else fails it not_found).
    if (this.#action !== 'delete')
      for (const m of gone)
        await this.#finishItemByExternalId(m.type, m.id, 'failed', { code: 'not_found', message: m.message })
    for (const m of unreadable) await this.#run.addFailure({ code: m.code, message: m.message, subject: m.type })
    return unreadable.length
  }

  async #finishItemByExternalId(
    type: string,
    externalId: string,
    state: 'failed' | 'succeeded',
    result: Record<string, unknown>,
  ) {
    const [row] = await this.#run.db
      .execute<{ position: number }>(
        sql`SELECT position FROM bulk_operation_items WHERE run_id = ${this.#runId} AND policy_type = ${type} AND external_id = ${externalId} AND state = 'pending' ORDER BY position LIMIT 1`,
      )
      .then((r) => r.rows)
    if (!row) return
    const item = (await frozenItems(this.#run.db, this.#runId, { after: row.position - 1, limit: 1 }))[0]!
    await this.#finish(item, state, result)
  }

  /** The inventory's `@odata.type` of each item: where polymorphic objects are read from. */
  async #odataTypes(items: readonly BulkOperationItemRow[]): Promise<Map<string, unknown>> {
    const rows = await this.#run.db
      .select({ id: inventoryItems.id, odataType: sql<unknown>`${inventoryItems.payload} -> '@odata.type'` })
      .from(inventoryItems)
      .where(
        and(
          eq(inventoryItems.tenantId, this.#run.run.tenantId),
          inArray(
            inventoryItems.id,
            items.map((i) => i.itemId),
          ),
        ),
      )
    return new Map(rows.map((r) => [r.id, r.odataType]))
  }

  /** One item: fresh read, merge, write (journaled), its state and result. */
  async #act(item: BulkOperationItemRow) {
    const entry = getPolicyType(item.policyType)
    let outcome: ItemOutcome
    try {
      const types = await this.#odataTypes([item])
      const reads = await readObjects(this.#session.graph, this.#session.ctx, entry, [
        { id: item.externalId, odataType: types.get(item.itemId) },
      ])
      const read = reads.get(item.externalId)
      if (read instanceof GraphError && read.code !== 'not_found')
        outcome = { status: 'failed', code: read.code, message: read.message }
      else
        outcome = await actOn(this.#session, {
          action: this.#action,
          params: this.#run.context.params,
          entry,
          read: read instanceof GraphError ? null : (read ?? null),
          item,
        })
    } catch (error) {
      if (error instanceof RunCancelledError || error instanceof RunOwnershipLostError || this.#run.signal.aborted)
        throw error
      if (!(error instanceof GraphError)) this.#run.log.error({ err: error, item: item.externalId }, 'bulk item failed')
      outcome =
        error instanceof GraphError
          ? {
              status: 'failed',
              code: error.code === 'bad_request' ? 'write_refused' : error.code,
              message: error.message,
            }
          : {
              status: 'failed',
              code: 'unexpected_error',
              message: `An unexpected error (logged by the worker for run ${this.#runId})`,
            }
    }
    const { status, ...result } = outcome
    await this.#finish(item, status, result)
  }

  async #finish(
    item: BulkOperationItemRow,
    state: 'succeeded' | 'failed' | 'skipped',
    result: Record<string, unknown>,
  ) {
    // State first: a worker lost between the two leaves a finished item whose result the next attempt records.
    await this.#run.transaction((tx) => setItemState(tx, this.#runId, item.position, state, result))
    await this.#run.recordItems([this.#resultOf({ ...item, state, result })])
  }
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>()
  for (const item of items) out.set(key(item), [...(out.get(key(item)) ?? []), item])
  return out
}
