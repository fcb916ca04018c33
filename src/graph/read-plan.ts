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
  const expand = [
    ...(entry.assignments === 'expand' ? ['assignments'] : []),
    ...entry.details.filter((d) => d.via === 'list').map((d) => (d.query ? `${d.name}(${d.query})` : d.name)),
  ]
  if (expand.length > 0) query.set('$expand', expand.join(','))
  return `/${entry.apiVersion}/${entry.path}?${query.toString()}`
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
  query.set('$select', 'id,lastModifiedDateTime')
  return `/${entry.apiVersion}/${entry.path}?${query.toString()}`
}

/** One object as its list would have served it (with the list's `$expand=assignments`). */
export function objectUrl(entry: PolicyTypeEntry, item: { id: string; '@odata.type'?: unknown }): string {
  const expand = entry.assignments === 'expand' ? '?$expand=assignments' : ''
  return `/${entry.apiVersion}/${itemCollection(entry, item)}/${encodeURIComponent(item.id)}${expand}`
}

export function needsObjectRead(entry: PolicyTypeEntry): boolean {
  return entry.assignments === 'batch' || (entry.listOmits?.length ?? 0) > 0 || entry.details.some((d) => d.via === 'expand')
}

/** The per-object reads for one listed object, in the order the client sends them. */
export function itemReads(entry: PolicyTypeEntry, item: { id: string; '@odata.type'?: unknown }): PlannedRead[] {
  const reads: PlannedRead[] = []
  const id = encodeURIComponent(item.id)
  const base = `/${entry.apiVersion}/${entry.path}/${id}`
  if (needsObjectRead(entry)) {
    const expand = [...(entry.assignments === 'batch' ? ['assignments'] : []), ...entry.details.filter((d) => d.via === 'expand').map((d) => d.name)]
    const query = expand.length > 0 ? `?$expand=${expand.join(',')}` : ''
    reads.push({ name: 'object', url: `/${entry.apiVersion}/${itemCollection(entry, item)}/${id}${query}`, paged: false })
  }
  if (entry.assignments === 'subresource') reads.push({ name: 'assignments', url: `${base}/assignments`, paged: true })
  for (const detail of entry.details) {
    if (detail.via !== 'subresource') continue
    reads.push({ name: detail.name, url: `${base}/${detail.name}${detail.query ? `?${detail.query}` : ''}`, paged: true })
  }
  return reads
}

/** Reads one Entra group by id with the catalog's `$select`. */
export function groupReadUrl(groupId: string): string {
  return `/${GROUP_TYPE.apiVersion}/${GROUP_TYPE.path}/${encodeURIComponent(groupId)}?$select=${GROUP_TYPE.select?.join(',') ?? 'id,displayName'}`
}
