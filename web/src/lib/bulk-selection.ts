/**
 * The inventory's selection for bulk operations (issue 16): picked rows by id — kept across
 * pages and filters — or everything a filter matches, chosen by the filter itself so it needs
 * no page to be loaded; the server freezes what the filter matches when the run starts.
 */
export type BulkFilter = { type: string | null; category: string | null; q: string | null }

export type BulkSelection = { kind: 'items'; ids: ReadonlySet<string> } | { kind: 'filter'; filter: BulkFilter }

export const EMPTY_SELECTION: BulkSelection = { kind: 'items', ids: new Set() }

export const isEmpty = (s: BulkSelection) => s.kind === 'items' && s.ids.size === 0

export const isSelected = (s: BulkSelection, id: string) => s.kind === 'filter' || s.ids.has(id)

/** A row's checkbox: in a filter selection every row is in; unticking one falls back to the rows loaded, without it. */
export function toggleItem(s: BulkSelection, id: string, loaded: readonly string[]): BulkSelection {
  if (s.kind === 'filter') return { kind: 'items', ids: new Set(loaded.filter((x) => x !== id)) }
  const ids = new Set(s.ids)
  if (ids.has(id)) ids.delete(id)
  else ids.add(id)
  return { kind: 'items', ids }
}

/** The header checkbox: every loaded row in, or out. */
export function toggleLoaded(s: BulkSelection, loaded: readonly string[], checked: boolean): BulkSelection {
  if (s.kind === 'filter') return checked ? s : EMPTY_SELECTION
  const ids = new Set(s.ids)
  for (const id of loaded) {
    if (checked) ids.add(id)
    else ids.delete(id)
  }
  return { kind: 'items', ids }
}

export const allLoadedSelected = (s: BulkSelection, loaded: readonly string[]) =>
  loaded.length > 0 && loaded.every((id) => isSelected(s, id))

/** What the API takes: `item_ids` or `filter`. */
export function selectionPayload(
  s: BulkSelection,
): { item_ids: string[] } | { filter: { type?: string; category?: string; q?: string } } {
  if (s.kind === 'items') return { item_ids: [...s.ids].sort() }
  const { type, category, q } = s.filter
  return { filter: { ...(type ? { type } : {}), ...(category ? { category } : {}), ...(q ? { q } : {}) } }
}

export const sameFilter = (a: BulkFilter, b: BulkFilter) =>
  a.type === b.type && a.category === b.category && a.q === b.q
