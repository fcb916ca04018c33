import { GraphError } from '../../graph/errors.ts'
import type { GraphClient, GraphObject } from '../../graph/graph-client.ts'
import { singletonItem, type PolicyTypeEntry } from '../../graph/policy-types.ts'
import { objectUrl } from '../../graph/read-plan.ts'
import type { GraphTenantContext } from '../../graph/tenant-context.ts'
import type { TokenProvider } from '../../graph/token-provider.ts'
import {
  sendWrite,
  WriteJournal,
  type ObjectContent,
  type WriteOperation,
  type WriteOutcome,
  type WriteRequest,
} from '../../graph/writes/index.ts'
import { eq } from 'drizzle-orm'
import { users, type ChangedBy } from '../../db/schema.ts'
import type { SecretBox } from '../../lib/crypto.ts'
import { normaliseRead, type NormalisedItem } from '../inventory/normalise.ts'
import { mirrorWrite } from '../inventory/store.ts'
import { tenantContext } from '../tenants/graph-context.ts'
import { RunFailureError } from '../operations/run-errors.ts'
import type { RunExecution } from '../operations/run-execution.ts'

/**
 * The one tenant-object pipeline (ADR 023): what every writer of a tenant's objects (restore,
 * bulk operations, Undo) uses, so none re-implements it:
 * - openSession: the tenant's Graph context and token, once per run, and the run's write journal;
 * - readObjects / readObject: objects read exactly as a full sync reads them (the list's
 *   `$expand`s, the per-object reads, singletons named as the inventory names them), normalised;
 * - writeObject: one write through the journal, always with its content check, and its mirror in
 *   the inventory (the object read back, or marked removed) committed with the confirmation.
 * The backup before a change is modules/backups/snapshot.ts.
 */

export type SessionDeps = { secrets: SecretBox; emulatorUrl: string | undefined }

export type TenantSession = {
  graph: GraphClient
  ctx: GraphTenantContext
  journal: WriteJournal
  run: RunExecution
  /** Who the run's writes are attributed to in the inventory's versions and changes. */
  author: { activity: string; initiatedBy: string | null }
}

/** Opens the run's tenant: its Graph context, a token (a refused one fails the run), the run's journal. */
export async function openSession(
  run: RunExecution,
  graph: GraphClient,
  tokens: TokenProvider,
  deps: SessionDeps,
  options: { activity?: string } = {},
): Promise<TenantSession> {
  const ctx = await tenantContext(run, deps)
  try {
    await tokens.getToken(ctx)
  } catch (error) {
    throw error instanceof GraphError ? new RunFailureError(error.code, error.message) : error
  }
  const journal = new WriteJournal({
    tenantId: run.run.tenantId,
    runId: run.run.id,
    transact: (work) => run.transaction(work),
    graph,
    ctx,
  })
  const initiator = run.run.initiatorUserId
    ? await run.db
        .select({ email: users.email })
        .from(users)
        .where(eq(users.id, run.run.initiatorUserId))
        .then((rows) => rows[0]?.email ?? null)
    : null
  return { graph, ctx, journal, run, author: { activity: options.activity ?? run.run.type, initiatedBy: initiator } }
}

/** A TenantAtlas run's writes as the versions and changes name their author (issue 24). */
const changedByOf = (session: TenantSession): ChangedBy => ({
  app_name: 'TenantAtlas',
  activity: session.author.activity,
  at: new Date().toISOString(),
  run_id: session.run.run.id,
  initiated_by: session.author.initiatedBy,
})

/** An object to read: its id and the `@odata.type` that says where a polymorphic object lives. */
export type ObjectRef = { id: string; odataType?: unknown }

/**
 * Objects of one type read as a full read returns them (in `$batch`es), normalised: by id, the
 * object, or the GraphError its read ended with (`not_found` when Graph no longer has it).
 */
export async function readObjects(
  graph: GraphClient,
  ctx: GraphTenantContext,
  entry: PolicyTypeEntry,
  refs: readonly ObjectRef[],
): Promise<Map<string, NormalisedItem | GraphError>> {
  const out = new Map<string, NormalisedItem | GraphError>()
  if (refs.length === 0) return out
  const urls = refs.map((ref) => objectUrl(entry, { id: ref.id, '@odata.type': ref.odataType }))
  const results = await graph.batch(ctx, urls, { permission: entry.permission, subject: entry.label })
  const objects: GraphObject[] = []
  for (const [i, result] of results.entries()) {
    const id = refs[i]!.id
    if (result.error) {
      out.set(id, result.error)
      continue
    }
    const { '@odata.context': _context, ...body } = result.body as GraphObject
    // A singleton answers without the inventory's id (or none at all): named as a full read names it.
    const object = entry.singleton ? singletonItem(entry, body) : body
    if (object) objects.push(object)
    else out.set(id, new GraphError('not_found', `${entry.label} ${id} is not in the tenant`))
  }
  for (const read of await graph.readItems(ctx, entry, objects)) {
    const error = read.errors.find((e) => e.code !== 'not_found') ?? read.errors[0]
    out.set(read.item.id, error ?? normaliseRead(entry, read))
  }
  return out
}

/** One object as a full read returns it; null when Graph answers 404. Other errors are thrown. */
export async function readObject(
  graph: GraphClient,
  ctx: GraphTenantContext,
  entry: PolicyTypeEntry,
  ref: ObjectRef,
): Promise<NormalisedItem | null> {
  const read = (await readObjects(graph, ctx, entry, [ref])).get(entry.singleton ? entry.singleton.id : ref.id)
  if (read instanceof GraphError) {
    if (read.code === 'not_found') return null
    throw read
  }
  return read ?? null
}

export type ObjectWrite = {
  /** The journal key: one write of the run (stable across the run's attempts). */
  key: string
  /** The write's intent across runs (a restore plan item's step, a bulk item's change), when the writer has one. */
  intent?: string
  /** A later run may carry the intent out again once this one is settled (bulk; see `WriteSpec.repeatable`). */
  repeatable?: boolean
  entry: PolicyTypeEntry
  operation: WriteOperation
  request: WriteRequest
  /** The object written; null for a create. */
  targetId: string | null
  /** The whole object as this write (and those of the object before it) should leave it: the content check. */
  content: ObjectContent
  /**
   * Whether this write mirrors the object in the inventory when it is confirmed: the last write
   * of an object does (read back, or marked removed for a delete); earlier ones need not.
   */
  mirror: boolean
  /** The change history's kind for what the write changes: `restored` for a restore's. */
  history?: 'restored'
  /** A create of a deleted object: the removed inventory item whose history the new object continues. */
  continues?: string
}

/** One write of one object: exactly once through the journal, checked by content, mirrored in the inventory with its confirmation. */
export async function writeObject(session: TenantSession, write: ObjectWrite): Promise<WriteOutcome> {
  const { graph, ctx, run } = session
  const { entry, request, targetId, content } = write
  const odataType = content.payload['@odata.type']
  const read = async (id: string): Promise<ObjectContent | null> => {
    const current = await readObject(graph, ctx, entry, { id, odataType })
    return current ? { payload: current.payload, assignments: current.assignments } : null
  }
  const scope = () => ({
    tenantId: run.run.tenantId,
    runId: run.run.id,
    attempt: run.attempt,
    entry,
    changedBy: changedByOf(session),
  })
  return session.journal.writeOnce(write.key, {
    operation: write.operation,
    policyType: entry.key,
    targetId,
    method: request.method,
    path: request.url,
    intent: write.intent,
    repeatable: write.repeatable,
    expect: { entry, request, content, read },
    send: (marker) => sendWrite(graph, ctx, entry, request, marker, targetId),
    mirror: write.mirror
      ? async (id) => {
          if (!id) return null
          if (write.operation === 'delete') return (tx) => mirrorWrite(tx, scope(), { removed: [id] })
          // Read back as Graph holds it now; gone meanwhile (someone deleted it): marked removed.
          // A read that fails does not undo the write: the next sync mirrors it.
          const after = await readObject(graph, ctx, entry, { id, odataType }).catch((error: unknown) => {
            if (error instanceof GraphError) return undefined
            throw error
          })
          if (after === undefined) return null
          return (tx) =>
            mirrorWrite(tx, scope(), after ? { present: [after] } : { removed: [id] }, {
              history: write.history,
              continues: write.continues,
            })
        }
      : undefined,
  })
}
