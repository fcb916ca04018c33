import { eq } from 'drizzle-orm'
import { tenants } from '../../db/schema.ts'
import { GraphError } from '../../graph/errors.ts'
import { GraphClient } from '../../graph/graph-client.ts'
import { GROUP_TYPE, type PolicyTypeEntry } from '../../graph/policy-types.ts'
import { itemReads } from '../../graph/read-plan.ts'
import type { GraphTenantContext } from '../../graph/tenant-context.ts'
import { createMsalTokenProvider, type TokenProvider } from '../../graph/token-provider.ts'
import type { RunHandler } from '../operations/handlers.ts'
import { RunCancelledError, RunFailureError, RunOwnershipLostError } from '../operations/run-errors.ts'
import type { RunExecution } from '../operations/run-execution.ts'
import type { SecretBox } from '../../lib/crypto.ts'
import { ConnectionConfigError, graphContextOf } from './graph-context.ts'
import { normaliseRead, type NormalisedItem, storableText } from './normalise.ts'
import type { Selection } from './selection.ts'
import { unitsOf } from './selection.ts'
import { completeUnit, flagOrphanedGroups, referencedGroupIds, writePage, type PageCounts, type UnitScope } from './store.ts'

/**
 * The `inventory.sync` handler (DESIGN.md §5). Units of work are the selected types, then the
 * Entra groups the inventory's assignments reference. Types are read side by side (the Graph
 * client's per-tenant budget and adaptive concurrency keep the pace); each streams its pages,
 * writes them set-based, and when its listing completed marks what it did not see as removed.
 * A type the app may not read is skipped, one Graph cannot serve is failed, the rest go on.
 */

export type InventorySyncDeps = {
  secrets: SecretBox
  /** Base URL of the Graph emulator for tenants whose cloud is `emulator`. */
  emulatorUrl: string | undefined
  tokens?: TokenProvider
  graph?: GraphClient
  /** Types read at once (default UNIT_CONCURRENCY); the Graph budget sets the pace either way. */
  unitConcurrency?: number
}

export type InventorySyncContext = { selection: Selection }

const SIGN_IN_FAILURES = new Set(['invalid_credentials', 'tenant_not_found', 'app_not_found'])
/** How often a running unit's item counts reach the run row (and the live surfaces). */
const COUNTS_FLUSH_MS = 250
/**
 * Types read at once. Enough to keep the tenant's Graph budget busy (each unit has up to five
 * `$batch` requests of a page in flight), few enough to bound the pages held in memory.
 */
export const UNIT_CONCURRENCY = 8
/** Group ids per readGroups call: 20 `$batch` requests of 20. */
const GROUP_CHUNK = 400

export function createInventorySyncHandler(deps: InventorySyncDeps): RunHandler {
  const tokens = deps.tokens ?? createMsalTokenProvider()
  const graph = deps.graph ?? new GraphClient({ tokens })
  return async (run) => {
    const ctx = await tenantContext(run, deps)
    await new InventorySync(run as RunExecution<InventorySyncContext>, graph, tokens, ctx, deps.unitConcurrency ?? UNIT_CONCURRENCY).execute()
  }
}

/** The tenant's Graph context, or a failure that says what to fix. */
export async function tenantContext(run: RunExecution, deps: Pick<InventorySyncDeps, 'secrets' | 'emulatorUrl'>): Promise<GraphTenantContext> {
  const [tenant] = await run.db.select().from(tenants).where(eq(tenants.id, run.run.tenantId))
  if (!tenant) throw new RunFailureError('tenant_not_found', 'The tenant was deleted before the sync ran')
  try {
    return graphContextOf(tenant, deps.secrets, deps.emulatorUrl)
  } catch (error) {
    if (error instanceof ConnectionConfigError) throw new RunFailureError(error.code, error.message)
    throw error
  }
}

type UnitCounts = PageCounts & { removed: number }

/** The requests one object of the type needs beyond its list page, from the read plan. */
const readsPerObject = (entry: PolicyTypeEntry) => itemReads(entry, { id: '' }).length

class InventorySync {
  readonly #run: RunExecution<InventorySyncContext>
  readonly #graph: GraphClient
  readonly #tokens: TokenProvider
  readonly #ctx: GraphTenantContext
  #pending: Partial<UnitCounts> = {}
  #lastFlush = 0
  /** The first sign-in failure of any unit: nothing can be read, the run fails with it. */
  #signInFailure: GraphError | undefined
  readonly #concurrency: number

  constructor(run: RunExecution<InventorySyncContext>, graph: GraphClient, tokens: TokenProvider, ctx: GraphTenantContext, concurrency: number) {
    this.#run = run
    this.#graph = graph
    this.#tokens = tokens
    this.#ctx = ctx
    this.#concurrency = Math.max(1, concurrency)
  }

  async execute() {
    const units = unitsOf(this.#run.context.selection)
    await this.#run.progress({ total: units.length, processed: 0, created: 0, updated: 0, unchanged: 0, removed: 0 })
    // One sign-in first: a wrong secret fails the run with what to fix, not every unit with it.
    try {
      await this.#tokens.getToken(this.#ctx)
    } catch (error) {
      throw this.#runFailure(error)
    }
    // The types that need the most reads per object first, so the long ones do not start last.
    const queue = units.filter((u) => u.listable).sort((a, b) => readsPerObject(b) - readsPerObject(a))
    const lane = async () => {
      for (let entry = queue.shift(); entry; entry = queue.shift()) {
        const next = entry
        this.#run.throwIfCancelled()
        await this.#unit(next, (counts) => this.#readPages(next, counts))
      }
    }
    await this.#settle(Array.from({ length: Math.min(this.#concurrency, queue.length) }, lane))
    if (units.includes(GROUP_TYPE)) await this.#settle([this.#unit(GROUP_TYPE, (counts) => this.#readGroups(counts))])
    if (this.#signInFailure) throw this.#runFailure(this.#signInFailure)
  }

  /** Waits for every unit; a cancellation or a lost run wins over everything else. */
  async #settle(tasks: Promise<void>[]) {
    const results = await Promise.allSettled(tasks)
    const stop = results.find((r) => r.status === 'rejected')
    if (stop) throw stop.reason
  }

  #runFailure(error: unknown): Error {
    if (error instanceof GraphError) return new RunFailureError(error.code, error.message)
    return error instanceof Error ? error : new Error(String(error))
  }

  /** Runs one unit and records its result; only a cancellation or a lost run escapes. */
  async #unit(entry: PolicyTypeEntry, work: (counts: UnitCounts) => Promise<void>) {
    const started = performance.now()
    const counts: UnitCounts = { created: 0, updated: 0, unchanged: 0, removed: 0 }
    let status: 'succeeded' | 'failed' | 'skipped' = 'succeeded'
    let error: { code: string; message: string } | null = null
    try {
      if (this.#signInFailure) throw this.#signInFailure
      await work(counts)
    } catch (e) {
      if (e instanceof RunCancelledError || e instanceof RunOwnershipLostError || this.#run.signal.aborted) throw e
      const signIn = e instanceof GraphError && SIGN_IN_FAILURES.has(e.code)
      if (signIn) this.#signInFailure ??= e
      const code = e instanceof GraphError ? e.code : 'unexpected_error'
      status = code === 'missing_permission' ? 'skipped' : 'failed'
      // A Graph error's message says what to do; anything else (a database error carries its
      // query and parameters) goes to the log, and the run says only where to look.
      const message = e instanceof GraphError ? e.message : `${entry.label} could not be stored: an unexpected error (logged by the worker for run ${this.#run.run.id})`
      error = { code, message }
      if (!(e instanceof GraphError)) this.#run.log.error({ err: e, unit: entry.key }, 'inventory unit failed')
      // A sign-in failure is the run's failure, recorded once when the run fails.
      if (!signIn) await this.#run.addFailure({ code, message, subject: entry.key })
    }
    await this.#flush(true)
    await this.#run.recordUnit({ key: entry.key, status, counts, durationMs: performance.now() - started, error })
  }

  /** Writes a page; an object the database refuses is reported and kept as it was (it is seen, so never removed). */
  async #write(entry: PolicyTypeEntry, scope: UnitScope, items: NormalisedItem[], counts: UnitCounts) {
    const { rejected, ...pageCounts } = await writePage(this.#run.db, scope, items)
    await this.#count(counts, pageCounts)
    for (const item of rejected) {
      await this.#run.addFailure({
        code: 'unstorable_object',
        // The message is stored too: only text that can be.
        message: storableText(`${entry.label} "${item.displayName.slice(0, 200)}" (${item.externalId}) holds a value the database cannot store: its stored copy is kept as it was`),
        subject: entry.key,
      })
    }
  }

  async #readPages(entry: PolicyTypeEntry, counts: UnitCounts) {
    const scope = this.#scope(entry)
    const seen = new Set<string>()
    for await (const page of this.#graph.pages(this.#ctx, entry)) {
      this.#run.throwIfCancelled()
      const reads = await this.#graph.readItems(this.#ctx, entry, page.items)
      const items: NormalisedItem[] = []
      for (const read of reads) {
        // The same object twice in one listing (Graph paging is no snapshot): counted once.
        if (seen.has(read.item.id)) continue
        if (read.errors.length > 0) {
          // Deleted between the list and its reads (every read 404): not seen, so removed like any other.
          const gone = read.errors.every((e) => e.code === 'not_found') && read.errors.length === itemReads(entry, read.item).length
          if (gone) continue
          throw read.errors.find((e) => e.code !== 'not_found') ?? read.errors[0]!
        }
        items.push(normaliseRead(entry, read))
      }
      this.#run.throwIfCancelled()
      await this.#write(entry, scope, items, counts)
      for (const item of items) seen.add(item.externalId)
    }
    this.#run.throwIfCancelled()
    await this.#count(counts, { removed: await completeUnit(this.#run.db, scope, seen) })
  }

  async #readGroups(counts: UnitCounts) {
    const scope = this.#scope(GROUP_TYPE)
    const ids = await referencedGroupIds(this.#run.db, this.#ctx.tenantKey)
    const seen = new Set<string>()
    const deleted: string[] = []
    for (let i = 0; i < ids.length; i += GROUP_CHUNK) {
      this.#run.throwIfCancelled()
      const reads = await this.#graph.readGroups(this.#ctx, ids.slice(i, i + GROUP_CHUNK))
      const items: NormalisedItem[] = []
      for (const read of reads) {
        if (read.error) throw read.error
        if (!read.group) {
          deleted.push(read.id)
          continue
        }
        items.push(normaliseRead(GROUP_TYPE, { item: read.group, assignments: null, details: {} }))
      }
      await this.#write(GROUP_TYPE, scope, items, counts)
      for (const item of items) seen.add(item.externalId)
    }
    this.#run.throwIfCancelled()
    await flagOrphanedGroups(this.#run.db, scope, deleted)
    await this.#count(counts, { removed: await completeUnit(this.#run.db, scope, seen) })
  }

  #scope(entry: PolicyTypeEntry): UnitScope {
    return { tenantId: this.#ctx.tenantKey, runId: this.#run.run.id, attempt: this.#run.attempt, entry }
  }

  /** Adds to the unit's counts and, at most every COUNTS_FLUSH_MS, to the run's. */
  async #count(counts: UnitCounts, delta: Partial<UnitCounts>) {
    for (const [key, value] of Object.entries(delta) as [keyof UnitCounts, number][]) {
      counts[key] += value
      this.#pending[key] = (this.#pending[key] ?? 0) + value
    }
    await this.#flush(false)
  }

  async #flush(force: boolean) {
    const now = performance.now()
    if (!force && now - this.#lastFlush < COUNTS_FLUSH_MS) return
    const pending = Object.fromEntries(Object.entries(this.#pending).filter(([, v]) => v > 0))
    this.#pending = {}
    this.#lastFlush = now
    if (Object.keys(pending).length > 0) await this.#run.increment(pending)
  }
}
