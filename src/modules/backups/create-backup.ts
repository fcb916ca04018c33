import { and, eq, inArray } from 'drizzle-orm'
import { inventoryItems } from '../../db/schema.ts'
import { GraphError } from '../../graph/errors.ts'
import { GraphClient } from '../../graph/graph-client.ts'
import { displayNameOf, GROUP_TYPE, getPolicyType, type PolicyTypeEntry } from '../../graph/policy-types.ts'
import type { GraphTenantContext } from '../../graph/tenant-context.ts'
import { createMsalTokenProvider, type TokenProvider } from '../../graph/token-provider.ts'
import type { SecretBox } from '../../lib/crypto.ts'
import { normaliseRead, storableText } from '../inventory/normalise.ts'
import { unitsOf, type Selection } from '../inventory/selection.ts'
import { tenantContext } from '../tenants/graph-context.ts'
import type { RunHandler } from '../operations/handlers.ts'
import { RunCancelledError, RunFailureError, RunOwnershipLostError } from '../operations/run-errors.ts'
import { loggableError } from '../../lib/unexpected-error.ts'
import type { ItemResult, RunExecution } from '../operations/run-execution.ts'
import { backupObjectOf as toObject, closeRunSet, manifestOf, snapshotInto } from './snapshot.ts'
import { emptySet, ensureSetOfRun, finishSet, releaseContents, type BackupObject, type MissingObject } from './store.ts'

/**
 * The `backup.create` handler (issue 14). Reads the selected types (and items) fresh from Graph
 * through the Graph client, normalises each object as the inventory does, and pins it in the
 * run's set by content hash. An object that cannot be read is a failed per-item result and a
 * `missing` entry of the manifest (the run a partial success); a type the app may not read is a
 * skipped unit and every object of it is missing. A set is never silently incomplete.
 *
 * It writes only backup tables, so it runs safely beside an inventory sync of the same tenant.
 */

export type BackupDeps = {
  secrets: SecretBox
  emulatorUrl: string | undefined
  tokens?: TokenProvider | undefined
  graph?: GraphClient | undefined
}

/** `selection` null: only the picked items. */
export type BackupContext = { name: string | null; selection: Selection | null; item_ids: string[] }

const GROUP_CHUNK = 400

export const defaultBackupName = (at: Date) => `Backup ${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`

export function createBackupHandler(deps: BackupDeps): RunHandler {
  const tokens = deps.tokens ?? createMsalTokenProvider()
  const graph = deps.graph ?? new GraphClient({ tokens })
  return async (run) => {
    const execution = run as RunExecution<BackupContext>
    const ctx = await tenantContext(run, deps)
    const set = await ensureSetOfRun(run.db, {
      tenantId: run.run.tenantId,
      runId: run.run.id,
      name: execution.context.name ?? defaultBackupName(run.run.createdAt),
      initiatorUserId: run.run.initiatorUserId,
      kind: 'backup',
    })
    // A re-queued attempt starts over; content only the earlier attempt used is collected (ADR 018).
    await releaseContents(run.db, run.run.tenantId, await emptySet(run.db, set.id))
    try {
      await new BackupRun(execution, graph, tokens, ctx, set).execute()
    } catch (error) {
      const hashes = await run.db.transaction(async (tx) => {
        const used = await emptySet(tx, set.id)
        await finishSet(tx, set.id, 'failed', await manifestOf(tx, execution, set.id, set.name, []))
        return used
      })
      await releaseContents(run.db, run.run.tenantId, hashes)
      throw error
    }
  }
}

class BackupRun {
  readonly #run: RunExecution<BackupContext>
  readonly #graph: GraphClient
  readonly #tokens: TokenProvider
  readonly #ctx: GraphTenantContext
  readonly #backupId: string
  readonly #name: string
  readonly #missing: MissingObject[] = []
  readonly #groupIds = new Set<string>()

  constructor(
    run: RunExecution<BackupContext>,
    graph: GraphClient,
    tokens: TokenProvider,
    ctx: GraphTenantContext,
    set: { id: string; name: string },
  ) {
    this.#run = run
    this.#graph = graph
    this.#tokens = tokens
    this.#ctx = ctx
    this.#backupId = set.id
    this.#name = set.name
  }

  async execute() {
    const { selection, item_ids: itemIds } = this.#run.context
    // Individual items: their types are read, keeping only them (unless the selection has the whole type).
    const picked = await this.#pickedItems(itemIds)
    const selected = selection ? unitsOf(selection) : []
    const units = [
      ...selected.filter((u) => u.listable),
      ...[...picked.keys()].filter((k) => !selected.some((u) => u.key === k)).map(getPolicyType),
    ]
    const withGroups = selected.includes(GROUP_TYPE)
    await this.#run.progress({ total: 0, processed: 0 })
    try {
      await this.#tokens.getToken(this.#ctx)
    } catch (error) {
      throw error instanceof GraphError ? new RunFailureError(error.code, error.message) : error
    }
    for (const entry of units) {
      this.#run.throwIfCancelled()
      const only = selected.includes(entry) ? null : picked.get(entry.key)!
      await this.#unit(entry, () => this.#readType(entry, only))
    }
    if (withGroups) await this.#unit(GROUP_TYPE, () => this.#readGroups())
    this.#run.throwIfCancelled()
    await closeRunSet(
      this.#run,
      { id: this.#backupId, name: this.#name },
      this.#missing.length > 0 ? 'partial' : 'complete',
      this.#missing,
    )
  }

  /** Inventory item ids → type → external ids; ids not in the tenant's inventory are missing. */
  async #pickedItems(itemIds: readonly string[]): Promise<Map<string, Set<string>>> {
    const out = new Map<string, Set<string>>()
    if (itemIds.length === 0) return out
    const rows = await this.#run.db
      .select({ id: inventoryItems.id, type: inventoryItems.policyType, externalId: inventoryItems.externalId })
      .from(inventoryItems)
      .where(and(eq(inventoryItems.tenantId, this.#run.run.tenantId), inArray(inventoryItems.id, [...itemIds])))
    for (const row of rows) {
      if (!out.has(row.type)) out.set(row.type, new Set())
      out.get(row.type)!.add(row.externalId)
    }
    const found = new Set(rows.map((r) => r.id))
    const unknown = itemIds.filter((id) => !found.has(id))
    if (unknown.length > 0) {
      const items = unknown.map((id) => ({
        type: 'item',
        id,
        name: id,
        code: 'not_found',
        message: 'No such item in the tenant inventory',
      }))
      this.#missing.push(...items)
      await this.#record(
        items.map((m) => ({
          target: { type: m.type, id: m.id, name: m.name },
          action: 'back_up',
          status: 'failed',
          code: m.code,
          message: m.message,
        })),
      )
    }
    return out
  }

  /** Per-item results; the total grows with them (the object count is known only as pages arrive). */
  async #record(results: ItemResult[]) {
    if (results.length === 0) return
    await this.#run.increment({ total: results.length })
    await this.#run.recordItems(results)
  }

  /**
   * One type; a type Graph refuses costs only itself: a failure naming it, a per-item result for
   * the whole type (skipped without permission, else failed), and a `missing` entry.
   */
  async #unit(entry: PolicyTypeEntry, work: () => Promise<number>) {
    try {
      await work()
    } catch (e) {
      if (e instanceof RunCancelledError || e instanceof RunOwnershipLostError || this.#run.signal.aborted) throw e
      if (!(e instanceof GraphError))
        this.#run.log.error({ err: loggableError(e), unit: entry.key }, 'backup unit failed')
      const code = e instanceof GraphError ? e.code : 'unexpected_error'
      const message =
        e instanceof GraphError
          ? e.message
          : `${entry.label} could not be backed up: an unexpected error (logged by the worker for run ${this.#run.run.id})`
      this.#missing.push({ type: entry.key, id: '*', name: entry.label, code, message })
      await this.#run.addFailure({ code, message, subject: entry.key })
      await this.#record([
        {
          target: { type: entry.key, id: '*', name: entry.label },
          action: 'back_up',
          status: code === 'missing_permission' ? 'skipped' : 'failed',
          code,
          message,
        },
      ])
    }
  }

  async #readType(entry: PolicyTypeEntry, only: ReadonlySet<string> | null): Promise<number> {
    const seen = new Set<string>()
    for await (const page of this.#graph.pages(this.#ctx, entry)) {
      this.#run.throwIfCancelled()
      const listed = only ? page.items.filter((item) => only.has(item.id)) : page.items
      const reads = await this.#graph.readItems(this.#ctx, entry, listed)
      const objects: BackupObject[] = []
      const results: ItemResult[] = []
      for (const read of reads) {
        if (seen.has(read.item.id)) continue
        seen.add(read.item.id)
        const name = storableText(displayNameOf(entry, read.item) || read.item.id).slice(0, 500)
        if (read.errors.length > 0) {
          const error = read.errors.find((e) => e.code !== 'not_found') ?? read.errors[0]!
          this.#missing.push({ type: entry.key, id: read.item.id, name, code: error.code, message: error.message })
          results.push({
            target: { type: entry.key, id: read.item.id, name },
            action: 'back_up',
            status: 'failed',
            code: error.code,
            message: error.message,
          })
          continue
        }
        const item = normaliseRead(entry, read)
        objects.push(toObject(entry, item))
        if (this.#run.context.selection?.include_dependencies) {
          for (const ref of item.references) if (ref.kind === 'group') this.#groupIds.add(ref.targetExternalId)
        }
        results.push({
          target: { type: entry.key, id: item.externalId, name: item.displayName },
          action: 'back_up',
          status: 'succeeded',
        })
      }
      this.#run.throwIfCancelled()
      await snapshotInto(this.#run, this.#backupId, objects)
      await this.#record(results)
    }
    if (only) {
      for (const id of only) {
        if (seen.has(id)) continue
        const message = `${entry.label} ${id} no longer exists in the tenant`
        this.#missing.push({ type: entry.key, id, name: id, code: 'not_found', message })
        await this.#record([
          {
            target: { type: entry.key, id, name: id },
            action: 'back_up',
            status: 'failed',
            code: 'not_found',
            message,
          },
        ])
      }
    }
    return seen.size
  }

  /** The Entra groups the backed-up objects' assignments reference (a deleted group is no object to keep). */
  async #readGroups(): Promise<number> {
    const ids = [...this.#groupIds].sort()
    let pinned = 0
    for (let i = 0; i < ids.length; i += GROUP_CHUNK) {
      this.#run.throwIfCancelled()
      const reads = await this.#graph.readGroups(this.#ctx, ids.slice(i, i + GROUP_CHUNK))
      const objects: BackupObject[] = []
      for (const read of reads) {
        if (read.error) throw read.error
        if (read.group)
          objects.push(
            toObject(GROUP_TYPE, normaliseRead(GROUP_TYPE, { item: read.group, assignments: null, details: {} })),
          )
      }
      await snapshotInto(this.#run, this.#backupId, objects)
      await this.#record(
        objects.map((o) => ({
          target: { type: GROUP_TYPE.key, id: o.externalId, name: o.displayName },
          action: 'back_up',
          status: 'succeeded',
        })),
      )
      pinned += objects.length
    }
    return pinned
  }
}
