import { GraphError } from '../../graph/errors.ts'
import { GraphClient, type GraphObject } from '../../graph/graph-client.ts'
import { GROUP_TYPE, isSkipped, type PolicyTypeEntry } from '../../graph/policy-types.ts'
import { groupListUrl, itemReads, listUrl, objectUrl, quickListUrl } from '../../graph/read-plan.ts'
import type { GraphTenantContext } from '../../graph/tenant-context.ts'
import { createMsalTokenProvider, type TokenProvider } from '../../graph/token-provider.ts'
import type { RunHandler } from '../operations/handlers.ts'
import { RunCancelledError, RunFailureError, RunOwnershipLostError } from '../operations/run-errors.ts'
import { loggableError } from '../../lib/unexpected-error.ts'
import type { RunExecution } from '../operations/run-execution.ts'
import type { SecretBox } from '../../lib/crypto.ts'
import {
  attributeRun,
  AUDIT_OVERLAP_MS,
  AUDIT_PERMISSION,
  type AuditTouches,
  lastCompletedSyncAt,
  readAuditTouches,
} from './attribution.ts'
import { tenantContext } from '../tenants/graph-context.ts'
import { normaliseRead, type NormalisedItem, storableText } from './normalise.ts'
import type { Selection } from './selection.ts'
import { unitsOf } from './selection.ts'
import {
  changedIds,
  completeUnit,
  flagOrphanedGroups,
  lastFullSyncs,
  orphanedGroupIds,
  referencedGroupIds,
  storedContents,
  writePage,
  type PageCounts,
  type UnitScope,
} from './store.ts'

/**
 * The `inventory.sync` handler (ADR 011). Units of work are the selected types, then the
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
  /** A quick sync reads a type in full when its last full read is older than this (default FULL_READ_AFTER_MS). */
  fullReadAfterMs?: number | undefined
}

/** A quick sync's fall-back to a full read of a type: when its last full read is older than a week. */
export const FULL_READ_AFTER_MS = 7 * 24 * 60 * 60 * 1000

export type InventorySyncContext = { selection: Selection }

const SIGN_IN_FAILURES = new Set(['invalid_credentials', 'tenant_not_found', 'app_not_found'])
/** How often a running unit's item counts reach the run row (and the live surfaces). */
const COUNTS_FLUSH_MS = 250
/**
 * Types read at once. Enough to keep the tenant's Graph budget busy (each unit has up to five
 * `$batch` requests of a page in flight), few enough to bound the pages held in memory.
 */
export const UNIT_CONCURRENCY = 8
/** A quick sync's note on a type whose list serves whole objects (ADR 015). */
const LISTED_IN_FULL = 'Listed in full: its list serves whole objects, for the requests of a listing of ids'
/** Group ids per readGroups call: 20 `$batch` requests of 20. */
const GROUP_CHUNK = 400

export function createInventorySyncHandler(deps: InventorySyncDeps): RunHandler {
  const tokens = deps.tokens ?? createMsalTokenProvider()
  const graph = deps.graph ?? new GraphClient({ tokens })
  return async (run) => {
    const ctx = await tenantContext(run, deps)
    await new InventorySync(
      run as RunExecution<InventorySyncContext>,
      graph,
      tokens,
      ctx,
      deps.unitConcurrency ?? UNIT_CONCURRENCY,
      deps.fullReadAfterMs ?? FULL_READ_AFTER_MS,
    ).execute()
  }
}

type UnitCounts = PageCounts & { removed: number }
type UnitPlan = { mode: 'full'; note: string } | { mode: 'quick'; touched: ReadonlySet<string> }

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
  readonly #fullReadAfterMs: number
  /** The audit events since the last sync, read once (quick planning and attribution share them). */
  #audit: Promise<{ touches: AuditTouches } | { error: GraphError }> | undefined

  constructor(
    run: RunExecution<InventorySyncContext>,
    graph: GraphClient,
    tokens: TokenProvider,
    ctx: GraphTenantContext,
    concurrency: number,
    fullReadAfterMs: number,
  ) {
    this.#run = run
    this.#graph = graph
    this.#tokens = tokens
    this.#ctx = ctx
    this.#concurrency = Math.max(1, concurrency)
    this.#fullReadAfterMs = fullReadAfterMs
  }

  #auditSince(since: Date) {
    this.#audit ??= readAuditTouches(this.#graph, this.#ctx, since).then(
      (touches) => ({ touches }),
      (error: unknown) => {
        if (error instanceof GraphError) return { error }
        throw error
      },
    )
    return this.#audit
  }

  /**
   * How each type is read. A full sync reads everything; a quick sync lists cheaply and re-reads
   * what changed, unless the audit log is unreadable (a change without a new lastModifiedDateTime
   * would go unseen), there was no earlier sync, or the type's last full read is too old.
   */
  async #plan(units: readonly PolicyTypeEntry[], lastSync: Date | null): Promise<Map<string, UnitPlan>> {
    const plans = new Map<string, UnitPlan>()
    const mode = this.#run.context.selection.mode ?? 'full'
    if (mode === 'full') return plans
    let blocked: string | undefined
    let touched = new Set<string>()
    if (!lastSync) blocked = 'no earlier sync of this tenant to compare with'
    else {
      const audit = await this.#auditSince(new Date(lastSync.getTime() - AUDIT_OVERLAP_MS))
      if ('error' in audit)
        blocked = `Intune's audit events are not readable (${audit.error.code === 'missing_permission' ? `the app lacks ${AUDIT_PERMISSION}` : audit.error.message})`
      else touched = new Set(audit.touches.keys())
    }
    const fullReads = await lastFullSyncs(this.#run.db, this.#ctx.tenantKey)
    const days = Math.round(this.#fullReadAfterMs / 86_400_000)
    for (const entry of units) {
      if (!entry.listable && entry !== GROUP_TYPE) continue
      const last = fullReads.get(entry.key)
      const note = blocked
        ? `Read in full: ${blocked}`
        : !last
          ? 'Read in full: the type was never read in full'
          : Date.now() - last.getTime() > this.#fullReadAfterMs
            ? `Read in full: its last full read is older than ${days} day${days === 1 ? '' : 's'}`
            : undefined
      plans.set(entry.key, note ? { mode: 'full', note } : { mode: 'quick', touched })
    }
    return plans
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
    // Where this sync's audit events begin: read before any unit records this run as complete.
    const lastSync = await lastCompletedSyncAt(this.#run.db, this.#ctx.tenantKey)
    const plans = await this.#plan(units, lastSync)
    // The types that need the most reads per object first, so the long ones do not start last.
    const queue = units.filter((u) => u.listable).sort((a, b) => readsPerObject(b) - readsPerObject(a))
    const lane = async () => {
      for (let entry = queue.shift(); entry; entry = queue.shift()) {
        const next = entry
        this.#run.throwIfCancelled()
        const plan = plans.get(next.key)
        if (plan?.mode === 'quick')
          await this.#unit(next, (counts) => this.#readQuick(next, counts, plan.touched), {
            mode: 'quick',
            ...(readsPerObject(next) === 0 ? { note: LISTED_IN_FULL } : {}),
          })
        else await this.#unit(next, (counts) => this.#readPages(next, counts), plan)
      }
    }
    await this.#settle(Array.from({ length: Math.min(this.#concurrency, queue.length) }, lane))
    if (units.includes(GROUP_TYPE)) {
      const plan = plans.get(GROUP_TYPE.key)
      const quick = plan?.mode === 'quick'
      await this.#settle([
        this.#unit(
          GROUP_TYPE,
          (counts) => this.#readGroups(counts, quick),
          quick
            ? {
                mode: 'quick',
                note: "Referenced groups were found in the tenant's group listing (renames and deletions included)",
              }
            : plan,
        ),
      ])
    }
    if (this.#signInFailure) throw this.#runFailure(this.#signInFailure)
    if (lastSync) await this.#attribute(new Date(lastSync.getTime() - AUDIT_OVERLAP_MS))
  }

  /**
   * Links the versions this run wrote to the audit events that touched their objects. An audit log
   * the app may not read leaves them unattributed, with one warning that names the permission.
   */
  async #attribute(since: Date) {
    this.#run.throwIfCancelled()
    const audit = await this.#auditSince(since)
    if ('error' in audit) {
      const what = audit.error.code === 'missing_permission' ? `the app lacks ${AUDIT_PERMISSION}` : audit.error.message
      await this.#run.addWarning({
        code: 'audit_events_unreadable',
        message: `Changes are not attributed to who made them: Intune's audit log could not be read (${what}).`,
        subject: 'auditEvents',
      })
      return
    }
    await attributeRun(this.#run.db, { tenantId: this.#ctx.tenantKey, runId: this.#run.run.id }, audit.touches)
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
  async #unit(
    entry: PolicyTypeEntry,
    work: (counts: UnitCounts) => Promise<void>,
    plan?: { mode: 'full' | 'quick'; note?: string },
  ) {
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
      const message =
        e instanceof GraphError
          ? e.message
          : `${entry.label} could not be stored: an unexpected error (logged by the worker for run ${this.#run.run.id})`
      error = { code, message }
      if (!(e instanceof GraphError))
        this.#run.log.error({ err: loggableError(e), unit: entry.key }, 'inventory unit failed')
      // A sign-in failure is the run's failure, recorded once when the run fails.
      if (!signIn) await this.#run.addFailure({ code, message, subject: entry.key })
    }
    await this.#flush(true)
    await this.#run.recordUnit({
      key: entry.key,
      status,
      counts,
      durationMs: performance.now() - started,
      error,
      ...(plan ? { mode: plan.mode, ...(plan.note ? { note: plan.note } : {}) } : {}),
    })
  }

  /** Writes a page; an object the database refuses is reported and kept as it was (it is seen, so never removed). */
  async #write(entry: PolicyTypeEntry, scope: UnitScope, items: NormalisedItem[], counts: UnitCounts) {
    const { rejected, ...pageCounts } = await writePage(this.#run.db, scope, items)
    await this.#count(counts, pageCounts)
    for (const item of rejected) {
      await this.#run.addFailure({
        code: 'unstorable_object',
        // The message is stored too: only text that can be.
        message: storableText(
          `${entry.label} "${item.displayName.slice(0, 200)}" (${item.externalId}) holds a value the database cannot store: its stored copy is kept as it was`,
        ),
        subject: entry.key,
      })
    }
  }

  async #readPages(entry: PolicyTypeEntry, counts: UnitCounts) {
    const scope = this.#scope(entry)
    const seen = new Set<string>()
    for await (const page of this.#graph.pages(this.#ctx, entry)) {
      this.#run.throwIfCancelled()
      await this.#readAndWrite(entry, scope, page.items, counts, seen)
    }
    this.#run.throwIfCancelled()
    await this.#count(counts, { removed: await completeUnit(this.#run.db, scope, seen) })
  }

  /** Reads listed objects in full (their per-object reads), normalises and writes them, and marks them seen. */
  async #readAndWrite(
    entry: PolicyTypeEntry,
    scope: UnitScope,
    listed: readonly GraphObject[],
    counts: UnitCounts,
    seen: Set<string>,
  ) {
    const reads = await this.#graph.readItems(this.#ctx, entry, listed)
    const items: NormalisedItem[] = []
    for (const read of reads) {
      // The same object twice in one listing (Graph paging is no snapshot): counted once.
      if (seen.has(read.item.id)) continue
      if (read.errors.length > 0) {
        // Deleted between the list and its reads (every read 404): not seen, so removed like any other.
        const gone =
          read.errors.every((e) => e.code === 'not_found') && read.errors.length === itemReads(entry, read.item).length
        if (gone) continue
        throw read.errors.find((e) => e.code !== 'not_found') ?? read.errors[0]!
      }
      items.push(normaliseRead(entry, read))
    }
    this.#run.throwIfCancelled()
    await this.#write(entry, scope, items, counts)
    for (const item of items) seen.add(item.externalId)
  }

  /**
   * A quick read of a type. A type whose list serves whole objects (no per-object reads) is listed
   * in full: that costs the same requests as a listing of ids, leaves nothing to re-read and
   * trusts no signal. Otherwise a listing of ids and lastModifiedDateTime; the objects that are
   * new, back, modified since stored, or touched by an audit event are read in full (the object as
   * its list serves it, then its per-object reads); the others are seen without a read or a write.
   * A type without lastModifiedDateTime (scope tags, roles) is listed in full and its objects are
   * compared with what is stored (their per-object reads are redone only for the ones that differ
   * or an audit event touched). Deletions come from the listing, as in a full read.
   */
  async #readQuick(entry: PolicyTypeEntry, counts: UnitCounts, touched: ReadonlySet<string>) {
    // A singleton's listing is its one GET, and a list that serves whole objects leaves nothing to
    // re-read: both are read as a full read does.
    if (entry.singleton || readsPerObject(entry) === 0) return this.#readPages(entry, counts)
    const scope = this.#scope(entry)
    const seen = new Set<string>()
    const url = entry.unstamped ? listUrl(entry) : quickListUrl(entry)
    for await (const value of this.#graph.pagesOf(this.#ctx, url, {
      permission: entry.permission,
      subject: entry.label,
    })) {
      this.#run.throwIfCancelled()
      const listed = value.filter((item) => !isSkipped(entry, item) && !seen.has(item.id))
      const stale = entry.unstamped
        ? await this.#differing(entry, scope, listed)
        : await changedIds(
            this.#run.db,
            scope,
            listed.map((item) => ({
              id: item.id,
              lastModified: typeof item.lastModifiedDateTime === 'string' ? item.lastModifiedDateTime : null,
            })),
          )
      for (const item of listed) if (touched.has(item.id.toLowerCase())) stale.add(item.id)
      let unchanged = 0
      for (const item of listed) {
        if (stale.has(item.id)) continue
        seen.add(item.id)
        unchanged++
      }
      await this.#count(counts, { unchanged })
      const toRead = listed.filter((item) => stale.has(item.id))
      if (toRead.length === 0) continue
      // A full listing already holds the objects; a listing of ids needs them read.
      const full = entry.unstamped ? toRead : await this.#readObjects(entry, toRead)
      await this.#readAndWrite(entry, scope, full, counts, seen)
    }
    this.#run.throwIfCancelled()
    await this.#count(counts, { removed: await completeUnit(this.#run.db, scope, seen, 'quick') })
  }

  /** Listed objects read by id, as their list serves them; the ones deleted since the listing are left out. */
  async #readObjects(entry: PolicyTypeEntry, listed: readonly GraphObject[]): Promise<GraphObject[]> {
    const objects = await this.#graph.batch(
      this.#ctx,
      listed.map((item) => objectUrl(entry, item)),
      { permission: entry.permission, subject: entry.label },
    )
    const full: GraphObject[] = []
    for (const result of objects) {
      // Deleted since the listing: not seen, so removed like any other.
      if (result.error?.code === 'not_found') continue
      if (result.error) throw result.error
      const { '@odata.context': _context, ...body } = result.body as GraphObject
      if (!isSkipped(entry, body)) full.push(body)
    }
    return full
  }

  /**
   * Of fully listed objects, the ids whose content differs from what is stored, taking the stored
   * assignments and per-object details as they are (what only those reads would show is the audit
   * log's to tell): new, back after a removal, or another hash.
   */
  async #differing(entry: PolicyTypeEntry, scope: UnitScope, listed: readonly GraphObject[]): Promise<Set<string>> {
    const stored = await storedContents(
      this.#run.db,
      scope,
      listed.map((item) => item.id),
    )
    const differing = new Set<string>()
    for (const item of listed) {
      const row = stored.get(item.id)
      if (!row || row.removed) {
        differing.add(item.id)
        continue
      }
      const details = Object.fromEntries(
        entry.details.filter((d) => d.via !== 'list').map((d) => [d.name, row.payload[d.name] ?? []]),
      )
      if (
        normaliseRead(entry, { item, assignments: entry.assignments ? row.assignments : null, details }).contentHash !==
        row.contentHash
      )
        differing.add(item.id)
    }
    return differing
  }

  /**
   * The groups unit: the Entra groups the inventory references. A full read reads each by id. A
   * quick read lists the tenant's groups instead (999 a page, stopping once every referenced group
   * is found): a request per 999 groups rather than one per referenced group, and renames are seen
   * (Intune's audit log does not cover Entra groups). Referenced groups the listing did not show
   * are deleted: those already known so stay so, the others are read by id (a 404 says so).
   */
  async #readGroups(counts: UnitCounts, quick = false) {
    const scope = this.#scope(GROUP_TYPE)
    const referenced = await referencedGroupIds(this.#run.db, this.#ctx.tenantKey)
    const seen = new Set<string>()
    const deleted: string[] = []
    let ids = referenced
    if (quick && referenced.length > 0) {
      const wanted = new Map(referenced.map((id) => [id.toLowerCase(), id]))
      for await (const page of this.#graph.pagesOf(this.#ctx, groupListUrl(), {
        permission: GROUP_TYPE.permission,
        subject: GROUP_TYPE.label,
      })) {
        this.#run.throwIfCancelled()
        const found = page.filter((group) => typeof group.id === 'string' && wanted.delete(group.id.toLowerCase()))
        const items = found.map((group) => normaliseRead(GROUP_TYPE, { item: group, assignments: null, details: {} }))
        await this.#write(GROUP_TYPE, scope, items, counts)
        for (const item of items) seen.add(item.externalId)
        if (wanted.size === 0) break
      }
      // Not listed: deleted. The ones known to be deleted stay so (a restored group is listed
      // again); the others are read by id, where a 404 says so (a new group may lag the listing).
      const missing = [...wanted.values()]
      const known = await orphanedGroupIds(this.#run.db, this.#ctx.tenantKey, missing)
      deleted.push(...known)
      ids = missing.filter((id) => !known.has(id))
    }
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
    await flagOrphanedGroups(this.#run.db, scope, deleted, referenced)
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
