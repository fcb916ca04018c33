import { randomUUID } from 'node:crypto'
import { and, eq, sql } from 'drizzle-orm'
import type { Database, Executor } from '../../db/engine.ts'
import { graphWrites, type GraphWriteRow } from '../../db/schema.ts'
import { uuidv7 } from '../../lib/ids.ts'
import { GraphError, type GraphErrorCode } from '../errors.ts'
import type { GraphClient, WriteMethod } from '../graph-client.ts'
import type { GraphTenantContext } from '../tenant-context.ts'
import { reconcileByContent, type ContentCheck } from './reconcile.ts'

/**
 * Exactly-once Graph writes (ADR 019): intend → write → confirm, and reconcile before any retry.
 *
 * 1. `intend`: a `graph_writes` row (state `intended`, a fresh marker) is committed before
 *    anything is sent.
 * 2. The write is sent with the marker as its `client-request-id`; Intune's audit log keeps it as
 *    the event's `correlationId`, so Graph can say afterwards whether the write was applied.
 * 3. Graph's answer settles the row: `confirmed` (with the object id) or `failed` (a refusal).
 * 4. A row found `intended` (the answer was lost, the worker was killed, the run re-queued) is
 *    reconciled first: the audit log is searched for the marker, then (the log lags by minutes)
 *    Graph's objects are compared with the intended write (`expect`, reconcile.ts: a created
 *    object by name and content, an updated one by content, a deleted one by 404). Applied → `confirmed` without sending; not
 *    applied → sent again, with a new marker (the old one stays findable for nobody).
 *
 * A row is unique per (run, key): keys name one write of the run, e.g. `{planItem}:create`.
 */

export type WriteOperation = 'create' | 'update' | 'assign' | 'delete' | 'action'
export type Transact = <T>(work: (tx: Executor) => Promise<T>) => Promise<T>

/** Whether an intended write reached Graph, and the object it wrote. */
export type Reconciled = { applied: true; targetId: string | null } | { applied: false }

export type WriteSpec = {
  operation: WriteOperation
  policyType: string
  /** The object written (null for a create: Graph names it). */
  targetId: string | null
  method: WriteMethod
  /** The request URL (relative), kept for people reading the journal; bodies are not kept (they may hold secrets). */
  path: string
  /**
   * Sends the write with `marker` as its client-request-id and returns the id of the object
   * written (for a create, the new object's id from Graph's answer).
   */
  send: (marker: string) => Promise<string | null>
  /**
   * For an `intended` row: was it applied? Called with the row (its marker, its target). Default:
   * the audit log by marker (reconcileByMarker) when the journal was given a Graph client, then,
   * when the log shows nothing, Graph's objects compared with `expect` (reconcileByContent).
   */
  reconcile?: (entry: GraphWriteRow) => Promise<Reconciled>
  /**
   * The intended write and content, for the default reconcile's second check: Intune's audit log
   * lags by minutes, so a marker not found there does not prove the write was not applied.
   * Without it, a marker not found means not applied.
   */
  expect?: ContentCheck
}

export type WriteOutcome = {
  /** `written`: sent and answered now; `reconciled`: an earlier send was found applied; `already`: confirmed before. */
  how: 'written' | 'reconciled' | 'already'
  targetId: string | null
  entry: GraphWriteRow
}

/** How many times one write may be sent when each send's outcome is unknown and reconciliation finds it not applied. */
const MAX_SENDS = 4

export class WriteJournal {
  readonly tenantId: string
  readonly runId: string
  readonly #transact: Transact
  readonly #reconcile: ((entry: GraphWriteRow, expect: ContentCheck | undefined) => Promise<Reconciled>) | undefined
  /** Objects this journal's creates own (written or adopted): a create's content check never adopts one twice. */
  readonly #owned = new Set<string>()
  readonly #rows = new Map<string, GraphWriteRow>()
  #loaded = false

  /**
   * `transact` runs the journal's statements: pass a run's fenced transaction
   * (`(work) => run.transaction(work)`) so a worker that lost its run cannot settle rows.
   * `graph` + `ctx` give the default reconciliation (the audit log, by marker).
   */
  constructor(options: { tenantId: string; runId: string; db?: Database; transact?: Transact; graph?: GraphClient; ctx?: GraphTenantContext }) {
    this.tenantId = options.tenantId
    this.runId = options.runId
    const db = options.db
    this.#transact = options.transact ?? (<T>(work: (tx: Executor) => Promise<T>) => (db ? db.transaction(work) : Promise.reject(new Error('WriteJournal needs db or transact'))))
    const { graph, ctx } = options
    this.#reconcile =
      graph && ctx
        ? async (entry, expect) => {
            const byMarker = await reconcileByMarker(graph, ctx, entry)
            if (byMarker.applied || !expect) return byMarker
            return reconcileByContent(graph, ctx, expect, entry, await this.#ownedIds())
          }
        : undefined
  }

  /** Every row of the run, by key (loaded once; a re-queued attempt starts from what its predecessor journaled). */
  async entries(): Promise<ReadonlyMap<string, GraphWriteRow>> {
    if (!this.#loaded) {
      const rows = await this.#transact((tx) => tx.select().from(graphWrites).where(eq(graphWrites.runId, this.runId)))
      for (const row of rows) this.#rows.set(row.key, row)
      this.#loaded = true
    }
    return this.#rows
  }

  /** Objects created by confirmed creates of the run, and those claimed by reconciles in flight. */
  async #ownedIds(): Promise<ReadonlySet<string>> {
    for (const row of (await this.entries()).values()) if (row.operation === 'create' && row.state === 'confirmed' && row.targetId) this.#owned.add(row.targetId)
    return this.#owned
  }

  async get(key: string): Promise<GraphWriteRow | undefined> {
    return (await this.entries()).get(key)
  }

  /**
   * Records the intent (committed before the write is sent). An existing row for the key is
   * returned as it is. `sending`: the row is recorded as sent once already (saves a round trip
   * when the caller sends right away).
   */
  async intend(key: string, spec: Omit<WriteSpec, 'send' | 'reconcile'>, options: { sending?: boolean } = {}): Promise<GraphWriteRow> {
    const existing = await this.get(key)
    if (existing) return existing
    const row = await this.#transact(async (tx) => {
      const [inserted] = await tx
        .insert(graphWrites)
        .values({ id: uuidv7(), tenantId: this.tenantId, runId: this.runId, key, operation: spec.operation, policyType: spec.policyType, targetId: spec.targetId, method: spec.method, path: spec.path.slice(0, 2000), marker: randomUUID(), attempts: options.sending ? 1 : 0 })
        .onConflictDoNothing({ target: [graphWrites.runId, graphWrites.key] })
        .returning()
      if (inserted) return inserted
      const [found] = await tx.select().from(graphWrites).where(and(eq(graphWrites.runId, this.runId), eq(graphWrites.key, key)))
      return found!
    })
    this.#rows.set(key, row)
    return row
  }

  async #update(row: GraphWriteRow, set: Partial<GraphWriteRow>): Promise<GraphWriteRow> {
    const updated = await this.#transact(async (tx) => {
      const [r] = await tx.update(graphWrites).set({ ...set, updatedAt: sql`now()` }).where(eq(graphWrites.id, row.id)).returning()
      return r!
    })
    this.#rows.set(updated.key, updated)
    return updated
  }

  /** Before a send: a new marker when an earlier send was found not applied, and the send counted. */
  async sending(row: GraphWriteRow, options: { newMarker: boolean }): Promise<GraphWriteRow> {
    return this.#update(row, { attempts: row.attempts + 1, ...(options.newMarker ? { marker: randomUUID() } : {}) })
  }

  confirm(row: GraphWriteRow, targetId: string | null): Promise<GraphWriteRow> {
    return this.#update(row, { state: 'confirmed', targetId: targetId ?? row.targetId, error: null, confirmedAt: sql`now()` as unknown as Date })
  }

  fail(row: GraphWriteRow, error: { code: string; message: string }): Promise<GraphWriteRow> {
    return this.#update(row, { state: 'failed', error: { code: error.code, message: error.message.slice(0, 1000) } })
  }

  /**
   * The whole protocol for one write (see the module comment). Throws the GraphError of a
   * refusal (the row `failed`); a row failed earlier throws again without sending.
   */
  async writeOnce(key: string, spec: WriteSpec): Promise<WriteOutcome> {
    const known = await this.get(key)
    let row = known ?? (await this.intend(key, spec, { sending: true }))
    if (row.state === 'confirmed') return { how: 'already', targetId: row.targetId, entry: row }
    if (row.state === 'failed') throw new GraphError((row.error?.code ?? 'bad_request') as GraphErrorCode, row.error?.message ?? 'The write was refused')
    const reconcile = spec.reconcile ?? (this.#reconcile ? (entry: GraphWriteRow) => this.#reconcile!(entry, spec.expect) : undefined)
    for (let fresh = !known; ; fresh = false) {
      if (row.attempts > 0 && !fresh) {
        // Sent before, never settled: Graph decides.
        if (!reconcile) throw new Error(`WriteJournal: ${key} was sent before and cannot be reconciled (no reconcile function)`)
        let found = await reconcile(row)
        // Two creates of one content reconciled at once: the second may not adopt the object the first claimed meanwhile.
        if (found.applied && spec.operation === 'create' && !spec.reconcile && found.targetId && this.#owned.has(found.targetId)) found = { applied: false }
        if (found.applied) {
          if (spec.operation === 'create' && found.targetId) this.#owned.add(found.targetId)
          row = await this.confirm(row, found.targetId)
          return { how: 'reconciled', targetId: row.targetId, entry: row }
        }
        if (row.attempts >= MAX_SENDS) {
          const error = new GraphError('write_unknown', `${spec.method} ${spec.path}: no answer after ${row.attempts} sends, and Graph shows none of them applied`)
          await this.fail(row, error)
          throw error
        }
      }
      if (!fresh) row = await this.sending(row, { newMarker: row.attempts > 0 })
      try {
        const targetId = await spec.send(row.marker)
        if (spec.operation === 'create' && targetId) this.#owned.add(targetId)
        row = await this.confirm(row, targetId)
        return { how: 'written', targetId: row.targetId, entry: row }
      } catch (error) {
        if (error instanceof GraphError && error.code === 'write_unknown') continue
        if (error instanceof GraphError) {
          await this.fail(row, error)
          throw error
        }
        // Anything else (the run was cancelled mid-send, the process is stopping): the row stays
        // `intended` and is reconciled by whoever looks at it next.
        throw error
      }
    }
  }
}

type AuditEvent = { activityOperationType?: string; activityDateTime?: string; resources?: { resourceId?: string }[] }

/**
 * Whether Graph applied a write, from Intune's audit log: an event whose `correlationId` is the
 * write's marker (its client-request-id) exists exactly when the write was applied. Returns the
 * resource the event names (a create's new object).
 */
export async function reconcileByMarker(graph: GraphClient, ctx: GraphTenantContext, entry: Pick<GraphWriteRow, 'marker' | 'targetId'>): Promise<Reconciled> {
  const events = await findAuditEvents(graph, ctx, entry.marker)
  if (events.length === 0) return { applied: false }
  const resource = events.find((e) => e.resources?.[0]?.resourceId)?.resources?.[0]?.resourceId
  return { applied: true, targetId: resource ?? entry.targetId }
}

/** Intune audit events carrying `correlationId` = marker. */
export async function findAuditEvents(graph: GraphClient, ctx: GraphTenantContext, marker: string): Promise<AuditEvent[]> {
  if (!/^[0-9a-f-]{36}$/i.test(marker)) throw new Error(`Not a marker: ${marker}`)
  const body = await graph.get<{ value?: AuditEvent[] }>(ctx, `/beta/deviceManagement/auditEvents?$filter=${encodeURIComponent(`correlationId eq '${marker}'`)}&$top=50`, {
    permission: 'DeviceManagementApps.Read.All',
    subject: 'Intune audit events',
  })
  return body.value ?? []
}
