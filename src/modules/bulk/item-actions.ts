import { createHash } from 'node:crypto'
import type { BulkOperationItemRow, GraphWriteRow } from '../../db/schema.ts'
import { itemCollection, type PolicyTypeEntry } from '../../graph/policy-types.ts'
import {
  afterCreateRequests,
  assignRequest,
  createRequest,
  deleteRequest,
  maskedSecrets,
  notWritableReason,
  type ObjectContent,
  type WriteOperation,
  type WriteRequest,
} from '../../graph/writes/index.ts'
import { canonicalJson } from '../../lib/canonical.ts'
import type { NormalisedItem } from '../inventory/normalise.ts'
import { orphanedGroupIds } from '../inventory/store.ts'
import { writeObject, type TenantSession } from '../tenant-objects/pipeline.ts'
import {
  type AssignParams,
  type BulkAction,
  type DuplicateParams,
  mergeAssign,
  mergeScopeTag,
  mergeUnassign,
  scopeTagProperty,
} from './actions.ts'

/**
 * What one bulk action does to one object, on its fresh read: the change merged into what Graph
 * has now, written through the tenant-object pipeline (the journal with its content check, the
 * inventory mirrored with the confirmation). Journal keys are the inventory item id, the action
 * and the step, stable across attempts: a re-queued run finds what its lost worker wrote
 * (confirmed, or found in Graph by its marker or its content) and never writes it again.
 *
 * Across runs (ADR 023), a write's intent is the item, the action, the step and the content it
 * sends (a digest of the request body): the same selection and action started again has the same
 * intents, so it settles an earlier run's unanswered sends before sending (repeatable intents),
 * and a copy an earlier duplicate made is adopted rather than made twice. A different content
 * (another name, another group) is another intent.
 */

export type ItemOutcome = {
  status: 'succeeded' | 'failed' | 'skipped'
  code?: string
  message?: string
  [key: string]: unknown
}
export type ItemWork = {
  action: BulkAction
  params: Record<string, unknown>
  entry: PolicyTypeEntry
  /** The object as Graph has it now (normalised as a full read); null when Graph no longer has it. */
  read: NormalisedItem | null
  item: BulkOperationItemRow
}

type Body = Record<string, unknown>

/**
 * Assignments without those to groups the sync found deleted: Graph refuses an assignment to a
 * group the tenant does not have ("Invalid GroupId … a valid AADGroupId is expected"), so an
 * /assign that re-sends the object's set (or a copy's) leaves them out and says so.
 */
async function withoutDeletedGroups(
  session: TenantSession,
  assignments: readonly Body[],
): Promise<{ kept: Body[]; note: string | undefined }> {
  const groupOf = (a: Body) => (a.target as Body | undefined)?.groupId
  const ids = [...new Set(assignments.map(groupOf).filter((g): g is string => typeof g === 'string'))]
  const deleted = await orphanedGroupIds(session.run.db, session.ctx.tenantKey, ids)
  if (deleted.size === 0) return { kept: [...assignments], note: undefined }
  const kept = assignments.filter((a) => !deleted.has(groupOf(a) as string))
  const note = `Assignment to group ${[...deleted].join(', ')} left out: the group no longer exists in the tenant`
  return { kept, note }
}

export async function actOn(session: TenantSession, work: ItemWork): Promise<ItemOutcome> {
  const { entry, item, read } = work
  const key = (step: string) => `${item.itemId}:${work.action}:${step}`
  const intent = (step: string, request: WriteRequest) => bulkIntent(item.itemId, work.action, step, request)
  const write = async (
    step: string,
    operation: WriteOperation,
    request: WriteRequest,
    targetId: string | null,
    content: ObjectContent,
    mirror = true,
  ) =>
    writeObject(session, {
      key: key(step),
      intent: intent(step, request),
      repeatable: true,
      entry,
      operation,
      request,
      targetId,
      content,
      mirror,
    })
  // A write this run journaled for the item before (a lost worker's): settle it, whatever the object looks like now.
  const earlier = await session.journal.get(key(work.action === 'duplicate' ? 'create' : 'write'))
  /** This run's earlier row, or an earlier run's unanswered send of the same change (its intent). */
  const pending = async (request: WriteRequest): Promise<GraphWriteRow | undefined> => {
    if (earlier) return earlier
    const row = await session.journal.byIntent(intent('write', request))
    return row?.state === 'intended' && row.attempts > 0 ? row : undefined
  }
  if (!read) {
    const gone = deleteRequest(entry, item.externalId)
    if (work.action === 'delete' && (await pending(gone))) {
      const outcome = await write('write', 'delete', gone, item.externalId, { payload: {}, assignments: [] })
      return { status: 'succeeded', how: outcome.how }
    }
    return {
      status: 'failed',
      code: 'not_found',
      message: `${entry.label} ${item.externalId} no longer exists in the tenant`,
    }
  }
  const object = read.payload
  const id = read.externalId
  const typed = typeof object['@odata.type'] === 'string' ? { '@odata.type': object['@odata.type'] } : {}
  /**
   * Graph already holds the change. A send of it that was never settled (this run's lost
   * worker's, or an earlier run's) is settled now — the request is what the object holds, so the
   * content check confirms it and mirrors the object without sending —; else nothing to do.
   */
  const unchanged = async (
    message: string,
    operation: WriteOperation,
    request: WriteRequest,
    content: ObjectContent,
  ): Promise<ItemOutcome> => {
    const row = await pending(request)
    if (!row) return { status: 'skipped', code: 'unchanged', message }
    if (row.state !== 'intended') return { status: 'succeeded', how: 'reconciled' }
    const outcome = await write('write', operation, request, id, content)
    return { status: 'succeeded', how: outcome.how }
  }
  const patch = (body: Body): WriteRequest => ({
    method: 'PATCH',
    url: `/${entry.apiVersion}/${itemCollection(entry, object)}/${encodeURIComponent(id)}`,
    body: { ...typed, ...body },
    label: 'update',
  })

  switch (work.action) {
    case 'assign':
    case 'unassign': {
      const current = read.assignments
      const changed =
        work.action === 'assign'
          ? mergeAssign(entry, current, work.params as AssignParams)
          : mergeUnassign(current, work.params.group_id as string)
      if (!changed)
        return unchanged(
          work.action === 'assign' ? 'Already assigned so in Graph' : 'The group is not assigned in Graph',
          'assign',
          assignRequest(entry, id, object, current)!,
          { payload: object, assignments: current },
        )
      const { kept: merged, note } = await withoutDeletedGroups(session, changed)
      const request = assignRequest(entry, id, object, merged)!
      const outcome = await write('write', 'assign', request, id, { payload: object, assignments: merged })
      return {
        status: 'succeeded',
        how: outcome.how,
        assignments_before: current.length,
        assignments_after: merged.length,
        ...(note ? { message: note } : {}),
      }
    }
    case 'add_scope_tag':
    case 'remove_scope_tag': {
      const tags = mergeScopeTag(object, work.params.scope_tag_id as string, work.action === 'add_scope_tag')
      const property = scopeTagProperty(entry) ?? 'roleScopeTagIds'
      if (!tags)
        return unchanged(
          work.action === 'add_scope_tag'
            ? 'Already has the scope tag in Graph'
            : 'Does not have the scope tag in Graph',
          'update',
          patch({ [property]: object[property] }),
          { payload: object, assignments: read.assignments },
        )
      const outcome = await write('write', 'update', patch({ [property]: tags }), id, {
        payload: { ...object, [property]: tags },
        assignments: read.assignments,
      })
      return { status: 'succeeded', how: outcome.how, scope_tags: tags }
    }
    case 'rename': {
      // The name the preview showed (planned from the same rule): the preview is the result, and writing it twice changes nothing.
      const name = typeof item.result?.planned_name === 'string' ? item.result.planned_name : null
      if (!name) return { status: 'failed', code: 'unexpected_error', message: 'No planned name' }
      if (object[entry.nameProperty] === name)
        return unchanged('Already named so in Graph', 'update', patch({ [entry.nameProperty]: name }), {
          payload: object,
          assignments: read.assignments,
        })
      const outcome = await write('write', 'update', patch({ [entry.nameProperty]: name }), id, {
        payload: { ...object, [entry.nameProperty]: name },
        assignments: read.assignments,
      })
      return { status: 'succeeded', how: outcome.how, name }
    }
    case 'duplicate': {
      const params = work.params as DuplicateParams
      const name =
        typeof item.result?.planned_name === 'string'
          ? item.result.planned_name
          : `${item.displayName}${params.name_suffix}`
      const payload = { ...read.payload, [entry.nameProperty]: name }
      const refused = notWritableReason(entry, payload)
      if (refused) return { status: 'skipped', code: 'unsupported_type', message: refused }
      const masked = maskedSecrets(payload)
      if (masked.length > 0)
        return {
          status: 'failed',
          code: 'write_refused',
          message: `Holds secrets Graph returns masked (${masked.slice(0, 3).join(', ')}): copy it by hand with the secret values`,
        }
      const bare: ObjectContent = { payload, assignments: [] }
      const after = afterCreateRequests(entry, 'new', bare)
      const { kept: copied, note } = await withoutDeletedGroups(session, read.assignments)
      const assigns = params.with_assignments && copied.length > 0 && entry.assignments !== null
      // The copy's last write mirrors it in the inventory.
      const created = await write(
        'create',
        'create',
        createRequest(entry, bare),
        null,
        bare,
        after.length === 0 && !assigns,
      )
      const newId = created.targetId
      if (!newId) return { status: 'failed', code: 'write_refused', message: 'Graph did not name the copy it created' }
      const requests = afterCreateRequests(entry, newId, bare)
      for (const [i, request] of requests.entries())
        await write(`after-create-${i}`, 'action', request, newId, bare, i === requests.length - 1 && !assigns)
      if (assigns) {
        const request = assignRequest(entry, newId, payload, copied)
        if (request) await write('assign-copy', 'assign', request, newId, { payload, assignments: copied })
      }
      return {
        status: 'succeeded',
        how: created.how,
        new_id: newId,
        name,
        ...(params.with_assignments && note ? { message: note } : {}),
      }
    }
    case 'delete': {
      const outcome = await write('write', 'delete', deleteRequest(entry, id, object), id, {
        payload: object,
        assignments: [],
      })
      return { status: 'succeeded', how: outcome.how }
    }
  }
}

/**
 * A bulk write's intent across runs: the item, the action, the step and a digest of the body it
 * sends. The same selection and action started again (or re-run) has the same intents; another
 * content is another intent.
 */
export function bulkIntent(itemId: string, action: BulkAction, step: string, request: WriteRequest): string {
  const digest = createHash('sha256')
    .update(canonicalJson(request.body ?? null))
    .digest('hex')
    .slice(0, 32)
  return `bulk:${itemId}:${action}:${step}:${digest}`
}
