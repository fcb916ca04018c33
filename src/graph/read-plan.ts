import { GROUP_TYPE, itemCollection, type PolicyTypeEntry } from './policy-types.ts'

/**
 * The Graph requests the catalog's strategies need, as relative URLs (`/beta/...`). The
 * client executes them; the benchmark counts them to know the minimum a full read needs.
 */

export type PlannedRead = {
  /** `object` (the per-object read), `assignments`, or a detail name such as `settings`. */
  name: string
  url: string
  /** A sub-collection: follow `@odata.nextLink`. */
  paged: boolean
}

export function listUrl(entry: PolicyTypeEntry, options: { top?: number } = {}): string {
  // A singleton is one GET of its path: no page size, filter or expansion.
  if (entry.singleton) return `/${entry.apiVersion}/${entry.path}`
  const query = new URLSearchParams()
  query.set('$top', String(Math.min(options.top ?? entry.pageSize, entry.pageSize)))
  if (entry.listFilter) query.set('$filter', entry.listFilter)
  const expand = listExpand(entry)
  if (expand.length > 0) query.set('$expand', expand.join(','))
  return `/${entry.apiVersion}/${entry.path}?${query.toString()}`
}

/** What a type's list expands: its assignments where Graph expands them there, and its `via: 'list'` details. */
function listExpand(entry: PolicyTypeEntry): string[] {
  return [
    ...(entry.assignments === 'expand' ? ['assignments'] : []),
    ...entry.details.filter((d) => d.via === 'list').map((d) => (d.query ? `${d.name}(${d.query})` : d.name)),
  ]
}

/**
 * A quick sync's listing (issue 13): ids and lastModifiedDateTime only, no `$expand`, at the
 * type's page size. What changed is then read in full, object by object (objectUrl).
 */
export function quickListUrl(entry: PolicyTypeEntry): string {
  if (entry.singleton) return listUrl(entry)
  const query = new URLSearchParams()
  query.set('$top', String(entry.pageSize))
  if (entry.listFilter) query.set('$filter', entry.listFilter)
  // The property that marks skipped objects (built-ins) too, so they are known without a read.
  const skip = entry.skip && entry.skip.property !== '@odata.type' ? [entry.skip.property] : []
  query.set('$select', ['id', 'lastModifiedDateTime', ...skip].join(','))
  return `/${entry.apiVersion}/${entry.path}?${query.toString()}`
}

/**
 * One object as its list would have served it: with the list's whole `$expand` (assignments and
 * the details read through the list, such as a compliance policy's scheduledActionsForRule), or
 * what a quick sync re-reads would lack them and be stored without.
 */
export function objectUrl(entry: PolicyTypeEntry, item: { id: string; '@odata.type'?: unknown }): string {
  // A singleton is its own path (its inventory id is the catalog's, not a segment of it).
  if (entry.singleton) return `/${entry.apiVersion}/${entry.path}`
  const expand = listExpand(entry)
  const query = expand.length > 0 ? `?$expand=${expand.join(',')}` : ''
  return `/${entry.apiVersion}/${itemCollection(entry, item)}/${encodeURIComponent(item.id)}${query}`
}

export function needsObjectRead(entry: PolicyTypeEntry): boolean {
  return (
    entry.assignments === 'batch' || (entry.listOmits?.length ?? 0) > 0 || entry.details.some((d) => d.via === 'expand')
  )
}

/** The per-object reads for one listed object, in the order the client sends them. */
export function itemReads(entry: PolicyTypeEntry, item: { id: string; '@odata.type'?: unknown }): PlannedRead[] {
  const reads: PlannedRead[] = []
  const id = encodeURIComponent(item.id)
  const base = `/${entry.apiVersion}/${entry.path}/${id}`
  if (needsObjectRead(entry)) {
    const expand = [
      ...(entry.assignments === 'batch' ? ['assignments'] : []),
      ...entry.details.filter((d) => d.via === 'expand').map((d) => d.name),
    ]
    const query = expand.length > 0 ? `?$expand=${expand.join(',')}` : ''
    reads.push({
      name: 'object',
      url: `/${entry.apiVersion}/${itemCollection(entry, item)}/${id}${query}`,
      paged: false,
    })
  }
  if (entry.assignments === 'subresource') reads.push({ name: 'assignments', url: `${base}/assignments`, paged: true })
  for (const detail of entry.details) {
    if (detail.via !== 'subresource') continue
    reads.push({
      name: detail.name,
      url: `${base}/${detail.name}${detail.query ? `?${detail.query}` : ''}`,
      paged: true,
    })
  }
  return reads
}

/** The tenant's Entra groups with the catalog's `$select`, 999 a page (Graph's largest for groups). */
export function groupListUrl(): string {
  return `/${GROUP_TYPE.apiVersion}/${GROUP_TYPE.path}?$select=${GROUP_TYPE.select?.join(',') ?? 'id,displayName'}&$top=999`
}

/** Reads one Entra group by id with the catalog's `$select`. */
export function groupReadUrl(groupId: string): string {
  return `/${GROUP_TYPE.apiVersion}/${GROUP_TYPE.path}/${encodeURIComponent(groupId)}?$select=${GROUP_TYPE.select?.join(',') ?? 'id,displayName'}`
}
