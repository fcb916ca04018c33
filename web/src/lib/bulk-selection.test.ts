import { describe, expect, it } from 'vitest'
import {
  allLoadedSelected,
  EMPTY_SELECTION,
  isEmpty,
  isSelected,
  selectionPayload,
  toggleItem,
  toggleLoaded,
} from './bulk-selection.ts'

describe('bulk selection', () => {
  it('keeps picked rows across pages: loading more rows changes nothing that was picked', () => {
    let s = toggleItem(EMPTY_SELECTION, 'a', ['a', 'b'])
    s = toggleLoaded(s, ['a', 'b'], true)
    expect(allLoadedSelected(s, ['a', 'b'])).toBe(true)
    // A second page arrives: the first page's picks stay, the new rows are not picked.
    expect(allLoadedSelected(s, ['a', 'b', 'c'])).toBe(false)
    s = toggleItem(s, 'c', ['a', 'b', 'c'])
    expect(selectionPayload(s)).toEqual({ item_ids: ['a', 'b', 'c'] })
    s = toggleLoaded(s, ['a', 'b'], false)
    expect(selectionPayload(s)).toEqual({ item_ids: ['c'] })
  })

  it('selects by filter, not by page; unticking a row falls back to the loaded rows without it', () => {
    const s = { kind: 'filter' as const, filter: { type: 'deviceConfiguration', category: null, q: 'Kiosk' } }
    expect(isSelected(s, 'not-loaded-yet')).toBe(true)
    expect(selectionPayload(s)).toEqual({ filter: { type: 'deviceConfiguration', q: 'Kiosk' } })
    const back = toggleItem(s, 'b', ['a', 'b', 'c'])
    expect(selectionPayload(back)).toEqual({ item_ids: ['a', 'c'] })
    expect(isEmpty(toggleLoaded(s, ['a'], false))).toBe(true)
  })
})
