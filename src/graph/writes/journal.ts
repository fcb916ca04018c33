import { randomUUID } from 'node:crypto'
import { and, eq, sql } from 'drizzle-orm'
import type { Database, Executor } from '../../db/engine.ts'
import { graphWrites, operationRuns, type GraphWriteRow } from '../../db/schema.ts'
import { uuidv7 } from '../../lib/ids.ts'
import { GraphError, type GraphErrorCode } from '../errors.ts'
import type { GraphClient, WriteMethod } from '../graph-client.ts'
import type { GraphTenantContext } from '../tenant-context.ts'
import { bodyApplied, reconcileByContent, type ContentCheck } from './reconcile.ts'
import { createRequest } from './strategies.ts'

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
 * A row is unique per (run, key): keys name one write of the run, e.g. `{planItem}:create`; and
 * per (tenant, intent) where the writer names the intent across runs (ADR 023): a restore plan
 * item's step for good, a bulk item's change `repeatable` (a later run settles the earlier row,
 * then takes the intent over).
 *
 * Every write carries its content check (`expect`), and may carry its mirror in the inventory,
 * committed in the transaction that confirms it (ADR 023).
 */

export type WriteOperation = 'create' | 'update' | 'assign' | 'delete' | 'action'
export type Transact = <T>(work: (tx: Executor) => Promise<T>) => Promise<T>

/** Whether an intended write reached Graph, and the object it wrote. */
export type Reconciled = { applied: true; targetId: string | null } | { applied: false }

/** What a confirmed write leaves in the app's own tables, run in the transaction that confirms it. */
export type MirrorStep = (tx: Executor) => Promise<void>

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
   * The intended write and content: the content check that settles a sent, unanswered write
   * when Intune's audit log does not show its marker (it lags by minutes, an hour at worst).
   * Required (ADR 023): without it a lost answer would be taken for a write never applied, and
   * the write sent again.
   */
  expect: ContentCheck
  /**
   * What the confirmed write changes in the inventory, prepared once Graph confirmed it (a
   * read-back, say) and run in the transaction that confirms the row: no crash can leave a
   * confirmed write unmirrored.
   */
  mirror?: (targetId: string | null) => Promise<MirrorStep | null>
  /**
   * The intent across runs (a plan item's step): one row per tenant and intent, so a second
   * run of the same intent finds the first one's row and never sends it again.
   */
  intent?: string
  /**
   * The intent may be carried out again by a later run (bulk: the same selection and action
   * started again), once the earlier run has ended (ADR 023): the earlier row is settled first —
   * sent and never answered, it is reconciled against Graph (applied: this write is not sent) —
   * then the intent passes to this run's row. A create whose earlier object Graph still holds
   * with the intended content is not repeated (the object is adopted); any other settled write
   * is sent again (the caller's fresh read found its change missing). Without it (restore), the
   * earlier row decides for good.
   */
  repeatable?: boolean
}

export type WriteOutcome = {
  /** `written`: sent and answered now; `reconciled`: an earlier send was found applied; `already`: confirmed before. */
  how: 'written' | 'reconciled' | 'already'
  targetId: string | null
  entry: GraphWriteRow
  /** The earlier run whose send this write settled or whose object it adopted (a repeatable intent), if any. */
  settledFrom?: string
}

/** How many times one write may be sent when each send's outcome is unknown and reconciliation finds it not applied. */
const MAX_SENDS = 4

export class WriteJournal {
  readonly tenantId: string
  readonly runId: string
  readonly #transact: Transact
  readonly #graph: GraphClient
  readonly #ctx: GraphTenantContext
  readonly #reconcile: (entry: GraphWriteRow, expect: ContentCheck) => Promise<Reconciled>
  /** Objects this journal's creates own (written or adopted): a create's content check never adopts one twice. */
  readonly #owned = new Set<string>()
  readonly #rows = new Map<string, GraphWriteRow>()
  #loaded = false

  /**
   * `transact` runs the journal's statements: pass a run's fenced transaction
   * (`(work) => run.transaction(work)`) so a worker that lost its run cannot settle rows.
   * `graph` + `ctx` give the default reconciliation (the audit log, by marker).
   */
  constructor(options: {
    tenantId: string
    runId: string
    db?: Database
    transact?: Transact
    graph: GraphClient
    ctx: GraphTenantContext
  }) {
    this.tenantId = options.tenantId
    this.runId = options.runId
    const db = options.db
    this.#transact =
      options.transact ??
      (<T>(work: (tx: Executor) => Promise<T>) =>
        db ? db.transaction(work) : Promise.reject(new Error('WriteJournal needs db or transact')))
    const { graph, ctx } = options
    this.#graph = graph
    this.#ctx = ctx
    this.#reconcile = async (entry, expect) => {
      const byMarker = await reconcileByMarker(graph, ctx, entry)
      if (byMarker.applied) return byMarker
      return reconcileByContent(graph, ctx, expect, entry, await this.#ownedIds())
    }
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
    for (const row of (await this.entries()).values())
      if (row.operation === 'create' && row.state === 'confirmed' && row.targetId) this.#owned.add(row.targetId)
    return this.#owned
  }

  async get(key: string): Promise<GraphWriteRow | undefined> {
    return (await this.entries()).get(key)
  }

  /** The tenant's row that holds `intent` now (this run's or an earlier run's), if any. */
  async byIntent(intent: string): Promise<GraphWriteRow | undefined> {
    const [row] = await this.#transact((tx) =>
      tx
        .select()
        .from(graphWrites)
        .where(and(eq(graphWrites.tenantId, this.tenantId), eq(graphWrites.intent, intent))),
    )
    return row
  }

  /**
   * Records the intent (committed before the write is sent). An existing row for the key, or
   * for the intent in an earlier run of the tenant, is returned as it is (`inserted` false).
   * `sending`: the row is recorded as sent once already (saves a round trip when the caller
   * sends right away).
   */
  async intend(
    key: string,
    spec: Omit<WriteSpec, 'send' | 'expect' | 'mirror'>,
    options: { sending?: boolean } = {},
  ): Promise<GraphWriteRow> {
    return (await this.#intend(key, spec, options)).row
  }

  async #intend(
    key: string,
    spec: Omit<WriteSpec, 'send' | 'expect' | 'mirror'>,
    options: { sending?: boolean },
  ): Promise<{ row: GraphWriteRow; inserted: boolean }> {
    const existing = await this.get(key)
    if (existing) return { row: existing, inserted: false }
    const found = await this.#transact(async (tx) => {
      const [inserted] = await tx
        .insert(graphWrites)
        .values({
          id: uuidv7(),
          tenantId: this.tenantId,
          runId: this.runId,
          key,
          intent: spec.intent ?? null,
          operation: spec.operation,
          policyType: spec.policyType,
          targetId: spec.targetId,
          method: spec.method,
          path: spec.path.slice(0, 2000),
          marker: randomUUID(),
          attempts: options.sending ? 1 : 0,
        })
        .onConflictDoNothing()
        .returning()
      if (inserted) return { row: inserted, inserted: true }
      const [same] = await tx
        .select()
        .from(graphWrites)
        .where(and(eq(graphWrites.runId, this.runId), eq(graphWrites.key, key)))
      if (same) return { row: same, inserted: false }
      // Another run of the same intent wrote (or is writing) it: its row decides.
      const [earlier] = spec.intent
        ? await tx
            .select()
            .from(graphWrites)
            .where(and(eq(graphWrites.tenantId, this.tenantId), eq(graphWrites.intent, spec.intent)))
        : []
      if (!earlier) throw new Error(`WriteJournal: ${key} could not be recorded`)
      return { row: earlier, inserted: false }
    })
    if (found.row.runId === this.runId) this.#rows.set(key, found.row)
    return found
  }

  async #update(row: GraphWriteRow, set: Partial<GraphWriteRow>): Promise<GraphWriteRow> {
    const updated = await this.#transact(async (tx) => {
      const [r] = await tx
        .update(graphWrites)
        .set({ ...set, updatedAt: sql`now()` })
        .where(eq(graphWrites.id, row.id))
        .returning()
      return r!
    })
    if (updated.runId === this.runId) this.#rows.set(updated.key, updated)
    return updated
  }

  /** Before a send: a new marker when an earlier send was found not applied, and the send counted. */
  async sending(row: GraphWriteRow, options: { newMarker: boolean }): Promise<GraphWriteRow> {
    return this.#update(row, { attempts: row.attempts + 1, ...(options.newMarker ? { marker: randomUUID() } : {}) })
  }

  /** Settles the row as applied; `step` (the write's mirror in the inventory) commits with it or not at all. */
  async confirm(row: GraphWriteRow, targetId: string | null, step: MirrorStep | null = null): Promise<GraphWriteRow> {
    const set = {
      state: 'confirmed' as const,
      targetId: targetId ?? row.targetId,
      error: null,
      confirmedAt: sql`now()` as unknown as Date,
      updatedAt: sql`now()` as unknown as Date,
    }
    const updated = await this.#transact(async (tx) => {
      if (step) await step(tx)
      const [r] = await tx.update(graphWrites).set(set).where(eq(graphWrites.id, row.id)).returning()
      return r!
    })
    if (updated.runId === this.runId) this.#rows.set(updated.key, updated)
    return updated
  }

  fail(row: GraphWriteRow, error: { code: string; message: string }): Promise<GraphWriteRow> {
    return this.#update(row, { state: 'failed', error: { code: error.code, message: error.message.slice(0, 1000) } })
  }

  /**
   * A repeatable intent (see `WriteSpec.repeatable`) whose row belongs to an earlier run: that
   * run must have ended; its row is settled (reconciled when sent and unanswered), and the intent
   * passes to a row of this run — confirmed when the earlier send was applied or its created
   * object is still there, else fresh (to be sent).
   */
  async #takeOver(
    key: string,
    earlier: GraphWriteRow,
    spec: WriteSpec,
  ): Promise<{ outcome: WriteOutcome } | { row: GraphWriteRow; inserted: boolean }> {
    const [owner] = await this.#transact((tx) =>
      tx.select({ status: operationRuns.status }).from(operationRuns).where(eq(operationRuns.id, earlier.runId)),
    )
    if (owner && owner.status !== 'completed')
      throw new GraphError(
        'write_unknown',
        `Run ${earlier.runId} is still carrying out this same change (${spec.method} ${spec.path}): let it finish, then start again`,
      )
    let applied: Reconciled = { applied: false }
    if (earlier.state === 'intended' && earlier.attempts > 0) {
      applied = await this.#reconcile(earlier, spec.expect)
      if (applied.applied && spec.operation === 'create' && applied.targetId && this.#owned.has(applied.targetId))
        applied = { applied: false }
    } else if (earlier.state === 'confirmed' && spec.operation === 'create') {
      // The object the earlier run created, still there as intended: the same intent, not a second copy.
      const current = earlier.targetId ? await spec.expect.read(earlier.targetId) : null
      const { entry, request } = spec.expect
      if (
        current &&
        !this.#owned.has(earlier.targetId!) &&
        bodyApplied(request.body, createRequest(entry, current).body)
      )
        applied = { applied: true, targetId: earlier.targetId }
    } else if (earlier.state === 'confirmed') {
      // Done before and still so in Graph: not sent again (a change undone since is sent again).
      applied = await reconcileByContent(this.#graph, this.#ctx, spec.expect, {
        targetId: earlier.targetId ?? spec.targetId,
        createdAt: earlier.createdAt,
      })
    }
    const targetId = applied.applied ? (applied.targetId ?? earlier.targetId) : spec.targetId
    if (applied.applied && spec.operation === 'create' && targetId) this.#owned.add(targetId)
    const step = applied.applied && spec.mirror ? await spec.mirror(targetId) : null
    const row = await this.#transact(async (tx) => {
      // The earlier row keeps what happened to it (an unanswered send found applied is confirmed,
      // one found missing failed) and gives up the intent.
      const settled: Partial<GraphWriteRow> =
        earlier.state !== 'intended'
          ? {}
          : applied.applied
            ? { state: 'confirmed', targetId, confirmedAt: sql`now()` as unknown as Date }
            : {
                state: 'failed',
                error: { code: 'not_applied', message: `Not applied in Graph; carried out by run ${this.runId}` },
              }
      await tx
        .update(graphWrites)
        .set({ ...settled, intent: null, updatedAt: sql`now()` })
        .where(eq(graphWrites.id, earlier.id))
      if (step) await step(tx)
      const [inserted] = await tx
        .insert(graphWrites)
        .values({
          id: uuidv7(),
          tenantId: this.tenantId,
          runId: this.runId,
          key,
          intent: spec.intent ?? null,
          operation: spec.operation,
          policyType: spec.policyType,
          targetId,
          method: spec.method,
          path: spec.path.slice(0, 2000),
          marker: randomUUID(),
          attempts: applied.applied ? 0 : 1,
          ...(applied.applied ? { state: 'confirmed' as const, confirmedAt: sql`now()` } : {}),
        })
        .returning()
      return inserted!
    })
    this.#rows.set(key, row)
    if (applied.applied)
      return {
        outcome: {
          how: earlier.state === 'confirmed' ? 'already' : 'reconciled',
          targetId: row.targetId,
          entry: row,
          settledFrom: earlier.runId,
        },
      }
    return { row, inserted: true }
  }

  /**
   * The whole protocol for one write (see the module comment). Throws the GraphError of a
   * refusal (the row `failed`); a row failed earlier throws again without sending.
   */
  async writeOnce(key: string, spec: WriteSpec): Promise<WriteOutcome> {
    // Also at run time: a caller that gets around the type must not get a write without its check.
    if (!spec.expect) throw new Error(`WriteJournal: ${key} has no content check (expect): every write needs one`)
    let intended = await this.#intend(key, spec, { sending: true })
    if (spec.repeatable && intended.row.runId !== this.runId) {
      const taken = await this.#takeOver(key, intended.row, spec)
      if ('outcome' in taken) return taken.outcome
      intended = taken
    }
    let row = intended.row
    if (row.state === 'confirmed') return { how: 'already', targetId: row.targetId, entry: row }
    if (row.state === 'failed')
      throw new GraphError(
        (row.error?.code ?? 'bad_request') as GraphErrorCode,
        row.error?.message ?? 'The write was refused',
      )
    const settle = async (targetId: string | null) =>
      this.confirm(row, targetId, spec.mirror ? await spec.mirror(targetId ?? row.targetId) : null)
    for (let fresh = intended.inserted; ; fresh = false) {
      if (row.attempts > 0 && !fresh) {
        // Sent before, never settled: Graph decides.
        let found = await this.#reconcile(row, spec.expect)
        // Two creates of one content reconciled at once: the second may not adopt the object the first claimed meanwhile.
        if (found.applied && spec.operation === 'create' && found.targetId && this.#owned.has(found.targetId))
          found = { applied: false }
        if (found.applied) {
          if (spec.operation === 'create' && found.targetId) this.#owned.add(found.targetId)
          row = await settle(found.targetId)
          return { how: 'reconciled', targetId: row.targetId, entry: row }
        }
        if (row.attempts >= MAX_SENDS) {
          const error = new GraphError(
            'write_unknown',
            `${spec.method} ${spec.path}: no answer after ${row.attempts} sends, and Graph shows none of them applied`,
          )
          await this.fail(row, error)
          throw error
        }
      }
      if (!fresh) row = await this.sending(row, { newMarker: row.attempts > 0 })
      try {
        const targetId = await spec.send(row.marker)
        if (spec.operation === 'create' && targetId) this.#owned.add(targetId)
        row = await settle(targetId)
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
export async function reconcileByMarker(
  graph: GraphClient,
  ctx: GraphTenantContext,
  entry: Pick<GraphWriteRow, 'marker' | 'targetId'>,
): Promise<Reconciled> {
  const events = await findAuditEvents(graph, ctx, entry.marker)
  if (events.length === 0) return { applied: false }
  const resource = events.find((e) => e.resources?.[0]?.resourceId)?.resources?.[0]?.resourceId
  return { applied: true, targetId: resource ?? entry.targetId }
}

/** Intune audit events carrying `correlationId` = marker. */
export async function findAuditEvents(
  graph: GraphClient,
  ctx: GraphTenantContext,
  marker: string,
): Promise<AuditEvent[]> {
  if (!/^[0-9a-f-]{36}$/i.test(marker)) throw new Error(`Not a marker: ${marker}`)
  const body = await graph.get<{ value?: AuditEvent[] }>(
    ctx,
    `/beta/deviceManagement/auditEvents?$filter=${encodeURIComponent(`correlationId eq '${marker}'`)}&$top=50`,
    {
      permission: 'DeviceManagementApps.Read.All',
      subject: 'Intune audit events',
    },
  )
  return body.value ?? []
}
