import type { BulkOperationItemRow } from '../../db/schema.ts'
import type { GraphClient, ItemRead } from '../../graph/graph-client.ts'
import { itemCollection, type PolicyTypeEntry } from '../../graph/policy-types.ts'
import type { GraphTenantContext } from '../../graph/tenant-context.ts'
import { afterCreateRequests, assignRequest, createRequest, deleteRequest, maskedSecrets, notWritableReason, sendWrite, type WriteJournal, type WriteOperation, type WriteRequest } from '../../graph/writes/index.ts'
import { normaliseRead } from '../inventory/normalise.ts'
import { type AssignParams, type BulkAction, type DuplicateParams, mergeAssign, mergeScopeTag, mergeUnassign, scopeTagProperty } from './actions.ts'

/**
 * What one bulk action does to one object, on its fresh read: the change merged into what Graph
 * has now, written through the write journal. Journal keys are the inventory item id and the
 * step, stable across attempts: a re-queued run finds what its lost worker wrote (confirmed, or
 * found in Intune's audit log by its marker) and never writes it again.
 */

export type WriteDeps = { graph: GraphClient; ctx: GraphTenantContext; journal: WriteJournal }
export type ItemOutcome = { status: 'succeeded' | 'failed' | 'skipped'; code?: string; message?: string; [key: string]: unknown }
export type ItemWork = {
  action: BulkAction
  params: Record<string, unknown>
  entry: PolicyTypeEntry
  /** The object as Graph has it now; null when Graph no longer has it. */
  read: ItemRead | null
  item: BulkOperationItemRow
}

type Body = Record<string, unknown>

const objectOf = (read: ItemRead): Body => {
  const { assignments: _assignments, ...rest } = { ...read.item, ...read.object } as Body
  return rest
}

export async function actOn(deps: WriteDeps, work: ItemWork): Promise<ItemOutcome> {
  const { entry, item, read } = work
  const key = (step: string) => `${item.itemId}:${work.action}:${step}`
  const write = async (step: string, operation: WriteOperation, request: WriteRequest, targetId: string | null) =>
    deps.journal.writeOnce(key(step), {
      operation,
      policyType: entry.key,
      targetId,
      method: request.method,
      path: request.url,
      send: (marker) => sendWrite(deps.graph, deps.ctx, entry, request, marker, targetId),
    })
  // A write this run journaled for the item before (a lost worker's): settle it, whatever the object looks like now.
  const earlier = await deps.journal.get(key(work.action === 'duplicate' ? 'create' : 'write'))
  if (!read) {
    if (earlier && work.action === 'delete') {
      const outcome = await write('write', 'delete', deleteRequest(entry, item.externalId), item.externalId)
      return { status: 'succeeded', how: outcome.how }
    }
    return { status: 'failed', code: 'not_found', message: `${entry.label} ${item.externalId} no longer exists in the tenant` }
  }
  const object = objectOf(read)
  const id = read.item.id
  const typed = typeof object['@odata.type'] === 'string' ? { '@odata.type': object['@odata.type'] } : {}
  const unchanged = (message: string): ItemOutcome => (earlier ? { status: 'succeeded', how: 'reconciled' } : { status: 'skipped', code: 'unchanged', message })
  const patch = (body: Body): WriteRequest => ({ method: 'PATCH', url: `/${entry.apiVersion}/${itemCollection(entry, object)}/${encodeURIComponent(id)}`, body: { ...typed, ...body }, label: 'update' })

  switch (work.action) {
    case 'assign':
    case 'unassign': {
      const current = (read.assignments ?? []) as Body[]
      const merged = work.action === 'assign' ? mergeAssign(entry, current, work.params as AssignParams) : mergeUnassign(current, work.params.group_id as string)
      if (!merged) return unchanged(work.action === 'assign' ? 'Already assigned so in Graph' : 'The group is not assigned in Graph')
      const request = assignRequest(entry, id, object, merged)!
      const outcome = await write('write', 'assign', request, id)
      return { status: 'succeeded', how: outcome.how, assignments_before: current.length, assignments_after: merged.length }
    }
    case 'add_scope_tag':
    case 'remove_scope_tag': {
      const tags = mergeScopeTag(object, work.params.scope_tag_id as string, work.action === 'add_scope_tag')
      if (!tags) return unchanged(work.action === 'add_scope_tag' ? 'Already has the scope tag in Graph' : 'Does not have the scope tag in Graph')
      const outcome = await write('write', 'update', patch({ [scopeTagProperty(entry) ?? 'roleScopeTagIds']: tags }), id)
      return { status: 'succeeded', how: outcome.how, scope_tags: tags }
    }
    case 'rename': {
      // The name the preview showed (planned from the same rule): the preview is the result, and writing it twice changes nothing.
      const name = typeof item.result?.planned_name === 'string' ? item.result.planned_name : null
      if (!name) return { status: 'failed', code: 'unexpected_error', message: 'No planned name' }
      if (object[entry.nameProperty] === name) return unchanged('Already named so in Graph')
      const outcome = await write('write', 'update', patch({ [entry.nameProperty]: name }), id)
      return { status: 'succeeded', how: outcome.how, name }
    }
    case 'duplicate': {
      const params = work.params as DuplicateParams
      const name = typeof item.result?.planned_name === 'string' ? item.result.planned_name : `${item.displayName}${params.name_suffix}`
      const content = normaliseRead(entry, read)
      const payload = { ...content.payload, [entry.nameProperty]: name }
      const refused = notWritableReason(entry, payload)
      if (refused) return { status: 'skipped', code: 'unsupported_type', message: refused }
      const masked = maskedSecrets(payload)
      if (masked.length > 0) return { status: 'failed', code: 'write_refused', message: `Holds secrets Graph returns masked (${masked.slice(0, 3).join(', ')}): copy it by hand with the secret values` }
      const created = await write('create', 'create', createRequest(entry, { payload, assignments: [] }), null)
      const newId = created.targetId
      if (!newId) return { status: 'failed', code: 'write_refused', message: 'Graph did not name the copy it created' }
      for (const [i, request] of afterCreateRequests(entry, newId, { payload, assignments: [] }).entries()) await write(`after-create-${i}`, 'action', request, newId)
      if (params.with_assignments && content.assignments.length > 0) {
        const request = assignRequest(entry, newId, payload, content.assignments)
        if (request) await write('assign-copy', 'assign', request, newId)
      }
      return { status: 'succeeded', how: created.how, new_id: newId, name }
    }
    case 'delete': {
      const outcome = await write('write', 'delete', deleteRequest(entry, id, object), id)
      return { status: 'succeeded', how: outcome.how }
    }
  }
}

