import type { GraphWriteRow } from '../../db/schema.ts'
import { canonicalJson, normaliseValue } from '../../lib/canonical.ts'
import { GraphError } from '../errors.ts'
import type { GraphClient, GraphObject } from '../graph-client.ts'
import type { PolicyTypeEntry } from '../policy-types.ts'
import type { GraphTenantContext } from '../tenant-context.ts'
import { assignRequest, createRequest, updateRequests, type ObjectContent, type WriteRequest } from './strategies.ts'

/**
 * The journal's second check (ADR 019): whether an unsettled write was applied, read from Graph's
 * objects themselves, for when Intune's audit log does not show its marker (yet: the log lags by
 * minutes). The intended write is compared with the request the same strategy would build from
 * what Graph holds now, so both sides are normalised alike:
 * - a create: the collection's objects of the intended name (`$filter` on the type's name
 *   property, else the whole listing), created at or after the intent (less CLOCK_SKEW_MS), not
 *   yet adopted by another write of the run, whose create request would equal the intended one;
 * - an update, replace or assign: the object's current content gives the same request body
 *   (every property the intended body names equal); Administrative template values: the
 *   definitions the write adds or changes hold the intended values;
 * - a delete: Graph answers 404 for the object.
 * Bodies stay in memory: the caller passes the intended request again (the journal keeps none).
 */

/** What a write meant to do, for the content check. */
export type ContentCheck = {
  entry: PolicyTypeEntry
  /** The intended request (as sent: same strategy, same content). */
  request: WriteRequest
  /** The whole object as the write (and those before it) should leave it. */
  content: ObjectContent
  /** A full read of an object by id (properties, detail collections, assignments), normalised as the inventory keeps it; null when Graph answers 404. */
  read: (id: string) => Promise<ObjectContent | null>
}

export type ContentReconciled = { applied: true; targetId: string | null } | { applied: false }

/** How far Graph's clock may run behind ours: a create is looked for from this long before its intent. */
export const CLOCK_SKEW_MS = 60_000

const same = (a: unknown, b: unknown) => canonicalJson(normaliseValue(a)) === canonicalJson(normaliseValue(b))
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** An assignment as compared: its target (without empty values and the filter type `none`) and its intent. */
function assignmentTarget(assignment: unknown): unknown {
  if (!isObject(assignment)) return assignment
  const target = isObject(assignment.target) ? assignment.target : {}
  const kept = Object.entries(target).filter(
    ([k, v]) => v !== null && v !== undefined && !(k === 'deviceAndAppManagementAssignmentFilterType' && v === 'none'),
  )
  return { target: Object.fromEntries(kept), intent: assignment.intent ?? null }
}

/** Every property the intended body names has the same value in `actual` (the service may add others). */
export function bodyApplied(intended: unknown, actual: unknown): boolean {
  if (!isObject(intended) || !isObject(actual)) return same(intended, actual)
  return Object.keys(intended).every((k) => same(intended[k], actual[k]))
}

/** Whether the write `row` (sent, unsettled) is visible in Graph's objects. `adopted`: objects other writes of the run already own. */
export async function reconcileByContent(
  graph: GraphClient,
  ctx: GraphTenantContext,
  check: ContentCheck,
  row: Pick<GraphWriteRow, 'targetId' | 'createdAt'>,
  adopted: ReadonlySet<string> = new Set(),
): Promise<ContentReconciled> {
  const { entry, request, content } = check
  if (request.method === 'DELETE') {
    if (!row.targetId) return { applied: false }
    return (await check.read(row.targetId)) === null ? { applied: true, targetId: row.targetId } : { applied: false }
  }
  if (request.method === 'POST' && request.label === 'create') {
    const name = isObject(request.body) ? request.body[entry.nameProperty] : undefined
    if (typeof name !== 'string') return { applied: false }
    const since = new Date(row.createdAt).getTime() - CLOCK_SKEW_MS
    for (const candidate of await objectsNamed(graph, ctx, entry, request.url, name)) {
      const id = typeof candidate.id === 'string' ? candidate.id : String(candidate.id ?? '')
      if (!id || adopted.has(id)) continue
      const created = typeof candidate.createdDateTime === 'string' ? Date.parse(candidate.createdDateTime) : Number.NaN
      if (!Number.isNaN(created) && created < since) continue
      const current = await check.read(id)
      if (current && bodyApplied(request.body, createRequest(entry, current).body))
        return { applied: true, targetId: id }
    }
    return { applied: false }
  }
  if (!row.targetId) return { applied: false }
  const current = await check.read(row.targetId)
  if (!current) return { applied: false }
  if (request.label === 'assign') {
    // The set of targets decides: Graph adds its own fields (ids, source) to what /assign took.
    const now = assignRequest(entry, row.targetId, current.payload, current.assignments)
    const targets = (body: unknown) =>
      isObject(body) ? Object.values(body).flatMap((v) => (Array.isArray(v) ? v.map(assignmentTarget) : [])) : []
    return now && same(targets(request.body), targets(now.body))
      ? { applied: true, targetId: row.targetId }
      : { applied: false }
  }
  if (request.method === 'PATCH') {
    // Every property the PATCH names holds its value (whatever else the object holds).
    return bodyApplied(request.body, current.payload) ? { applied: true, targetId: row.targetId } : { applied: false }
  }
  if (request.label === 'set definition values') {
    // Applied when nothing of the intended values is left to add or delete, and the values it
    // would update already hold what it would write.
    type Values = { added?: unknown[]; updated?: { id?: unknown }[]; deletedIds?: unknown[] }
    const values = (desired: ObjectContent) =>
      updateRequests(entry, row.targetId!, desired, current).find((r) => r.label === request.label)?.body as
        Values | undefined
    const rest = values(content)
    if (!rest) return { applied: true, targetId: row.targetId }
    if ((rest.added?.length ?? 0) + (rest.deletedIds?.length ?? 0) > 0) return { applied: false }
    const held = new Map((values(current)?.updated ?? []).map((u) => [u.id, u]))
    return (rest.updated ?? []).every((u) => same(u, held.get(u.id)))
      ? { applied: true, targetId: row.targetId }
      : { applied: false }
  }
  const now = updateRequests(entry, row.targetId, current, current).find((r) => r.label === request.label)
  return now && bodyApplied(request.body, now.body) ? { applied: true, targetId: row.targetId } : { applied: false }
}

/** The collection's objects named `name`: `$filter` on the name property, or the whole listing where the collection refuses it. */
async function objectsNamed(
  graph: GraphClient,
  ctx: GraphTenantContext,
  entry: PolicyTypeEntry,
  collectionUrl: string,
  name: string,
): Promise<GraphObject[]> {
  const byName = `${entry.nameProperty} eq '${name.replaceAll("'", "''")}'`
  const options = { permission: entry.permission, subject: entry.label }
  const collect = async (filter: string | undefined, keep: (o: GraphObject) => boolean) => {
    const out: GraphObject[] = []
    for await (const page of graph.pagesOf(
      ctx,
      filter ? `${collectionUrl}?$filter=${encodeURIComponent(filter)}` : collectionUrl,
      options,
    ))
      out.push(...page.filter(keep))
    return out
  }
  const named = (o: GraphObject) => o[entry.nameProperty] === name
  try {
    return await collect(entry.listFilter ? `(${entry.listFilter}) and ${byName}` : byName, named)
  } catch (error) {
    if (!(error instanceof GraphError && error.code === 'bad_request')) throw error
    return collect(entry.listFilter, named)
  }
}
